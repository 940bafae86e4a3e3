"""``regex``: every non-NULL value (as text) matches a pattern."""

from __future__ import annotations

import re
from typing import Any

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


KIND = row_level(("regex",), "Regex", {"column": arg(str), "pattern": arg(str)}, _failing,
                 field_checks={"pattern": _compiles}, shorthand="pattern",
                 example={"type": "regex", "column": "email", "pattern": "^[^@]+@[^@]+$"})
