"""The store protocol."""

from __future__ import annotations

from typing import Protocol


class Store(Protocol):
    """Immutable version folders under one root, written to a temporary name first."""

    root: str

    def __init__(self, location: str, project_root: str) -> None: ...

    def new_scratch(self) -> str:
        """A fresh temporary folder for a build in progress."""
        ...

    def version_path(self, product: str, version_id: str) -> str:
        """Where a version's folder lives once published."""
        ...

    def publish(self, scratch: str, product: str, version_id: str) -> str:
        """Move a finished scratch folder to its final place, atomically; returns the path."""
        ...

    def data_files(self, path: str) -> list[str]:
        """The Parquet files holding a version's rows."""
        ...

    def size(self, path: str) -> int: ...

    def delete(self, path: str) -> None: ...

    def clean_scratch(self) -> int:
        """Remove scratch folders left by killed runs; returns how many."""
        ...
