"""``row_count``: the number of rows within ``min``/``max``."""

from __future__ import annotations

from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds.base import Compiled, Judging, Kind, Scope, arg, bounds, rows_of


def _compile(_check: Any, _out: Compiled, _q: Scope) -> None:
    pass  # answered by the scan's row count


def _judge(comp: Compiled, values: dict[str, Any], _run: Judging) -> CheckResult:
    rows = rows_of(values)
    return bounds(comp.check, comp.name, rows, comp.check.min, comp.check.max, rows, "row count")


KIND = Kind(("row_count",), "RowCount",
            {"min": arg(int | None, None, ge=0), "max": arg(int | None, None, ge=0)},
            column_scoped=False, bounded=True, compile=_compile, judge=_judge,
            example={"type": "row_count", "min": 1})
