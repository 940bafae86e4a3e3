"""``freshness``: the newest value of a date or timestamp column is at most ``max_age`` old."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds.base import (
    Compiled,
    CompileError,
    DbtTest,
    Judging,
    Kind,
    Scope,
    arg,
    rows_of,
)
from steward.core.durations import parse_duration


def _duration(v: str) -> str:
    parse_duration(v)
    return v


def _compile(check: Any, out: Compiled, q: Scope) -> None:
    from sqlglot import exp

    out.add("max", exp.Max(this=q.col(check.column)))


def _judge(comp: Compiled, values: dict[str, Any], run: Judging) -> CheckResult:
    check, name, t = comp.check, comp.name, comp.type
    rows = rows_of(values)
    newest = comp.value(values, "max")
    limit = parse_duration(check.max_age)
    if newest is None:
        return CheckResult(name, t, check.severity, "fail", 1, rows, None,
                           f"{check.column} has no values", column=check.column)
    age = _age_seconds(newest, run.now)
    ok = age <= limit
    return CheckResult(name, t, check.severity, "pass" if ok else "fail", 0 if ok else 1,
                       rows, round(age, 1),
                       f"newest {check.column} is {newest} ({_human(age)} old, allowed "
                       f"{check.max_age})", column=check.column, details={"newest": str(newest)})


def _age_seconds(newest: Any, now: datetime | None) -> float:
    if isinstance(newest, datetime):
        if newest.tzinfo is None:
            ref = (now.replace(tzinfo=None) if now else datetime.now())
        else:
            ref = now or datetime.now(UTC)
        return (ref - newest).total_seconds()
    if isinstance(newest, date):
        ref_d = (now or datetime.now()).date()
        return float((ref_d - newest).days * 86400)
    raise CompileError(f"freshness needs a date or timestamp column; got {type(newest).__name__}")


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


_DBT_UNIT = {"minute": "m", "hour": "h", "day": "d", "week": "w"}


def _from_dbt(test: DbtTest) -> dict[str, Any]:
    """``dbt_utils.recency``: the newest ``field`` no older than ``interval datepart``."""
    unit = _DBT_UNIT.get(str(test.args.get("datepart")))
    if unit is None:
        test.refuse(f"recency by '{test.args.get('datepart')}' has no Steward duration")
    return {"type": "freshness", "column": str(test.args.get("field")),
            "max_age": f"{test.args.get('interval')}{unit}"}


KIND = Kind(("freshness",), "Freshness", {"column": arg(str), "max_age": arg(str)},
            field_checks={"max_age": _duration}, compile=_compile, judge=_judge,
            from_dbt={"dbt_utils.recency": _from_dbt},
            example={"type": "freshness", "column": "loaded_at", "max_age": "1d"})
