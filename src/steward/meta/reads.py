"""The metastore reads a plan needs, as SQL text: on SQLite without importing SQLAlchemy.

``steward plan`` reads pointers, versions, recorded code and specs, and nothing else;
importing SQLAlchemy would cost it about a third of a second. These reads are plain SQL
with named parameters, run through the standard library's ``sqlite3`` when the
metastore is a SQLite file whose schema is current, and through SQLAlchemy (``text``)
for any other URL. :class:`steward.meta.store.Metastore` answers the same questions
through this module, so there is one implementation of each.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from steward.core.heap import close_at_exit
from steward.core.records import Column, Version
from steward.core.urls import shown_url as shown_url  # (where it was first)

CHUNK = 900  # below SQLite's default limit of 999 bound parameters per statement
_MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")
VERSION_COLUMNS = ("id, product, fingerprint, metadata_fp, status, path, schema_json, "
                   "row_count, bytes, data_hash, inputs_json, created_at, run_id, "
                   "check_status, error, files_json, check_fp")


def sqlite_file(url: str) -> str | None:
    """The database file of a ``sqlite:///`` URL, or None for anything else."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):].split("?", 1)[0]
    return path if path and path != ":memory:" else None


def latest_migration() -> int:
    """The number of the newest migration this code knows (``mNNNN_*.py``)."""
    numbers = [int(f[1:5]) for f in os.listdir(_MIGRATIONS)
               if f.startswith("m") and f.endswith(".py") and f[1:5].isdigit()]
    return max(numbers, default=0)


def connect(path: str) -> sqlite3.Connection:
    """A connection to an existing SQLite metastore (autocommit; waits for writers)."""
    con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30,
                          isolation_level=None, check_same_thread=False)
    con.execute("PRAGMA busy_timeout=30000")
    return con


def schema_current(path: str) -> bool:
    """True when the SQLite file exists and has every migration this code knows."""
    if not os.path.exists(path):
        return False
    try:
        con = connect(path)
        try:
            (got,) = con.execute("SELECT max(version) FROM steward_schema").fetchone()
        finally:
            con.close()
    except sqlite3.Error:
        return False
    return bool(got == latest_migration())


def pointers_digest(pointers: Mapping[str, str]) -> str:
    """A digest of an environment's pointers (product -> version id).

    The audit event of every pointer move records it; a run compares it with the table
    first, so a pointer changed outside Steward is caught.
    """
    import xxhash

    h = xxhash.xxh3_128()
    for product in sorted(pointers):
        h.update(f"{product}\t{pointers[product]}\n".encode())
    return h.hexdigest()


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """``items`` in slices small enough for one ``IN (...)`` each."""
    for i in range(0, len(items), size):
        yield items[i:i + size]


def when(value: Any) -> datetime | None:
    """A stored timestamp as an aware UTC datetime (SQLite keeps naive ISO text)."""
    if value is None:
        return None
    d = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d


@functools.lru_cache(maxsize=1024)
def _schema(schema_json: str) -> tuple[Column, ...]:
    """A stored schema (most versions share a few: decoded once each)."""
    return tuple(Column(*c) for c in json.loads(schema_json))


def version_of(r: Sequence[Any]) -> Version:
    """A Version from a row in :data:`VERSION_COLUMNS` order."""
    (vid, product, fp, mfp, status, path, schema_json, rows, size, data_hash, inputs_json,
     created, run_id, check_status, error, files_json, check_fp) = r
    schema = _schema(schema_json) if schema_json else ()
    return Version(id=vid, product=product, fingerprint=fp, metadata_fp=mfp, status=status,
                   path=path, schema=schema, row_count=rows, bytes=size, data_hash=data_hash,
                   created_at=when(created), run_id=run_id,
                   # (rows written before the vocabulary was unified say "failed")
                   check_status="fail" if check_status == "failed" else check_status,
                   error=error, inputs=json.loads(inputs_json) if inputs_json else {},
                   files=files_of(files_json), check_fp=check_fp)


def files_of(files_json: str | None) -> tuple[tuple[str, int], ...]:
    """A stored file manifest (``[[name, size], ...]``) as a tuple of pairs."""
    if not files_json:
        return ()
    return tuple((str(n), int(s)) for n, s in json.loads(files_json))


class Reads:
    """Read-only queries over a metastore URL.

    Args:
        url: the metastore URL.
        engine: returns the SQLAlchemy engine; used for URLs other than a current SQLite
            file (it is never called for one).
    """

    def __init__(self, url: str, engine: Callable[[], Any]):
        self.url = url
        self._engine = engine
        self._path = sqlite_file(url)
        self._local = threading.local()
        close_at_exit(self)  # (this thread's connection; a thread's own close as it ends)

    def rows(self, sql: str, params: dict[str, Any] | None = None) -> list[tuple[Any, ...]]:
        """The rows of one SELECT with ``:name`` parameters."""
        if self._path is not None:
            con = getattr(self._local, "con", None)
            if con is None:
                con = self._local.con = connect(self._path)
            return con.execute(sql, params or {}).fetchall()
        import sqlalchemy as sa

        with self._engine().connect() as conn:
            return [tuple(r) for r in conn.execute(sa.text(sql), params or {})]

    def rows_in(self, sql: str, values: Iterable[Any], params: dict[str, Any] | None = None
                ) -> list[tuple[Any, ...]]:
        """Rows of ``sql`` whose ``{in}`` is replaced by a list of ``values``, in chunks."""
        out: list[tuple[Any, ...]] = []
        for chunk in chunks(sorted(set(values))):
            names = {f"in{i}": v for i, v in enumerate(chunk)}
            out.extend(self.rows(sql.format(**{"in": ", ".join(f":{n}" for n in names)}),
                                 {**(params or {}), **names}))
        return out

    def close(self) -> None:
        con = getattr(self._local, "con", None)
        if con is not None:
            con.close()
            self._local.con = None

    # -- the questions -----------------------------------------------------------------
    def env_exists(self, env: str) -> bool:
        return bool(self.rows("SELECT 1 FROM environments WHERE name = :env", {"env": env}))

    def pointers(self, env: str) -> dict[str, Version]:
        """Each product's current version in ``env``."""
        cols = ", ".join(f"v.{c.strip()}" for c in VERSION_COLUMNS.split(","))
        rows = self.rows(f"SELECT {cols} FROM versions v JOIN env_pointers p "
                         "ON p.version_id = v.id WHERE p.env = :env", {"env": env})
        return {r[1]: version_of(r) for r in rows}

    def published_by_fingerprint(self, fps: Iterable[str]) -> dict[str, list[Version]]:
        """The published versions of each fingerprint, newest first."""
        rows = self.rows_in(f"SELECT {VERSION_COLUMNS} FROM versions WHERE fingerprint IN "
                            "({in}) AND status = 'published'", fps)
        out: dict[str, list[Version]] = {}
        for v in sorted((version_of(r) for r in rows), reverse=True,
                        key=lambda v: (v.created_at or datetime.min.replace(tzinfo=UTC), v.id)):
            out.setdefault(v.fingerprint, []).append(v)
        return out

    def data_hashes(self, ids: Iterable[str]) -> dict[str, str | None]:
        """Version id -> its data hash (what "the same data" is decided on)."""
        return {i: h for i, h in self.rows_in(
            "SELECT id, data_hash FROM versions WHERE id IN ({in})", ids)}

    def versions_by_id(self, ids: Iterable[str]) -> dict[str, Version]:
        return {r[0]: version_of(r) for r in self.rows_in(
            f"SELECT {VERSION_COLUMNS} FROM versions WHERE id IN ({{in}})", ids)}

    def code_records(self, fps: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The code recorded for each fingerprint (fingerprint_code rows as dicts)."""
        keys = ("fingerprint", "product", "local_fp", "kind", "code", "outputs_json",
                "created_at")
        rows = self.rows_in(f"SELECT {', '.join(keys)} FROM fingerprint_code "
                            "WHERE fingerprint IN ({in})", fps)
        out = {}
        for r in rows:
            rec = dict(zip(keys, r, strict=True))
            rec["created_at"] = when(rec["created_at"])
            out[rec["fingerprint"]] = rec
        return out

    def pointer_ids(self, env: str) -> dict[str, str]:
        return dict(self.rows("SELECT product, version_id FROM env_pointers WHERE env = :env",
                              {"env": env}))

    def env_audit_seq(self, env: str) -> int | None:
        rows = self.rows("SELECT audit_seq FROM environments WHERE name = :env", {"env": env})
        return int(rows[0][0]) if rows and rows[0][0] is not None else None

    def env_spec_map(self, env: str) -> dict[str, tuple[str, str]]:
        """Product -> (metadata fingerprint, spec JSON) the environment last ran with."""
        return {p: (m, s) for p, m, s in self.rows(
            "SELECT product, metadata_fp, spec_json FROM env_specs WHERE env = :env",
            {"env": env})}

    def global_spec_map(self) -> dict[str, tuple[str, str]]:
        return {p: (m, s) for p, m, s in self.rows(
            "SELECT name, metadata_fp, spec_json FROM products")}
