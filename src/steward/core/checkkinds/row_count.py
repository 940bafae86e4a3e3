"""``row_count``: the number of rows within ``min``/``max``."""

from __future__ import annotations

from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import Compiled, Judging, Kind, Scope, arg, bounds, rows_of


def _compile(_check: Any, _out: Compiled, _q: Scope) -> None:
    pass  # answered by the scan's row count


def _judge(comp: Compiled, values: dict[str, Any], _run: Judging) -> CheckResult:
    rows = rows_of(values)
    return bounds(comp.check, comp.name, rows, comp.check.min, comp.check.max, rows, "row count")


def _to_odcs(check: Any, column: str | None, _q: odcs.OdcsScope) -> dict[str, Any]:
    return odcs.library("rowCount", "completeness", **odcs.between(check.min, check.max))


def _from_odcs(rule: dict[str, Any], column: str | None) -> dict[str, Any] | None:
    if not odcs.is_library(rule, "rowCount"):
        return None
    lo, hi = odcs.bounds(rule)
    return {"type": "row_count", **({"min": int(lo)} if lo is not None else {}),
            **({"max": int(hi)} if hi is not None else {})}


KIND = Kind(("row_count",), "RowCount",
            {"min": arg(int | None, None, ge=0), "max": arg(int | None, None, ge=0)},
            column_scoped=False, bounded=True, compile=_compile, judge=_judge,
            to_odcs=_to_odcs, from_odcs=_from_odcs,
            example={"type": "row_count", "min": 1})
