"""Column type names as DuckDB knows them: a declared type checked when the project loads.

Plain Python (no sqlglot, no DuckDB): the first word of a declared type must name a
DuckDB type, what follows it may only be the words of the SQL-standard spellings
(``DOUBLE PRECISION``, ``TIMESTAMP WITH TIME ZONE``), parameters in balanced parentheses
(``DECIMAL(10, 2)``, ``STRUCT(a INT)``) and array brackets (``INT[]``). The parameters of
nested types are DuckDB's to judge when the product builds.
"""

from __future__ import annotations

import difflib
import re

# SELECT DISTINCT type_name FROM duckdb_types() (DuckDB 1.1 to 1.4), and the first words
# of the SQL-standard spellings DuckDB also accepts
TYPE_NAMES = frozenset({
    "ARRAY", "BIGINT", "BIGNUM", "BINARY", "BIT", "BITSTRING", "BLOB", "BOOL", "BOOLEAN", "BPCHAR",
    "BYTEA", "CHAR", "DATE", "DATETIME", "DEC", "DECIMAL", "DOUBLE", "ENUM", "FLOAT", "FLOAT4",
    "FLOAT8", "GEOMETRY", "GUID", "HUGEINT", "INT", "INT1", "INT128", "INT16", "INT2", "INT32",
    "INT4", "INT64", "INT8", "INTEGER", "INTEGRAL", "INTERVAL", "JSON", "LIST", "LOGICAL", "LONG",
    "MAP", "NUMERIC", "NVARCHAR", "OID", "REAL", "ROW", "SHORT", "SIGNED", "SMALLINT", "STRING",
    "STRUCT", "TEXT", "TIME", "TIMESTAMP", "TIMESTAMPTZ", "TIMESTAMPTZ_NS", "TIMESTAMP_MS",
    "TIMESTAMP_NS", "TIMESTAMP_S", "TIMESTAMP_US", "TIMETZ", "TIME_NS", "TINYINT", "UBIGINT",
    "UHUGEINT", "UINT128", "UINT16", "UINT32", "UINT64", "UINT8", "UINTEGER", "UNION", "USMALLINT",
    "UTINYINT", "UUID", "VARBINARY", "VARCHAR", "VARIANT", "VARINT", "CHARACTER", "NATIONAL",
    "NCHAR"
})
# words that may follow the first in a standard spelling
_MORE_WORDS = frozenset({
    "PRECISION", "VARYING", "CHARACTER", "WITH", "WITHOUT", "TIME", "ZONE", "YEAR", "MONTH", "DAY",
    "HOUR", "MINUTE", "SECOND", "TO"
})
_TEXT = frozenset({"VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "NVARCHAR", "CHARACTER",
                   "NCHAR", "NATIONAL"})
_WORD = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*)")


def type_problem(text: str) -> tuple[str, str] | None:
    """(what is wrong, a hint) when ``text`` is not a type DuckDB can know; else None."""
    m = _WORD.match(text)
    if not m:
        return f"{text!r} is not a type name", "write a DuckDB type such as VARCHAR or BIGINT"
    first = m.group(1).upper()
    if first not in TYPE_NAMES:
        close = difflib.get_close_matches(first, sorted(TYPE_NAMES), n=1)
        return (f"unknown type {text!r}",
                f"did you mean '{close[0]}'?" if close else
                "write a DuckDB type such as VARCHAR, BIGINT, DOUBLE, DATE or TIMESTAMP")
    rest = text[m.end():]
    depth = 0
    i = 0
    while i < len(rest):
        ch = rest[i]
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
            if depth < 0:
                return f"type {text!r} has an unmatched {ch!r}", "check the brackets"
        elif depth == 0 and (ch.isalpha() or ch == "_"):
            w = _WORD.match(rest, i)
            word = w.group(1).upper() if w else ch
            if word not in _MORE_WORDS:
                hint = ("nullability is declared apart: nullable: false" if word == "NOT"
                        or word == "NULL" else "a column's type is one DuckDB type")
                return f"unknown type {text!r} ({word!r} is not part of a type)", hint
            i = w.end() if w else i + 1
            continue
        i += 1
    if depth:
        return f"type {text!r} has an unclosed bracket", "check the brackets"
    return None


def is_text(text: str | None) -> bool:
    """True when a declared type is a character type (its values compare as text)."""
    m = _WORD.match(text or "")
    return m is not None and m.group(1).upper() in _TEXT
