"""A small new version read into Arrow once, and its schema named as DuckDB names it.

After a build, the new version's schema is needed (contracts, the metastore), and when
the version is small its rows are read into Arrow by the hooks that follow (the PII
gate's sample, the profile). Reading them right after the build serves both: the
schema is named from the Parquet footer's Arrow types, which saves a DuckDB ``DESCRIBE``
(about a millisecond of planning per product), and the table is handed to the hooks.

Only types whose DuckDB name the Arrow type fixes are named here (the integers, floats,
decimals, ``VARCHAR``, ``BOOLEAN``, ``DATE``, microsecond timestamps with and without a
time zone); a version with any other column (nested, ``UUID``, ``JSON``, ``TIME``,
``INTERVAL``, ``BLOB``, other timestamp units...) is described by DuckDB as before
(``tests/engine/test_arrowread.py`` compares the two on every type DuckDB writes).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from steward.project.files import stat_key

SMALL_ROWS = 100_000  # versions with at most this many rows are read whole...
SMALL_BYTES = 64 << 20  # ...and at most this many bytes of uncompressed column data

_INT_ARROW = {"int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT",
              "uint8": "UTINYINT", "uint16": "USMALLINT", "uint32": "UINTEGER",
              "uint64": "UBIGINT"}
_FLOAT_ARROW = {"float": "FLOAT", "double": "DOUBLE", "halffloat": "FLOAT"}


def read_small(files: Sequence[str], max_rows: int | None, rows: int | None = None) -> Any:
    """The Arrow table of ``files`` if it has at most ``max_rows`` rows, else None.

    The row count and uncompressed size (at most :data:`SMALL_BYTES`) come from the
    Parquet footers (``rows`` when the caller knows it), so a large version is never
    read. Remote or unreadable files give None.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if max_rows is not None and rows is not None and rows > max_rows:
        return None
    try:
        readers = [pq.ParquetFile(f, pre_buffer=False).reader for f in files]
    except (OSError, pa.ArrowException):
        return None
    return _read(readers, max_rows)


def _bytes_reader(data: bytes) -> Any:
    """pyarrow's Parquet reader over ``data`` (what ``pq.ParquetFile(...).reader`` is),
    opened without importing ``pyarrow.parquet``: that module imports pyarrow's file
    systems, S3's among them, 4-6 MB of a run's peak RSS (``benchmarks/cost_bench.py``)
    for bytes already in memory. Any pyarrow without this reader, or without one of
    these options, gets ``pq.ParquetFile``'s."""
    import pyarrow as pa

    try:
        from pyarrow._parquet import ParquetReader

        reader = ParquetReader()
        reader.open(pa.BufferReader(data), pre_buffer=False,
                    arrow_extensions_enabled=True)  # (ParquetFile's default)
        return reader
    except (ImportError, TypeError):
        import pyarrow.parquet as pq

        return pq.ParquetFile(pa.BufferReader(data), pre_buffer=False).reader


def _read(readers: list[Any], max_rows: int | None) -> Any:
    """The table of pyarrow Parquet readers (``ParquetFile.reader``), or None when
    more than ``max_rows`` rows or :data:`SMALL_BYTES` would be read."""
    import pyarrow as pa

    if max_rows is not None:
        metas = [r.metadata for r in readers]
        if sum(m.num_rows for m in metas) > max_rows:
            return None
        # few rows of very long values (documents, blobs) would still be a big read
        if sum(m.row_group(i).total_byte_size for m in metas
               for i in range(m.num_row_groups)) > SMALL_BYTES:
            return None
    try:
        tables = [r.read_all(use_threads=False) for r in readers]
        return tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    except (OSError, pa.ArrowException):
        return None


@dataclass(frozen=True)
class Raw:
    """A file's bytes as read, and its ``stat`` then (``project.files.stat_key``): the
    same bytes as long as a later ``stat`` gives the same key."""

    path: str
    key: tuple[int, ...]
    data: bytes


def read_small_file(path: str, max_rows: int, rows: int | None = None
                    ) -> tuple[Any, Raw | None]:
    """:func:`read_small` of one local file just written, read into memory first: the
    Arrow table (or None) and the file's bytes (or None), which the caller may hash
    instead of reading the file again. One open and one read; pyarrow then parses the
    bytes without resolving a filesystem or asking the OS again."""
    import pyarrow as pa

    if rows is not None and rows > max_rows:
        return None, None
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
    except OSError:
        return None, None
    try:
        st = os.fstat(fd)
        if st.st_size > SMALL_BYTES:
            return read_small([path], max_rows, rows), None
        chunks = []
        while chunk := os.read(fd, max(st.st_size, 1 << 16)):
            chunks.append(chunk)
    except OSError:
        return None, None
    finally:
        os.close(fd)
    data = chunks[0] if len(chunks) == 1 else b"".join(chunks)
    raw = Raw(path, stat_key(st), data) \
        if len(data) == st.st_size else None
    try:
        reader = _bytes_reader(data)
    except (OSError, pa.ArrowException):
        return None, raw
    return _read([reader], max_rows), raw


def duckdb_type(arrow_type: Any) -> str | None:
    """The DuckDB type name of an Arrow type that fixes it, else None."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_integer(t):
        return _INT_ARROW.get(str(t))
    if pa.types.is_floating(t):
        return _FLOAT_ARROW.get(str(t))
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_date32(t):
        return "DATE"
    if pa.types.is_timestamp(t) and t.unit == "us":
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    if pa.types.is_decimal128(t):
        return f"DECIMAL({t.precision},{t.scale})"
    return None


def arrow_schema_names(table: Any) -> list[tuple[str, str]] | None:
    """(column, DuckDB type) of every column of an Arrow table, or None when a type is
    not one :func:`duckdb_type` names."""
    out = []
    for f in table.schema:
        name = duckdb_type(f.type)
        if name is None:
            return None
        out.append((f.name, name))
    return out
