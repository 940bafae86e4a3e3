"""The Open Data Contract Standard's quality-rule shapes the check kinds map to and from.

Each kind that has an ODCS form says so itself (``Kind.to_odcs`` / ``Kind.from_odcs``)
with these helpers; ``steward.quality.odcs`` adds what every rule carries (name,
description, severity, the Steward check itself) and falls back to a ``custom`` rule.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

OPS = {"mustBe": "=", "mustNotBe": "<>", "mustBeGreaterThan": ">",
       "mustBeGreaterOrEqualTo": ">=", "mustBeLessThan": "<", "mustBeLessOrEqualTo": "<="}


class OdcsScope(Protocol):
    """What mapping a check to a rule may use besides the check (the quality layer's)."""

    def failing_sql(self, check: Any) -> str:
        """The check's failing-row predicate as SQL text."""
        ...


def library(metric: str, dimension: str, **more: Any) -> dict[str, Any]:
    """A rule of the standard's own library of metrics."""
    return {"type": "library", "metric": metric, "dimension": dimension, **more}


def tolerance(check: Any) -> dict[str, Any]:
    """``mostly`` / ``max_failures`` as a threshold on the failure count."""
    if check.mostly is not None:
        return {"unit": "percent",
                "mustBeLessOrEqualTo": round((1 - check.mostly) * 100, 6)}
    if check.max_failures is not None:
        return {"unit": "rows", "mustBeLessOrEqualTo": check.max_failures}
    return {}


def between(lo: Any, hi: Any) -> dict[str, Any]:
    if lo is not None and hi is not None:
        return {"mustBe": lo} if lo == hi else {"mustBeBetween": [lo, hi]}
    if lo is not None:
        return {"mustBeGreaterOrEqualTo": lo}
    return {"mustBeLessOrEqualTo": hi}


def failing_rows(check: Any, _column: str | None, scope: OdcsScope) -> dict[str, Any]:
    """A SQL rule counting the check's failing rows (a row-level kind's ``to_odcs``)."""
    return {"type": "sql",
            "query": f"SELECT COUNT(*) FROM ${{object}} WHERE {scope.failing_sql(check)}",
            **(tolerance(check) or {"mustBe": 0})}


def is_library(rule: dict[str, Any], *metrics: str) -> bool:
    return rule.get("type", "library") == "library" and (
        rule.get("metric") or rule.get("rule")) in metrics


def arguments(rule: dict[str, Any]) -> dict[str, Any]:
    return rule.get("arguments") or {}


def from_tolerance(rule: dict[str, Any]) -> dict[str, Any]:
    """ODCS thresholds on a failure count as ``mostly`` / ``max_failures``."""
    limit = rule.get("mustBeLessOrEqualTo")
    if limit is None and rule.get("mustBeLessThan") is not None:
        limit = rule["mustBeLessThan"] - (0 if rule.get("unit") == "percent" else 1)
    if limit is None or limit == 0:
        return {}
    if rule.get("unit") == "percent":
        return {"mostly": round(1 - float(limit) / 100, 6)}
    return {"max_failures": int(limit)}


def bounds(rule: dict[str, Any]) -> tuple[Any, Any]:
    if "mustBe" in rule:
        return rule["mustBe"], rule["mustBe"]
    if "mustBeBetween" in rule:
        return tuple(rule["mustBeBetween"])  # type: ignore[return-value]
    lo = rule.get("mustBeGreaterOrEqualTo")
    if lo is None and rule.get("mustBeGreaterThan") is not None:
        lo = rule["mustBeGreaterThan"] + 1
    hi = rule.get("mustBeLessOrEqualTo")
    if hi is None and rule.get("mustBeLessThan") is not None:
        hi = rule["mustBeLessThan"] - 1
    return lo, hi



def placeholders(query: str, column: str | None) -> str:
    """An ODCS query's ``${object}`` / ``${property}`` in Steward's spelling."""
    q = re.sub(r"\$\{\s*(object|table|model)\s*\}|\{(object|table|model)\}", "{{ this }}",
               query)
    if column:
        q = re.sub(r"\$\{\s*(property|column)\s*\}|\{(property|column)\}", column, q)
    return q
