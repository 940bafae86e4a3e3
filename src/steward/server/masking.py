"""Personal data is masked for users without the ``pii`` permission.

A column is personal when its classification (declared, or inherited through column
lineage) is a PII label. Its values are replaced wherever the server would show them:
failing-row samples, top values, minimum and maximum, quantiles and histograms in
profiles, and query previews. Counts (rows, nulls, distinct values) stay.

Profiles keep raw values in the metastore (they are computed from the data, which the
store holds anyway, and a user with ``pii`` sees them); masking happens when a page or
an API answer is made.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

MASK = "•••"
# profile statistics that are values of the column, not counts
VALUE_KEYS = ("min", "max", "mean", "quantiles", "histogram", "sample", "samples")


def pii_columns(classes: Mapping[tuple[str, str], tuple[tuple[str, ...], Any]],
                product: str) -> set[str]:
    """Lower-cased names of the product's personal columns."""
    from steward.audit.pii import is_pii_label

    return {c.lower() for (p, c), (labels, _) in classes.items()
            if p == product and any(is_pii_label(x) for x in labels)}


def pii_by_product(classes: Mapping[tuple[str, str], tuple[tuple[str, ...], Any]]
                   ) -> dict[str, set[str]]:
    """:func:`pii_columns` of every product at once (product -> lower-cased names)."""
    from steward.audit.pii import is_pii_label

    out: dict[str, set[str]] = {}
    for (p, c), (labels, _) in classes.items():
        if any(is_pii_label(x) for x in labels):
            out.setdefault(p, set()).add(c.lower())
    return out


def is_pii(classification: Iterable[str]) -> bool:
    from steward.audit.pii import is_pii_label

    return any(is_pii_label(x) for x in classification)


def mask_profile(profile: dict[str, Any] | None, pii: set[str]) -> dict[str, Any] | None:
    if not profile or not pii:
        return profile
    cols = {}
    for name, col in (profile.get("columns") or {}).items():
        if name.lower() in pii:
            col = {k: v for k, v in col.items() if k not in VALUE_KEYS}
            if col.get("top"):
                col["top"] = [[MASK, n] for _, n in col["top"]]
            col["masked"] = True
        cols[name] = col
    return {**profile, "columns": cols}


def mask_rows(rows: list[dict[str, Any]], pii: set[str]) -> list[dict[str, Any]]:
    if not pii:
        return rows
    return [{k: (MASK if k.lower() in pii and v is not None else v) for k, v in r.items()}
            for r in rows]



def mask_diff_sample(sample: dict[str, Any], pii: set[str]) -> dict[str, Any]:
    """A diff's row sample: added and removed rows, changed rows' keys and changes."""
    if not pii or not sample:
        return sample
    out: dict[str, Any] = {k: mask_rows(list(v), pii) for k, v in sample.items()
                           if k in ("added", "removed")}
    out["changed"] = [{"key": mask_rows([r.get("key") or {}], pii)[0],
                       "changes": {c: ([MASK, MASK] if c.lower() in pii else v)
                                   for c, v in (r.get("changes") or {}).items()}}
                      for r in sample.get("changed") or []]
    return out
