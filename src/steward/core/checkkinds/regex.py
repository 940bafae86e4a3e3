"""``regex``: every non-NULL value (as text) matches a pattern."""

from __future__ import annotations

import re
from typing import Any

from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import Scope, arg, row_level


def _compiles(v: str) -> str:
    try:
        re.compile(v)
    except re.error as e:
        raise ValueError(f"regex does not compile: {e}") from None
    return v


def _failing(check: Any, q: Scope) -> Any:
    from sqlglot import exp

    return exp.Not(this=q.func("regexp_matches", q.as_text(q.col(check.column)),
                               q.lit(check.pattern)))


def _to_odcs(check: Any, column: str | None, _q: odcs.OdcsScope) -> dict[str, Any]:
    return odcs.library("invalidValues", "conformity", arguments={"pattern": check.pattern},
                        **odcs.tolerance(check))


def _from_odcs(rule: dict[str, Any], column: str | None) -> dict[str, Any] | None:
    args = odcs.arguments(rule)
    if not (column and odcs.is_library(rule, "invalidValues") and "pattern" in args
            and "validValues" not in args):  # (both: accepted values)
        return None
    return {"type": "regex", "column": column, "pattern": args["pattern"],
            **odcs.from_tolerance(rule)}


KIND = row_level(("regex",), "Regex", {"column": arg(str), "pattern": arg(str)}, _failing,
                 field_checks={"pattern": _compiles}, shorthand="pattern",
                 to_odcs=_to_odcs, from_odcs=_from_odcs,
                 example={"type": "regex", "column": "email", "pattern": "^[^@]+@[^@]+$"})
