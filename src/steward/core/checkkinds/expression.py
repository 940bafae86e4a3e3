"""``expression``: a row-level SQL predicate every row must satisfy."""

from __future__ import annotations

from typing import Any

from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import Scope, arg, row_level


def _failing(check: Any, q: Scope) -> Any:
    from sqlglot import exp

    return exp.Not(this=exp.Paren(this=q.predicate(check.expression)))


KIND = row_level(("expression",), "Expression", {"expression": arg(str)}, _failing,
                 shorthand="expression", column_scoped=False,
                 to_odcs=odcs.failing_rows,
                 example={"type": "expression", "expression": "shipped_at >= ordered_at"})
