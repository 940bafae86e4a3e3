"""The store protocol: immutable version folders addressed by keys relative to its root.

A version's *key* is ``<product>/<version id>``; the metastore keeps only keys, never a
local path, so a project folder can be moved or copied and its store still resolves. A
key written by an older Steward may be an absolute path: it is accepted as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

DATA_DIR = "data"


@dataclass(frozen=True)
class FileEntry:
    """One data file of a version: its name inside ``data/`` and its size in bytes."""

    name: str
    size: int


class Store(Protocol):
    """Immutable version folders under one root, written to a temporary name first."""

    root: str

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
        """A local path for ``key`` (for the engine and for side files such as samples)."""
        ...

    def data_files(self, key: str) -> list[str]:
        """The Parquet files holding a version's rows."""
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

    def clean_scratch(self) -> int:
        """Remove scratch folders left by killed runs; returns how many."""
        ...

    def read_meta(self, name: str) -> bytes | None:
        """A small file Steward keeps at the store's root (e.g. the audit head), or None."""
        ...

    def write_meta(self, name: str, data: bytes) -> None:
        """Write a small file at the store's root, atomically."""
        ...
