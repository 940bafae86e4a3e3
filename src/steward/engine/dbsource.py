"""Database sources: rows of a PostgreSQL table or query, read into Arrow with ADBC.

ADBC's PostgreSQL driver uses libpq's binary COPY protocol and hands back Arrow record
batches, so a read never goes through Python objects row by row. What goes wrong is
said once, with the database's URL shown without its password: a server that cannot be
reached, credentials it refuses, a table that no longer exists, a column that is gone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from steward.core.errors import BuildError
from steward.core.model import Product
from steward.core.sqltext import sql_string
from steward.core.urls import shown_url

CONNECT_TIMEOUT_S = 10


@dataclass
class ReadOutcome:
    """What one read produced: rows written, rows read from the database now, the
    largest watermark value (as text) and notes for the run's output."""

    rows: int
    rows_read: int
    watermark: str | None = None
    watermark_type: str | None = None
    notes: list[str] = field(default_factory=list)


def libpq_url(connection: str, where: str) -> str:
    """The declared connection with its ``${VAR}`` expanded, as libpq takes it."""
    from steward.project.envvars import resolve

    url = resolve(connection, where)
    scheme, rest = url.split("://", 1)
    url = "postgresql://" + rest
    sep = "&" if "?" in url else "?"
    if "connect_timeout=" not in url:
        url += f"{sep}connect_timeout={CONNECT_TIMEOUT_S}"
    return url


def _ident(name: str) -> str:
    """A (possibly schema-qualified) name, each part quoted."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))



def base_query(spec: dict[str, Any]) -> str:
    if spec.get("table"):
        return f"SELECT * FROM {_ident(spec['table'])}"
    return f"SELECT * FROM ({spec['query'].strip().rstrip(';')}) AS steward_source"


class _Session:
    """One connection to the source's database, errors said in Steward's words."""

    def __init__(self, product: Product):
        self.product = product
        self.spec = product.spec_dump
        where = f"{product.file}:{product.line}" if product.line else product.file
        self.where = where
        self.url = libpq_url(self.spec["connection"], where)
        self.shown = shown_url(self.url.split("?", 1)[0])
        self.conn: Any = None

    def __enter__(self) -> _Session:
        import adbc_driver_postgresql.dbapi as adbc

        try:
            self.conn = adbc.connect(self.url)
        except Exception as e:
            reason = _first_line(e).removeprefix("IO: ").removeprefix("[libpq] ")
            hint = ("check the user and password (or the variables the connection reads "
                    "them from)" if "authentication" in reason or "password" in reason
                    else "check the host, port and database, and that the server is up")
            raise self.error(f"cannot connect to {self.shown}: {reason}", hint) from None
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.conn is not None:
            self.conn.close()

    def error(self, message: str, hint: str | None = None) -> BuildError:
        return BuildError(f"{self.where}: source {self.product.name}: {message}"
                          + (f"\n    hint: {hint}" if hint else ""))

    def arrow(self, sql: str) -> Any:
        cur = self.conn.cursor()
        try:
            cur.execute(sql)
            return cur.fetch_arrow_table()
        except Exception as e:
            raise self._query_error(e) from None
        finally:
            cur.close()

    def _query_error(self, e: Exception) -> BuildError:
        text = str(e)
        reason = _first_line(e).split("ERROR:", 1)[-1].strip()
        if "SQLSTATE: 42P01" in text:
            what = (f"the table {self.spec['table']}" if self.spec.get("table")
                    else "a table its query reads")
            return self.error(f"{what} does not exist in {self.shown} ({reason})",
                              "was it dropped or renamed? Fix the source's 'table' or "
                              "'query'; the published versions are untouched")
        if "SQLSTATE: 42703" in text:
            return self.error(f"the database no longer has a column it is asked for "
                              f"({reason}): the table's columns changed",
                              "update the source's 'watermark', 'query' or "
                              "'change_signal' to the table's columns")
        return self.error(f"the query failed on {self.shown}: {reason}")


def _first_line(e: Exception) -> str:
    return next((ln.strip() for ln in str(e).splitlines() if ln.strip()), type(e).__name__)


def change_signal(product: Product) -> str | None:
    """The value of the source's declared change signal (as text), or None."""
    sql = product.spec_dump.get("change_signal")
    if not sql:
        return None
    with _Session(product) as s:
        table = s.arrow(sql)
    if table.num_rows == 0 or table.num_columns == 0:
        return ""
    row = table.slice(0, 1).to_pylist()[0]
    return repr(sorted((k, _text(v)) for k, v in row.items()))


def read(product: Product, out: str, since: str | None = None,
         previous: list[str] | None = None) -> ReadOutcome:
    """Read the source into the Parquet file ``out``.

    With ``since`` (the largest watermark the current version holds) and ``previous``
    (its files), only rows past it are read and appended to the previous rows; when the
    table's columns no longer match those rows, everything is read again (a note says so).
    """
    import pyarrow.parquet as pq

    spec = product.spec_dump
    wm = spec.get("watermark")
    base = base_query(spec)
    with _Session(product) as s:
        if since is not None and wm and previous:
            new = _normalise(s.arrow(f"SELECT * FROM ({base}) AS steward_rows "
                                     f"WHERE {_ident(wm)} > {sql_string(since)}"))
            old = pq.read_table(previous)
            notes: list[str] = []
            if _same_columns(old.schema, new.schema):
                table = _concat(old, new)
                outcome = ReadOutcome(table.num_rows, new.num_rows, notes=notes)
                if new.num_rows:
                    outcome.notes.append(f"read {new.num_rows} new row(s) past "
                                         f"{wm} = {since}")
            else:
                table = _normalise(s.arrow(base))
                outcome = ReadOutcome(table.num_rows, table.num_rows, notes=[
                    "the table's columns changed since the last read: read in full "
                    "instead of past the watermark"])
        else:
            table = _normalise(s.arrow(base))
            outcome = ReadOutcome(table.num_rows, table.num_rows)
        if wm:
            if wm not in table.column_names:
                raise s.error(f"the watermark column {wm!r} is not among the columns read "
                              f"({', '.join(table.column_names)})",
                              "name a column the table or query returns")
            outcome.watermark, outcome.watermark_type = _max(table, wm)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    pq.write_table(table, out, compression="zstd")
    return outcome


def _max(table: Any, column: str) -> tuple[str | None, str | None]:
    import pyarrow.compute as pc

    value = pc.max(table[column]).as_py()
    return (None if value is None else _text(value)), str(table.schema.field(column).type)


def _text(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _same_columns(a: Any, b: Any) -> bool:
    return [(f.name, f.type) for f in a] == [(f.name, f.type) for f in b]


def _concat(old: Any, new: Any) -> Any:
    import pyarrow as pa

    return pa.concat_tables([old.cast(new.schema) if old.schema != new.schema else old, new])


def _normalise(table: Any) -> Any:
    """Plain Arrow types: PostgreSQL's numeric as a decimal (its declared precision) or a
    double, other types the driver leaves opaque as text; no driver metadata."""
    import pyarrow as pa

    fields, columns = [], []
    for f, col in zip(table.schema, table.columns, strict=True):
        typ = f.type
        if isinstance(typ, pa.BaseExtensionType):
            storage = pa.chunked_array([c.storage for c in col.chunks],
                                       type=typ.storage_type)
            meta = f.metadata or {}
            if meta.get(b"POSTGRESQL:type") == b"numeric" or \
                    getattr(typ, "type_name", "") == "numeric":
                mod = int(meta.get(b"POSTGRESQL:typmod", b"-1"))
                target = pa.decimal128((mod - 4) >> 16, (mod - 4) & 0xFFFF) \
                    if mod >= 4 and ((mod - 4) >> 16) <= 38 else pa.float64()
                col = storage.cast(target)
            else:
                col = storage
            typ = col.type
        fields.append(pa.field(f.name, typ, f.nullable))
        columns.append(col)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))
