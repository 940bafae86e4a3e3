"""``row_count_change``: the row count within +-``max_change_pct`` percent of the
previous published version's."""

from __future__ import annotations

from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds.base import Compiled, Judging, Kind, Scope, arg, rows_of


def _compile(_check: Any, _out: Compiled, _q: Scope) -> None:
    pass  # answered by the scan's row count and the previous version's


def _judge(comp: Compiled, values: dict[str, Any], run: Judging) -> CheckResult:
    check, name, t = comp.check, comp.name, comp.type
    rows = rows_of(values)
    prev = run.previous_rows
    if not prev:
        return CheckResult(name, t, check.severity, "pass", 0, rows, None,
                           "no previous version to compare with")
    pct = 100.0 * (rows - prev) / prev
    ok = abs(pct) <= check.max_change_pct
    return CheckResult(name, t, check.severity, "pass" if ok else "fail", 0 if ok else 1,
                       rows, round(pct, 3),
                       f"row count {prev:,} -> {rows:,} ({pct:+.1f}%, allowed "
                       f"+-{check.max_change_pct:g}%)", details={"previous": prev})


KIND = Kind(("row_count_change",), "RowCountChange", {"max_change_pct": arg(float, gt=0)},
            column_scoped=False, compile=_compile, judge=_judge,
            example={"type": "row_count_change", "max_change_pct": 20})
