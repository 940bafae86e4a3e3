"""The SQL a check holds: an ``expression`` predicate, or a ``sql`` query over ``{{ this }}``.

The loader checks it when the project loads and the quality gate compiles it when a
version is checked, through the same functions, so both say the same about it.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, cast

from steward.sql.parse import DIALECT

if TYPE_CHECKING:  # sqlglot is imported only when a check's SQL is parsed
    from sqlglot import exp

THIS = "__steward_this__"  # what ``{{ this }}`` stands for while the query is parsed
_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.S)
_EXPRESSION_HINT = ("an expression is a row-level predicate every row must satisfy, "
                    "e.g. 'arr_time >= dep_time'")
_QUERY_HINT = ("a 'sql' check is a SELECT returning the failing rows, e.g. "
               "'select * from {{ this }} where amount < 0'")


class CheckSqlError(ValueError):
    """A check's SQL that cannot run: what is wrong, and a hint."""

    def __init__(self, message: str, hint: str):
        super().__init__(f"{message}; {hint}")
        self.message, self.hint = message, hint


def unknown_placeholders(text: str) -> list[str]:
    """The ``{{ ... }}`` placeholders in ``text`` other than ``{{ this }}``, as written."""
    return [m.group(0) for m in _PLACEHOLDER.finditer(text) if m.group(1).strip() != "this"]


def bind_this(text: str) -> str:
    """``text`` with ``{{ this }}`` replaced by :data:`THIS`, the trailing ``;`` dropped."""
    return _PLACEHOLDER.sub(lambda m: THIS if m.group(1).strip() == "this" else m.group(0),
                            text).strip().rstrip(";")


def parse_predicate(text: str) -> exp.Expr:
    """An ``expression`` check's predicate as a tree; raises :class:`CheckSqlError`."""
    import sqlglot
    from sqlglot import exp

    if _PLACEHOLDER.search(text):
        raise CheckSqlError(f"{text!r} holds a placeholder; placeholders are for 'sql' checks",
                            _EXPRESSION_HINT)
    try:
        tree = sqlglot.parse_one(text, read=DIALECT)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as e:
        raise CheckSqlError(f"SQL syntax error in {text!r}: {_describe(e)}",
                            _EXPRESSION_HINT) from None
    if isinstance(tree, exp.Query):
        raise CheckSqlError(f"{text!r} is a query, not a row-level predicate",
                            "write a predicate (e.g. 'amount >= 0'), or use a 'sql' check "
                            "for a query returning failing rows")
    return cast("exp.Expr", tree)


def parse_check_query(text: str) -> exp.Query:
    """A ``sql`` check's query as a tree, ``{{ this }}`` read as :data:`THIS`; raises
    :class:`CheckSqlError`."""
    import difflib

    import sqlglot
    from sqlglot import exp

    unknown = unknown_placeholders(text)
    if unknown:
        close = difflib.get_close_matches(unknown[0], ["{{ this }}"], n=1, cutoff=0.3)
        raise CheckSqlError(
            f"unknown placeholder {unknown[0]!r}",
            (f"did you mean '{close[0]}'? " if close else "")
            + "{{ this }} (the version being checked) is the only placeholder",
        )
    try:
        tree = sqlglot.parse_one(bind_this(text), read=DIALECT)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as e:
        raise CheckSqlError(f"SQL syntax error: {_describe(e)}", _QUERY_HINT) from None
    if not isinstance(tree, exp.Query):
        raise CheckSqlError(f"the query is a {tree.key.upper()} statement", _QUERY_HINT)
    return tree


def _describe(e: Exception) -> str:
    """sqlglot's complaint, in words about the text rather than its syntax tree classes."""
    errors = getattr(e, "errors", None) or [{}]
    first = errors[0]
    desc = str(first.get("description") or str(e).splitlines()[0])
    near = first.get("highlight")
    if desc.startswith("Required keyword"):
        return f"something is missing after '{near}'" if near else "something is missing"
    if desc.startswith("Invalid expression / Unexpected token"):
        return f"unexpected '{near}'" if near else "unexpected text"
    return desc + (f" near '{near}'" if near else "")
