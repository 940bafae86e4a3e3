"""The engine protocol: build a product's data into a folder, run queries over versions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from steward.core.model import Product
from steward.core.records import Column


@dataclass(frozen=True)
class BuildResult:
    rows: int
    schema: tuple[Column, ...]
    files: tuple[str, ...]
    rejected: int = 0
    notes: tuple[str, ...] = field(default_factory=tuple)


class Engine(Protocol):
    name: str

    def build(self, product: Product, inputs: Mapping[str, list[str]], out_dir: str) -> BuildResult:
        """Materialise ``product`` into ``out_dir/data`` from input Parquet files."""
        ...

    def query(self, sql: str, tables: Mapping[str, list[str]]) -> Any:
        """Run ``sql`` with product names bound to Parquet files; returns an Arrow table."""
        ...

    def read_only_query(self, sql: str, tables: Mapping[str, list[str]], store_root: str
                        ) -> Any:
        """One read-only statement over products exposed as views (``steward sql``)."""
        ...

    def export(self, table: Any, path: str) -> int:
        """Write an Arrow table to a file (Parquet, CSV or JSON lines); returns rows."""
        ...

    def data_hash(self, files: list[str]) -> str:
        """A content hash of a version's data files."""
        ...

    def connection(self) -> Any:
        """A thread-local connection for layers that compile SQL (checks, profiles)."""
        ...
