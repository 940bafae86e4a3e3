"""Where version files live: a local folder now, object stores behind the same protocol."""

from __future__ import annotations

from steward.store.base import Store
from steward.store.local import LocalStore

STORES: dict[str, type[Store]] = {"file": LocalStore}


def open_store(location: str, root: str) -> Store:
    """A store for ``location``: a path (relative to the project ``root`` unless
    absolute), or an fsspec URL such as ``s3://bucket/prefix`` (an object store)."""
    scheme = location.split("://", 1)[0] if "://" in location else "file"
    if scheme in STORES:
        return STORES[scheme](location, root)
    from steward.store.fsspec import FsspecStore

    store = FsspecStore(location, root)
    store.check()
    return store  # type: ignore[return-value]
