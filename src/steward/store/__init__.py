"""Where version files live: a local folder now, object stores behind the same protocol."""

from __future__ import annotations

from steward.store.base import Store
from steward.store.local import LocalStore

STORES: dict[str, type[Store]] = {"file": LocalStore}


def open_store(location: str, root: str) -> Store:
    """A store for ``location`` (a path, relative to the project ``root`` unless absolute)."""
    scheme = location.split("://", 1)[0] if "://" in location else "file"
    if scheme not in STORES:
        from steward.core.errors import ConfigError

        raise ConfigError(f"store scheme {scheme!r} is not supported yet; use a local path")
    return STORES[scheme](location, root)
