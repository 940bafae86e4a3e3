"""The metastore facade: every read and write of Steward's state goes through here."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from steward.core.errors import MetastoreUnavailable, NotFound, StateError
from steward.core.heap import close_at_exit
from steward.core.records import Column, Run, Step, Version
from steward.meta import tables as t
from steward.meta.bulk import prepare
from steward.meta.migrations import all_migrations
from steward.meta.reads import (
    CHUNK,
    VERSION_COLUMNS,
    Reads,
    chunks,
    shown_url,
    sqlite_file,
    version_of,
)

__all__ = ["CHUNK", "TABLES", "Metastore", "chunks", "default_url", "now", "present"]

# Every table the migrations create (steward_schema aside): one missing from a metastore
# whose schema records its migration means the metastore was damaged by hand.
# Every table is declared once, in meta/tables.py's one MetaData.
TABLES = tuple(t.md.tables)


def present(ms: Metastore, column: sa.ColumnElement[Any], ids: Iterable[str]) -> set[str]:
    """Which of ``ids`` appear in ``column`` (a version-id column of some table)."""
    out: set[str] = set()
    with ms.sa_engine.connect() as conn:
        for chunk in chunks(list(ids)):
            out.update(conn.execute(sa.select(column).distinct().where(column.in_(chunk)))
                       .scalars())
    return out


def now() -> datetime:
    return datetime.now(UTC)


def _aware(d: datetime | None) -> datetime | None:
    return d.replace(tzinfo=UTC) if d is not None and d.tzinfo is None else d


def default_url(root: str) -> str:
    return f"sqlite:///{os.path.join(root, '.steward', 'meta.db')}"


class Metastore:
    """SQLAlchemy Core over any URL; SQLite gets WAL, a busy timeout and foreign keys.

    ``sa_engine`` is SQLAlchemy's engine (connections to the state database), named so
    it is never taken for the compute engine (``steward.engine``).
    """

    def __init__(self, url: str):
        self.url = url
        try:
            if url.startswith("sqlite:///"):
                path = url[len("sqlite:///"):]
                if path and path != ":memory:":
                    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
            # (a server that never answers is an error after 10 s, not a hang)
            args = {"connect_timeout": 10} if url.startswith("postgres") else {}
            self.sa_engine = sa.create_engine(url, future=True, connect_args=args)
            if self.sa_engine.dialect.name == "sqlite":
                sa.event.listen(self.sa_engine, "connect", _sqlite_pragmas)
            with self.sa_engine.connect():
                pass
        except Exception as e:  # a bad URL, a missing driver, no connection: one message
            raise _unavailable(url, e) from None
        # SQLite has one writer at a time: this process's writers take turns here first
        # (see begin; re-entrant, as one transaction's code may call another's)
        self._write_lock: Any = threading.RLock() if self.sa_engine.dialect.name == "sqlite" \
            else contextlib.nullcontext()
        self.migrate()
        _check_tables(self.sa_engine, url)
        # the read-only questions a plan asks, in one implementation (steward.meta.reads)
        self.reads = Reads(url, lambda: self.sa_engine)
        close_at_exit(self.sa_engine, "dispose")  # (its pooled connections)

    # -- schema ----------------------------------------------------------------------
    def migrate(self) -> list[int]:
        """Apply the migrations not yet applied; returns their numbers.

        On PostgreSQL, processes opening one metastore at once take turns (an advisory
        lock): the second finds the migrations applied.
        """
        if self.sa_engine.dialect.name != "postgresql":
            return self._migrate()
        from steward.meta.pglock import MIGRATIONS_LOCK, STEWARD_KEY

        keys = {"a": STEWARD_KEY, "b": MIGRATIONS_LOCK}
        with self.sa_engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(sa.text("SELECT pg_advisory_lock(:a, :b)"), keys)
            try:
                return self._migrate()
            finally:
                conn.execute(sa.text("SELECT pg_advisory_unlock(:a, :b)"), keys)

    def _migrate(self) -> list[int]:
        applied: list[int] = []
        with self.sa_engine.begin() as conn:
            conn.execute(sa.text(
                "CREATE TABLE IF NOT EXISTS steward_schema "
                "(version INTEGER PRIMARY KEY, applied_at VARCHAR(40) NOT NULL)"
            ))
            done = {r[0] for r in conn.execute(sa.text("SELECT version FROM steward_schema"))}
        for number, module in all_migrations():
            if number in done:
                continue
            with self.sa_engine.begin() as conn:
                module.upgrade(conn)
                conn.execute(sa.text("INSERT INTO steward_schema VALUES (:v, :at)"),
                             {"v": number, "at": now().isoformat()})
            applied.append(number)
        return applied

    def schema_version(self) -> int:
        with self.sa_engine.connect() as conn:
            return int(conn.execute(sa.text("SELECT max(version) FROM steward_schema")).scalar()
                       or 0)

    def begin(self) -> Any:
        """A transaction: ``with ms.begin() as conn: ...`` (timed as ``metastore``).

        On SQLite, this process's writers (a run's steps, the check results its gates
        write, the profiles beside the builds) take turns on a lock first: the waiter is
        woken the moment the other is done, where SQLite's busy handler sleeps 1, 2, 5,
        10... ms. Other processes still meet the busy handler."""
        return _timed_begin(self.sa_engine, self._write_lock)

    # -- products --------------------------------------------------------------------
    def product_metadata_fps(self) -> dict[str, str]:
        with self.sa_engine.connect() as conn:
            return dict(conn.execute(sa.select(t.products.c.name, t.products.c.metadata_fp)).all())

    def upsert_products(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        with self.sa_engine.begin() as conn:
            names = [r["name"] for r in rows]
            conn.execute(t.products.delete().where(t.products.c.name.in_(names)))
            conn.execute(t.products.insert(), [{**r, "updated_at": now()} for r in rows])

    def product_spec(self, name: str) -> dict[str, Any] | None:
        with self.sa_engine.connect() as conn:
            row = conn.execute(sa.select(t.products.c.spec_json)
                               .where(t.products.c.name == name)).scalar()
        return json.loads(row) if row else None

    # -- versions --------------------------------------------------------------------
    def insert_version(self, v: Version, conn: sa.Connection | None = None) -> None:
        row = _version_row(v)
        if conn is not None:
            conn.execute(t.versions.insert(), row)
            return
        with self.sa_engine.begin() as c:
            c.execute(t.versions.insert(), row)

    def insert_versions(self, versions: Sequence[Version]) -> None:
        """Insert several version rows in one transaction (a run's wave of builds)."""
        self.wave((), versions)

    def wave(self, published: Sequence[tuple[str, dict[str, Any]]],
             building: Sequence[Version]) -> None:
        """One step of a run, in one transaction: the versions just built marked published
        (:meth:`publish_many`), then the rows of the versions about to be built inserted
        (``building``). The caller starts no reader of the first and no build of the
        second before this returns."""
        if not published and not building:
            return
        rows = prepare(self.sa_engine.dialect, t.versions, [_version_row(v) for v in building])
        with self.begin() as conn:
            if published:
                self._publish(conn, published)
            rows.run(conn)

    def update_version(self, version_id: str, conn: sa.Connection | None = None,
                       **fields: Any) -> None:
        if "schema" in fields:
            fields["schema_json"] = _schema_json(fields.pop("schema"))
        stmt = t.versions.update().where(t.versions.c.id == version_id).values(**fields)
        if conn is not None:
            conn.execute(stmt)
            return
        with self.sa_engine.begin() as c:
            c.execute(stmt)

    def version(self, version_id: str) -> Version:
        with self.sa_engine.connect() as conn:
            row = conn.execute(sa.select(t.versions).where(t.versions.c.id == version_id)).first()
            if row is None:
                rows = conn.execute(sa.select(t.versions)
                                    .where(t.versions.c.id.like(f"{version_id}%"))).all()
                if len(rows) == 1:
                    row = rows[0]
        if row is None:
            raise NotFound(f"no version {version_id!r}")
        return _version(row)

    def versions(self, product: str | None = None, status: str | None = None,
                 limit: int | None = None) -> list[Version]:
        q = sa.select(t.versions).order_by(t.versions.c.created_at.desc(), t.versions.c.id.desc())
        if product:
            q = q.where(t.versions.c.product == product)
        if status:
            q = q.where(t.versions.c.status == status)
        if limit:
            q = q.limit(limit)
        with self.sa_engine.connect() as conn:
            return [_version(r) for r in conn.execute(q)]

    def published_by_fingerprint(self, fps: Iterable[str]) -> dict[str, list[Version]]:
        """The published versions of each fingerprint, newest first."""
        return self.reads.published_by_fingerprint(fps)

    # -- environments ----------------------------------------------------------------
    def environments(self) -> list[dict[str, Any]]:
        with self.sa_engine.connect() as conn:
            rows = conn.execute(sa.select(t.environments).order_by(t.environments.c.name)).all()
            counts: dict[str, int] = dict(conn.execute(
                sa.select(t.env_pointers.c.env, sa.func.count())
                .group_by(t.env_pointers.c.env)).all())
        return [{"name": r.name, "created_at": _aware(r.created_at),
                 "created_from": r.created_from, "products": counts.get(r.name, 0)} for r in rows]

    def env_exists(self, env: str) -> bool:
        return self.reads.env_exists(env)

    def ensure_env(self, env: str, from_env: str | None = None) -> bool:
        """Create ``env`` (copying ``from_env``'s pointers) unless it exists; True if created."""
        with self.sa_engine.begin() as conn:
            exists = conn.execute(sa.select(t.environments.c.name)
                                  .where(t.environments.c.name == env)).first()
            if exists:
                return False
            # one timestamp: a pointer still at it was inherited, not changed (promote)
            ts = now()
            conn.execute(t.environments.insert(),
                         {"name": env, "created_at": ts, "created_from": from_env})
            if from_env:
                conn.execute(t.env_pointers.insert().from_select(
                    ["env", "product", "version_id", "updated_at"],
                    sa.select(sa.literal(env), t.env_pointers.c.product,
                              t.env_pointers.c.version_id,
                              sa.literal(ts, t.env_pointers.c.updated_at.type))
                    .where(t.env_pointers.c.env == from_env),
                ))
        return True

    def pointers(self, env: str) -> dict[str, Version]:
        """Each product's current version in ``env``."""
        return self.reads.pointers(env)

    def pointer_map(self, env: str) -> dict[str, str]:
        with self.sa_engine.connect() as conn:
            q = sa.select(t.env_pointers.c.product, t.env_pointers.c.version_id)
            return dict(conn.execute(q.where(t.env_pointers.c.env == env)).all())

    def envs_pointing_at(self, version_ids: Iterable[str]) -> dict[str, list[str]]:
        ids = list(version_ids)
        out: dict[str, list[str]] = {}
        with self.sa_engine.connect() as conn:
            for chunk in chunks(ids):
                q = sa.select(t.env_pointers.c.version_id, t.env_pointers.c.env).where(
                    t.env_pointers.c.version_id.in_(chunk))
                for vid, env in conn.execute(q):
                    out.setdefault(vid, []).append(env)
        return out

    def set_pointers(self, env: str, moves: dict[str, str], conn: sa.Connection | None = None
                     ) -> None:
        """Point ``env`` at the given versions (product -> version id)."""
        if not moves:
            return
        if conn is None:
            with self.sa_engine.begin() as c:
                self.set_pointers(env, moves, c)
            return
        ts = now()
        names = list(moves)
        for chunk in chunks(names):
            conn.execute(t.env_pointers.delete().where(
                t.env_pointers.c.env == env, t.env_pointers.c.product.in_(chunk)))
        conn.execute(t.env_pointers.insert(), [
            {"env": env, "product": p, "version_id": v, "updated_at": ts}
            for p, v in moves.items()
        ])

    def publish(self, version_id: str, **fields: Any) -> None:
        """Mark a built version published (no environment points at it yet: a run moves
        its pointers together when it ends)."""
        self.publish_many([(version_id, fields)])

    def publish_many(self, items: Sequence[tuple[str, dict[str, Any]]]) -> None:
        """:meth:`publish` for several versions, in one transaction."""
        self.wave(items, ())

    def _publish(self, conn: sa.Connection, items: Sequence[tuple[str, dict[str, Any]]]
                 ) -> None:
        rows = []
        for version_id, fields in items:
            row = dict(fields)
            if "files" in row:
                row["files_json"] = files_json(row.pop("files"))
            if "schema" in row:
                row["schema_json"] = _schema_json(row.pop("schema"))
            rows.append((version_id, row))
        keys = tuple(sorted(rows[0][1]))
        if all(tuple(sorted(r)) == keys for _, r in rows):  # one statement, many rows
            conn.execute(_publish_statement(keys),
                         [{"_version_id": vid, **{f"_{k}": v for k, v in r.items()}}
                          for vid, r in rows])
            return
        for version_id, row in rows:
            self.update_version(version_id, conn, status="published", **row)

    def mark_damaged(self, version_id: str, problem: str) -> bool:
        """Mark a published version damaged (never kept, reused or read again)."""
        with self.sa_engine.begin() as conn:
            n = conn.execute(t.versions.update().where(
                t.versions.c.id == version_id, t.versions.c.status == "published"
            ).values(status="damaged", error=problem)).rowcount
        return bool(n)

    def recorded_checks(self, version_id: str, check_status: str | None,
                        check_fp: str | None) -> None:
        """What a re-evaluation of a version's checks found (its files never change)."""
        with self.sa_engine.begin() as conn:
            conn.execute(t.versions.update().where(t.versions.c.id == version_id)
                         .values(check_status=check_status, check_fp=check_fp))

    def previous_published(self, v: Version) -> Version | None:
        """The published version of the same product created just before ``v``."""
        q = (sa.select(t.versions).where(t.versions.c.product == v.product,
                                         t.versions.c.status == "published",
                                         t.versions.c.id != v.id,
                                         t.versions.c.created_at < v.created_at)
             .order_by(t.versions.c.created_at.desc()).limit(1))
        with self.sa_engine.connect() as conn:
            row = conn.execute(q).first()
        return _version(row) if row is not None else None

    # -- runs ------------------------------------------------------------------------
    def start_run(self, run_id: str, env: str, selection: str | None, actor: str | None,
                  git: Any = None) -> None:
        """Record a run as running; ``git``: the project's ``project.git.GitState``, also
        written on every version the run inserts."""
        row = {"id": run_id, "env": env, "status": "running", "started_at": now(),
               "selection": selection, "actor": actor, "pid": os.getpid()}
        if git is not None:
            row.update(git_commit=git.commit, git_state=git.state,
                       git_committed_at=git.committed_at)
            RUN_GIT[run_id] = git.text
        with self.sa_engine.begin() as conn:
            conn.execute(t.runs.insert(), row)

    def finish_run(self, run_id: str, status: str, summary: dict[str, Any]) -> None:
        with self.sa_engine.begin() as conn:
            conn.execute(t.runs.update().where(t.runs.c.id == run_id).values(
                status=status, finished_at=now(), summary_json=json.dumps(summary)))
        RUN_GIT.pop(run_id, None)

    def record_steps(self, steps: Sequence[Step]) -> None:
        if not steps:
            return
        with self.sa_engine.begin() as conn:
            conn.execute(t.run_steps.insert(), [
                {"run_id": s.run_id, "product": s.product, "status": s.status,
                 "version_id": s.version_id, "started_at": s.started_at,
                 "duration_s": s.duration_s, "rows": s.rows, "error": s.error} for s in steps
            ])

    def runs(self, limit: int = 20) -> list[Run]:
        q = sa.select(t.runs).order_by(t.runs.c.started_at.desc()).limit(limit)
        with self.sa_engine.connect() as conn:
            return [_run(r) for r in conn.execute(q)]

    def run(self, run_id: str) -> Run:
        with self.sa_engine.connect() as conn:
            r = conn.execute(sa.select(t.runs).where(t.runs.c.id.like(f"{run_id}%"))).first()
        if r is None:
            raise NotFound(f"no run {run_id!r}")
        return _run(r)

    def steps(self, run_id: str | None = None, product: str | None = None,
              limit: int | None = None) -> list[Step]:
        q = sa.select(t.run_steps).order_by(t.run_steps.c.started_at.desc())
        if run_id:
            q = q.where(t.run_steps.c.run_id == run_id)
        if product:
            q = q.where(t.run_steps.c.product == product)
        if limit:
            q = q.limit(limit)
        with self.sa_engine.connect() as conn:
            return [Step(r.run_id, r.product, r.status, r.version_id, _aware(r.started_at),
                         r.duration_s, r.rows, r.error) for r in conn.execute(q)]

    def abandon_building(self, run_id: str, why: str) -> None:
        """A run's versions still building become failed (an interrupted run)."""
        with self.sa_engine.begin() as conn:
            conn.execute(t.versions.update().where(t.versions.c.run_id == run_id,
                                                   t.versions.c.status == "building")
                         .values(status="failed", error=why))

    def abandon_stale_runs(self, alive: bool) -> list[str]:
        """Runs left 'running' by a killed process become 'aborted', their versions 'failed'."""
        if alive:
            return []
        with self.sa_engine.begin() as conn:
            ids = [r[0] for r in conn.execute(sa.select(t.runs.c.id)
                                              .where(t.runs.c.status == "running"))]
            if ids:
                conn.execute(t.runs.update().where(t.runs.c.id.in_(ids))
                             .values(status="aborted", finished_at=now()))
            # (the caller holds the project lock: nothing is building now)
            conn.execute(t.versions.update().where(t.versions.c.status == "building")
                         .values(status="failed", error="the run building it was killed"))
        return ids


@contextlib.contextmanager
def _timed_begin(engine: Any, lock: Any) -> Iterator[Any]:
    from steward.core.phases import timed

    with timed("metastore"), lock, engine.begin() as conn:
        yield conn


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


@functools.lru_cache(maxsize=16)
def _publish_statement(keys: tuple[str, ...]) -> Any:
    """``UPDATE versions SET status = 'published', <keys> WHERE id = :_version_id``, built
    once per set of fields (a run publishes a thousand versions with the same fields)."""
    return t.versions.update().where(t.versions.c.id == sa.bindparam("_version_id")).values(
        status="published", **{k: sa.bindparam(f"_{k}") for k in keys})


def _schema_json(cols: Sequence[Column]) -> str:
    return json.dumps([[c.name, c.type, c.nullable] for c in cols])


def _version_row(v: Version) -> dict[str, Any]:
    return {
        "id": v.id, "product": v.product, "fingerprint": v.fingerprint,
        "metadata_fp": v.metadata_fp, "status": v.status, "path": v.path,
        "schema_json": _schema_json(v.schema), "row_count": v.row_count, "bytes": v.bytes,
        "data_hash": v.data_hash, "inputs_json": json.dumps(v.inputs),
        "created_at": v.created_at or now(), "run_id": v.run_id, "check_status": v.check_status,
        "error": v.error, "files_json": files_json(v.files) if v.files else None,
        "check_fp": v.check_fp, "git_commit": RUN_GIT.get(v.run_id or ""),
    }


# run id -> the project's git commit in one word (GitState.text), for the versions the
# run inserts, between start_run and finish_run
RUN_GIT: dict[str, str] = {}


def files_json(files: Sequence[tuple[str, int]]) -> str:
    return json.dumps([[n, s] for n, s in files])


def _version(r: Any) -> Version:
    """A Version from a SQLAlchemy row of ``versions`` (the one decoder: reads.version_of)."""
    return version_of(tuple(getattr(r, c) for c in _VERSION_FIELDS))


_VERSION_FIELDS = tuple(c.strip() for c in VERSION_COLUMNS.split(","))


def _run(r: Any) -> Run:
    started = _aware(r.started_at)
    assert started is not None
    return Run(r.id, r.env, r.status, started, _aware(r.finished_at), r.selection,
               r.actor, json.loads(r.summary_json) if r.summary_json else {},
               r.git_commit, r.git_state, _aware(r.git_committed_at))


# -- opening: what goes wrong, said once ------------------------------------------------
# the package to install for a driver module SQLAlchemy could not import
_DRIVERS = {"psycopg": "'datasteward[postgres]' (or psycopg[binary])",
            "psycopg2": "psycopg2-binary", "pg8000": "pg8000", "pymysql": "pymysql",
            "MySQLdb": "mysqlclient", "oracledb": "oracledb", "pyodbc": "pyodbc"}
_DIALECTS = ("sqlite", "postgresql", "mysql", "mariadb", "oracle", "mssql")


def _unavailable(url: str, e: Exception) -> MetastoreUnavailable:
    """Why the metastore at ``url`` cannot be opened, with what to do about it."""
    import difflib

    shown = shown_url(url)
    kind = url.split("://", 1)[0].split("+", 1)[0] if "://" in url else ""
    if isinstance(e, sa.exc.NoSuchModuleError):
        close = difflib.get_close_matches(kind, _DIALECTS, n=1)
        return MetastoreUnavailable(shown, f"unknown database kind {kind!r}",
                                    f"did you mean '{close[0]}'?" if close else
                                    f"write one of: {', '.join(_DIALECTS)}")
    if isinstance(e, ImportError):
        module = (e.name or "").split(".")[0]
        package = _DRIVERS.get(module, module)
        return MetastoreUnavailable(
            shown, f"the driver for {kind} is not installed (no module {module!r})",
            f"pip install {package}")
    if isinstance(e, sa.exc.ArgumentError):
        return MetastoreUnavailable(
            shown, "not a database URL",
            "write a SQLAlchemy URL, e.g. sqlite:///.steward/meta.db or "
            "postgresql+psycopg://user@host/database")
    cause = getattr(e, "orig", None) or e
    reason = next((ln.strip() for ln in str(cause).splitlines() if ln.strip()),
                  type(cause).__name__)
    if "authentication failed" in reason or "password" in reason:
        hint = "check the user and password in the URL (or the variable it is read from)"
    elif kind == "sqlite":
        hint = "check that the path names a database file Steward can create and write"
    else:
        hint = "check the host, port, database and user in the URL, and that the server is up"
    return MetastoreUnavailable(shown, f"cannot connect ({reason})", hint)


def _check_tables(engine: sa.Engine, url: str) -> None:
    """Refuse a metastore missing a table its recorded migrations created."""
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            names = set(conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table'").scalars())
        else:
            names = set(sa.inspect(conn).get_table_names())
    missing = [t for t in TABLES if t not in names]
    if not missing:
        return
    path = sqlite_file(url)
    where = shown_url(url) if path is None else (
        os.path.relpath(path) if os.path.abspath(path).startswith(os.getcwd() + os.sep)
        else path)
    one = len(missing) == 1
    raise StateError(
        f"the metastore {where} is damaged: table{'' if one else 's'} {', '.join(missing)} "
        f"{'is' if one else 'are'} missing, though its schema records the migration that "
        f"creates {'it' if one else 'them'}\n"
        f"    hint: restore {where} from a backup; Steward does not recreate a dropped table, "
        "since what it held (the audit trail, versions, pointers) cannot be rebuilt from the "
        "rest")
