"""The engine protocol: build a product's data into a folder, run queries over versions."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
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
    # an incremental build: the files holding only its new rows (the rest came from the
    # previous version); what `check_rows: new` scopes row checks to
    new_files: tuple[str, ...] = ()
    # a small version's rows as an Arrow table, when the engine read them to name its
    # schema (steward.engine.arrowread): handed to the hooks that read the version
    table: Any = field(default=None, repr=False, compare=False)
    # the bytes of the file the engine read back for it (``arrowread.Raw``), if it did:
    # the executor hashes them when the file is unchanged, instead of reading it again
    raw: Any = field(default=None, repr=False, compare=False)


# A query handed to an engine: a sqlglot tree, or text in Steward's dialect
# (steward.sql.parse.DIALECT), in which a version's files are read with
# ``read_parquet([...])``. The engine transpiles it to its own dialect.
Query = Any


class Engine(Protocol):
    """What the layers above ask of a compute engine: no connection ever leaves it."""

    name: str
    dialect: str

    def build(self, product: Product, inputs: Mapping[str, list[str]], out_dir: str) -> BuildResult:
        """Materialise ``product`` into ``out_dir/data`` from input Parquet files."""
        ...

    def build_incremental(self, product: Product, inputs: Mapping[str, list[str]],
                          previous: list[str] | None, out_dir: str) -> BuildResult:
        """An incremental product or snapshot: its new version from the files of the
        previous one (``None``: the first build) and its query over ``inputs``."""
        ...

    def rows(self, query: Query) -> list[tuple[Any, ...]]:
        """Every row of ``query``."""
        ...

    def first(self, query: Query) -> tuple[Any, ...] | None:
        """The first row of ``query``, or None."""
        ...

    def record(self, query: Query) -> dict[str, Any]:
        """The first row of ``query`` as column name -> value ({} for none)."""
        ...

    def arrow(self, query: Query) -> Any:
        """``query``'s result as an Arrow table."""
        ...

    def copy(self, query: Query, out: str) -> int:
        """Write ``query``'s result to the Parquet file ``out``; returns its rows."""
        ...

    def columns(self, query: Query) -> list[tuple[str, str]]:
        """(name, type) of each column ``query`` returns."""
        ...

    def materialized(self, query: Query) -> AbstractContextManager[str]:
        """``query``'s result kept as a named table while the ``with`` block runs."""
        ...

    def describe(self, files: list[str]) -> tuple[Column, ...]:
        """The schema of a version's Parquet files, in the engine's type names."""
        ...

    def write_views(self, path: str, views: Mapping[str, Mapping[str, list[str]]]) -> int:
        """A database file of environments' views for other clients (``env views``)."""
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
