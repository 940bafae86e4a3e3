"""How a SQL product's versions are made: plain facts, read from the spec dump."""

from __future__ import annotations

from typing import Any

GROWING = ("incremental", "snapshot")


def grows_from_previous(product: Any) -> bool:
    """An incremental product or a snapshot: its new version is made from the version
    its environment points at, so it is a function of its inputs *and* that version."""
    return product.kind == "sql" and product.spec_dump.get("materialize") in GROWING
