"""The short forms a check takes in YAML, and the names of the check kinds.

Plain Python: normalising a spec before validation needs no pydantic, and a load that
reuses validated specs (``steward.core.model.SpecRef``) never imports it.
"""

from __future__ import annotations

from typing import Any

CHECK_TYPES: frozenset[str] = frozenset(
    {"not_null", "unique", "accepted_values", "range", "regex", "length", "row_count",
     "relationships", "freshness", "expression", "sql", "mean", "stddev", "quantile",
     "distinct_count", "null_fraction", "min", "max", "sum", "row_count_change", "drift",
     "anomaly"}
)


def normalise_check(raw: Any, column: str | None = None) -> dict[str, Any]:
    """Turn the short YAML forms into ``{"type": ..., **args}``.

    ``"not_null"`` / ``{"range": {"min": 0}}`` / ``{"type": "range", "min": 0}`` are
    accepted; under a column, ``column`` is filled in.
    """
    if isinstance(raw, str):
        out: dict[str, Any] = {"type": raw}
    elif isinstance(raw, dict) and "type" in raw:
        out = dict(raw)
    elif isinstance(raw, dict) and len(raw) == 1:
        (kind, args), = raw.items()
        if args is None:
            args = {}
        elif not isinstance(args, dict):
            # `accepted_values: [a, b]`, `unique: [a, b]`, `expression: "a > b"`
            key = {"accepted_values": "values", "unique": "columns", "expression": "expression",
                   "sql": "query", "regex": "pattern"}.get(kind)
            if key is None:
                raise ValueError(f"check '{kind}' takes a mapping of arguments")
            args = {key: args}
        out = {"type": kind, **args}
    else:
        raise ValueError(
            "a check is a name ('not_null') or a one-key mapping ('range: {min: 0}')"
        )
    if column is not None and out.get("type") not in {"row_count", "expression", "sql",
                                                      "row_count_change"}:
        if out.get("type") == "unique" and "columns" in out:
            pass
        else:
            out.setdefault("column", column)
    return out
