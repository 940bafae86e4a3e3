"""SQL literals written as text: the one place a value is quoted into a statement.

Standard SQL string literals: single quotes doubled, nothing else escaped, as sqlglot's
DuckDB generator writes them (tests/engine/test_duckdb_text.py compares the two); the
text costs far less than a sqlglot tree per value (a build splices one per input file).
"""

from __future__ import annotations

from typing import Any


def sql_string(value: object) -> str:
    """``value`` as a SQL string literal."""
    return "'" + str(value).replace("'", "''") + "'"


def sql_value(value: Any) -> str:
    """A boolean, number or (otherwise) string as a SQL literal."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return sql_string(value)
