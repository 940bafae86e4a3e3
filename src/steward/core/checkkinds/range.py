"""``range``: values within ``min``/``max`` (each inclusive unless told)."""

from __future__ import annotations

from typing import Any

from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import DbtTest, Scope, arg, row_level


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


def _from_dbt(test: DbtTest) -> dict[str, Any]:
    check: dict[str, Any] = {"type": "range", "column": test.column()}
    inclusive = test.args.get("inclusive", True)
    if test.args.get("min_value") is not None:
        check.update(min=test.args["min_value"], min_inclusive=inclusive)
    if test.args.get("max_value") is not None:
        check.update(max=test.args["max_value"], max_inclusive=inclusive)
    return check


KIND = row_level(("range",), "Range",
                 {"column": arg(str), "min": arg(Any, None), "max": arg(Any, None),
                  "min_inclusive": arg(bool, True), "max_inclusive": arg(bool, True)},
                 _failing, validate=_validate, bounded=True,
                 to_odcs=odcs.failing_rows,
                 from_dbt={"dbt_utils.accepted_range": _from_dbt},
                 example={"type": "range", "column": "amount", "min": 0, "max": 100,
                          "max_inclusive": False})
