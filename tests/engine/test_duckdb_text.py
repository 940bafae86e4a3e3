"""DuckDB SQL text: literals read back as the strings they were made from."""

from __future__ import annotations

import duckdb
import pytest
from sqlglot import exp

from steward.engine.duckdb_text import lit, sql_list

STRINGS = ["plain", "it's", "''", "a\\b", "a\\'b", "tab\there", "new\nline", "ümlaut €",
           "/data/v1/part-0.parquet", "x' ; DROP TABLE t; --", "$$dollar$$", "\"double\"", ""]


@pytest.mark.parametrize("value", STRINGS)
def test_literal_reads_back_as_the_same_string(value: str) -> None:
    assert duckdb.connect().execute(f"SELECT {lit(value)}").fetchone() == (value,)
    # the same text sqlglot's DuckDB generator writes
    assert lit(value) == exp.Literal.string(value).sql(dialect="duckdb")


def test_list_of_paths_reads_back() -> None:
    assert duckdb.connect().execute(f"SELECT {sql_list(STRINGS)}").fetchone() == (STRINGS,)
