"""``not_null``: no NULL in a column."""

from __future__ import annotations

from typing import Any

from steward.core.checkkinds.base import Scope, arg, row_level


def _failing(check: Any, q: Scope) -> Any:
    from sqlglot import exp

    return q.col(check.column).is_(exp.null())


KIND = row_level(("not_null",), "NotNull", {"column": arg(str)}, _failing,
                 example={"type": "not_null", "column": "id"})
