"""The short forms a check takes in YAML, and the names of the check kinds.

Plain Python: normalising a spec before validation needs no pydantic, and a load that
reuses validated specs (``steward.core.model.SpecRef``) never imports it. Each kind
declares its own short form (``steward.core.checkkinds``).
"""

from __future__ import annotations

from typing import Any

from steward.core.checkkinds import KINDS

CHECK_TYPES: frozenset[str] = frozenset(KINDS)


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
            found = KINDS.get(kind) if isinstance(kind, str) else None
            key = found.shorthand if found is not None else None
            if key is None:
                raise ValueError(f"check '{kind}' takes a mapping of arguments")
            args = {key: args}
        out = {"type": kind, **args}
    else:
        raise ValueError(
            "a check is a name ('not_null') or a one-key mapping ('range: {min: 0}')"
        )
    if column is not None:
        t = out.get("type")
        found = KINDS.get(t) if isinstance(t, str) else None
        # an unknown kind gets the column too: validation names the kind
        if found is None or (found.column_scoped
                             and not any(a in out for a in found.column_unless)):
            out.setdefault("column", column)
    return out
