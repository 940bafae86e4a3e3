"""``accepted_values``: every non-NULL value is one of a list."""

from __future__ import annotations

from typing import Any

from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import Scope, arg, row_level


def _failing(check: Any, q: Scope) -> Any:
    from sqlglot import exp

    return exp.Not(this=exp.In(this=q.col(check.column),
                               expressions=[q.lit(v) for v in check.values]))


def _to_odcs(check: Any, column: str | None, _q: odcs.OdcsScope) -> dict[str, Any]:
    return odcs.library("invalidValues", "conformity",
                        arguments={"validValues": list(check.values)}, **odcs.tolerance(check))


def _from_odcs(rule: dict[str, Any], column: str | None) -> dict[str, Any] | None:
    args = odcs.arguments(rule)
    if not (column and odcs.is_library(rule, "invalidValues") and "validValues" in args):
        return None
    return {"type": "accepted_values", "column": column, "values": list(args["validValues"]),
            **odcs.from_tolerance(rule)}


KIND = row_level(("accepted_values",), "AcceptedValues",
                 {"column": arg(str), "values": arg(tuple[Any, ...])}, _failing,
                 shorthand="values", to_odcs=_to_odcs, from_odcs=_from_odcs,
                 from_dbt={"accepted_values": lambda t: {
                     "type": "accepted_values", "column": t.column(),
                     "values": list(t.args.get("values") or [])}},
                 example={"type": "accepted_values", "column": "status",
                          "values": ["open", "closed"]})
