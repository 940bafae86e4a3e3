"""``length``: the text length of every non-NULL value within ``min``/``max``."""

from __future__ import annotations

from typing import Any

from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import CompileError, Scope, arg, row_level


def _failing(check: Any, q: Scope) -> Any:
    from sqlglot import exp

    n = q.func("length", q.as_text(q.col(check.column)))
    parts: list[Any] = []
    if check.min is not None:
        parts.append(exp.LT(this=n.copy(), expression=q.lit(check.min)))
    if check.max is not None:
        parts.append(exp.GT(this=n.copy(), expression=q.lit(check.max)))
    if not parts:
        raise CompileError("length needs 'min' or 'max'")
    return exp.or_(*parts)


KIND = row_level(("length",), "Length",
                 {"column": arg(str), "min": arg(int | None, None, ge=0),
                  "max": arg(int | None, None, ge=0)},
                 _failing, bounded=True,
                 to_odcs=odcs.failing_rows,
                 example={"type": "length", "column": "code", "min": 2, "max": 8})
