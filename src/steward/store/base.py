"""The store protocol: immutable version folders addressed by keys relative to its root.

A version's *key* is ``<product>/<version id>``; the metastore keeps only keys, never a
local path, so a project folder can be moved or copied and its store still resolves. A
key written by an older Steward may be an absolute path: it is accepted as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

DATA_DIR = "data"


@dataclass(frozen=True)
class FileEntry:
    """One data file of a version: its name inside ``data/`` and its size in bytes."""

    name: str
    size: int


class Store(Protocol):
    """Immutable version folders under one root, written to a temporary name first.

    Everything that reads or writes a version goes through these methods with store
    keys; files handed out (:meth:`data_files`, :meth:`local`) are local paths, on a
    local store its own files, on an object store a read-through cache.
    """

    root: str
    kind: str  # "local" or "fsspec"

    def __init__(self, location: str, project_root: str) -> None: ...

    def new_scratch(self) -> str:
        """A fresh temporary folder for a build in progress (a local path)."""
        ...

    def version_key(self, product: str, version_id: str) -> str:
        """The key a version of ``product`` is published under."""
        ...

    def publish(self, scratch: str, product: str, version_id: str) -> str:
        """Move a finished scratch folder to its final place, atomically; returns its key."""
        ...

    def path(self, key: str) -> str:
        """A local path for ``key`` (:meth:`local`)."""
        ...

    def local(self, key: str, fresh: bool = False) -> str:
        """A local copy of ``key`` (a version folder or a file); ``fresh``: not cached."""
        ...

    def local_root(self) -> str:
        """The local folder every path handed out lies under."""
        ...

    def side(self, key: str, run: str) -> tuple[str, str]:
        """(a local folder to write into, its key) for what a later check run keeps
        beside version ``key``; never inside the version."""
        ...

    def commit_side(self, local: str, side_key: str) -> None:
        """Keep what was written into a :meth:`side` folder."""
        ...

    def data_files(self, key: str, fresh: bool = False) -> list[str]:
        """The Parquet files holding a version's rows (local paths)."""
        ...

    def manifests(self, keys: Iterable[str]) -> dict[str, list[FileEntry] | None]:
        """The data files of many versions at once (None: the folder is missing)."""
        ...

    def writable(self) -> bool: ...

    def refresh(self) -> None:
        """Forget what was listed (another process may have written since)."""
        ...

    def manifest(self, key: str) -> list[FileEntry]:
        """The data files of a version with their sizes (what the metastore records)."""
        ...

    def exists(self, key: str) -> bool: ...

    def size(self, key: str) -> int: ...

    def delete(self, key: str) -> None:
        """Delete a version folder; raises OSError when it cannot be deleted."""
        ...

    def delete_side(self, key: str) -> None:
        """Delete what later check runs kept beside a version."""
        ...

    def version_folders(self) -> list[str]:
        """The key of every version folder in the store (for gc and verify)."""
        ...

    def side_runs(self, key: str) -> list[str]:
        """The check runs whose results are kept beside version ``key``; each one's files
        are at :meth:`local` of ``.checks/<key>/<run>``."""
        ...

    def clean_scratch(self) -> int:
        """Remove scratch folders left by killed runs; returns how many."""
        ...

    def read_meta(self, name: str) -> bytes | None:
        """A small file Steward keeps at the store's root (e.g. the audit head), or None."""
        ...

    def write_meta(self, name: str, data: bytes) -> None:
        """Write a small file at the store's root, atomically."""
        ...
