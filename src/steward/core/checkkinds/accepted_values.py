"""``accepted_values``: every non-NULL value is one of a list."""

from __future__ import annotations

from typing import Any

from steward.core.checkkinds.base import Scope, arg, row_level


def _failing(check: Any, q: Scope) -> Any:
    from sqlglot import exp

    return exp.Not(this=exp.In(this=q.col(check.column),
                               expressions=[q.lit(v) for v in check.values]))


KIND = row_level(("accepted_values",), "AcceptedValues",
                 {"column": arg(str), "values": arg(tuple[Any, ...])}, _failing,
                 shorthand="values",
                 example={"type": "accepted_values", "column": "status",
                          "values": ["open", "closed"]})
