"""``not_null``: no NULL in a column."""

from __future__ import annotations

from typing import Any

from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import Scope, arg, row_level


def _failing(check: Any, q: Scope) -> Any:
    from sqlglot import exp

    return q.col(check.column).is_(exp.null())


def _to_odcs(check: Any, column: str | None, _q: odcs.OdcsScope) -> dict[str, Any]:
    return odcs.library("nullValues", "completeness", **odcs.tolerance(check))


def _from_odcs(rule: dict[str, Any], column: str | None) -> dict[str, Any] | None:
    if not (column and odcs.is_library(rule, "nullValues", "missingValues")):
        return None
    return {"type": "not_null", "column": column, **odcs.from_tolerance(rule)}


KIND = row_level(("not_null",), "NotNull", {"column": arg(str)}, _failing,
                 to_odcs=_to_odcs, from_odcs=_from_odcs,
                 from_dbt={"not_null": lambda t: {"type": "not_null", "column": t.column()},
                           "dbt_utils.not_null_proportion": lambda t: {
                               "type": "not_null", "column": t.column(),
                               "mostly": float(t.args.get("at_least", 1))}},
                 example={"type": "not_null", "column": "id"})
