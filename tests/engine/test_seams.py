"""The engine is the only compute seam: no other layer holds a DuckDB connection, and one
place names Steward's SQL dialect."""

from __future__ import annotations

import re
from pathlib import Path

import steward

SRC = Path(steward.__file__).parent


def _modules(outside: str) -> list[Path]:
    return [p for p in SRC.rglob("*.py") if outside not in p.relative_to(SRC).parts[:1]]


def test_no_module_outside_engine_takes_a_connection_from_the_engine():
    offenders = [str(p.relative_to(SRC)) for p in _modules("engine")
                 if re.search(r"engine\(?\)?\.connection\(\)|\.connection\(\)\.execute",
                              p.read_text())]
    assert offenders == []


def test_one_place_names_the_dialect():
    hits = {str(p.relative_to(SRC)) for p in _modules("engine")
            if re.search(r"""DIALECT\s*=\s*["']""", p.read_text())
            or re.search(r"""dialect\s*=\s*["']duckdb["']""", p.read_text())}
    # Steward's dialect, what models are written in; the engines translate from it
    assert hits == {"sql/parse.py"}, hits


def test_the_engine_answers_queries_in_steward_dialect(tmp_path):
    from steward.core.spec import EngineSpec
    from steward.engine.duckdb import DuckDBEngine

    engine = DuckDBEngine(EngineSpec(), str(tmp_path))
    out = str(tmp_path / "t.parquet")
    assert engine.copy("SELECT range AS x FROM range(5)", out) == 5
    scan = f"read_parquet(['{out}'])"
    assert engine.first(f"SELECT sum(x) FROM {scan}") == (10,)
    assert engine.record(f"SELECT count(*) AS n, max(x) AS m FROM {scan}") == {"n": 5, "m": 4}
    assert engine.rows(f"SELECT x FROM {scan} WHERE x < 2 ORDER BY x") == [(0,), (1,)]
    assert engine.arrow(f"SELECT x FROM {scan}").num_rows == 5
    assert engine.columns(f"SELECT x, 'a' AS s FROM {scan}") == [("x", "BIGINT"),
                                                                ("s", "VARCHAR")]
    with engine.materialized(f"SELECT x FROM {scan} WHERE x > 2") as t:
        assert engine.first(f"SELECT count(*) FROM {t}") == (2,)
    assert not engine.rows("SELECT table_name FROM duckdb_tables() "
                           "WHERE table_name LIKE 'steward_tmp_%'")
