"""Statistics: an aggregate of one column (mean, stddev, quantile, distinct count, NULL
fraction, min, max, sum) that must fall within ``min``/``max``."""

from __future__ import annotations

from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds.base import Compiled, Judging, Kind, Scope, arg, bounds, rows_of

NAMES = ("mean", "stddev", "quantile", "distinct_count", "null_fraction", "min", "max", "sum")
_FUNCS = {"mean": "avg", "stddev": "stddev_samp", "min": "min", "max": "max", "sum": "sum"}


def _validate(check: Any) -> None:
    if check.type == "quantile" and check.q is None:
        raise ValueError("quantile needs 'q' (e.g. 0.95)")
    if check.min is None and check.max is None:
        raise ValueError(f"{check.type} needs 'min' or 'max'")


def _compile(check: Any, out: Compiled, q: Scope) -> None:
    from sqlglot import exp

    t = check.type
    c = q.col(check.column)
    if t == "quantile":
        agg: Any = q.func("quantile_cont", c, q.lit(check.q))
    elif t == "distinct_count":
        agg = exp.Count(this=exp.Distinct(expressions=[c]))
    elif t == "null_fraction":
        agg = exp.CountIf(this=c.is_(exp.null()))
    else:
        agg = q.func(_FUNCS[t], c)
    out.add("value", agg)


def _judge(comp: Compiled, values: dict[str, Any], _run: Judging) -> CheckResult:
    check, t = comp.check, comp.type
    rows = rows_of(values)
    value = comp.value(values, "value")
    if t == "null_fraction":
        value = (int(value or 0) / rows) if rows else 0.0
    what = f"{t}({check.column}" + (f", q={check.q}" if t == "quantile" else "") + ")"
    return bounds(check, comp.name, value, check.min, check.max, rows, what, check.column)


KIND = Kind(NAMES, "Statistic",
            {"column": arg(str), "q": arg(float | None, None, ge=0, le=1),
             "min": arg(float | None, None), "max": arg(float | None, None)},
            validate=_validate, bounded=True, compile=_compile, judge=_judge,
            example={"type": "quantile", "column": "amount", "q": 0.95, "max": 1000})
