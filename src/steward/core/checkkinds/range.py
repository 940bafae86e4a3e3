"""``range``: values within ``min``/``max`` (each inclusive unless told)."""

from __future__ import annotations

from typing import Any

from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import Scope, arg, row_level


def _validate(check: Any) -> None:
    if check.min is None and check.max is None:
        raise ValueError("range needs 'min' or 'max'")


def _failing(check: Any, q: Scope) -> Any:
    from sqlglot import exp

    parts: list[Any] = []
    c = q.col(check.column)
    if check.min is not None:
        parts.append((exp.LT if check.min_inclusive else exp.LTE)(
            this=c.copy(), expression=q.lit(check.min)))
    if check.max is not None:
        parts.append((exp.GT if check.max_inclusive else exp.GTE)(
            this=c.copy(), expression=q.lit(check.max)))
    return exp.or_(*parts)


KIND = row_level(("range",), "Range",
                 {"column": arg(str), "min": arg(Any, None), "max": arg(Any, None),
                  "min_inclusive": arg(bool, True), "max_inclusive": arg(bool, True)},
                 _failing, validate=_validate, bounded=True,
                 to_odcs=odcs.failing_rows,
                 example={"type": "range", "column": "amount", "min": 0, "max": 100,
                          "max_inclusive": False})
