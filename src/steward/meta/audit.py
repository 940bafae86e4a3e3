"""Metastore queries of the audit trail: append under a race-safe head, stream, filter.

The hashing itself is the audit layer's (``steward.audit.trail``); this module only
stores and reads rows, so the chain logic stays free of SQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import sqlalchemy as sa

from steward.core.heap import close_at_exit
from steward.meta import tables as t
from steward.meta.store import Metastore, _version, chunks, present
from steward.meta.tables import audit_checkpoints as checkpoints  # noqa: F401
from steward.meta.tables import audit_events as events  # noqa: F401
from steward.meta.tables import pii_detections, pii_scans  # noqa: F401

# Column order of the rows :func:`iter_rows` yields (and the hash covers).
COLUMNS = ("seq", "ts", "actor", "action", "targets_json", "before_json", "after_json",
           "reason", "prev_hash", "hash", "git_commit")

RowFactory = Callable[[int, str], dict[str, Any]]


def head(conn: Any) -> tuple[int, str | None]:
    """The last event's (seq, hash), or (0, None) for an empty trail."""
    row = conn.execute(sa.select(events.c.seq, events.c.hash)
                       .order_by(events.c.seq.desc()).limit(1)).first()
    return (int(row[0]), row[1]) if row else (0, None)


class AuditSink(Protocol):
    """Appends audit events inside a caller's transaction (the audit layer implements it).

    Every pointer move is written through one, in the transaction that moves the pointer,
    so no move ever exists without its event.
    """

    def append_in(self, conn: Any, action: str, targets: Sequence[str], before: Any,
                  after: Any, reason: str | None) -> int:
        """Append one event at the head of the chain on ``conn``; returns its seq."""
        ...

    def committed(self) -> None:
        """Called once the caller's transaction has committed."""
        ...


def append_in(conn: Any, make_row: RowFactory, checkpoint_every: int,
              checkpoint_ts: str) -> dict[str, Any]:
    """Append one event on ``conn`` (whose transaction holds the write lock)."""
    seq, prev = head(conn)
    row = make_row(seq + 1, prev or "")
    conn.execute(events.insert(), row)
    if checkpoint_every and row["seq"] % checkpoint_every == 0:
        conn.execute(checkpoints.insert(), {"seq": row["seq"], "hash": row["hash"],
                                            "created_at": checkpoint_ts})
    return row


def hash_at(conn: Any, seq: int) -> str | None:
    return conn.execute(sa.select(events.c.hash).where(events.c.seq == seq)).scalar()


def append(ms: Metastore, make_row: RowFactory, checkpoint_every: int,
           checkpoint_ts: str, attempts: int = 50) -> dict[str, Any]:
    """Append one event built by ``make_row(seq, prev_hash)`` at the head of the chain.

    Read-head-then-insert runs in one transaction; if another writer took the same seq
    first, the primary key refuses ours and we rebuild on the new head.
    """
    last_error: Exception | None = None
    for _ in range(attempts):
        try:
            with ms.begin() as conn:
                row = append_in(conn, make_row, checkpoint_every, checkpoint_ts)
            return row
        except sa.exc.IntegrityError as e:
            last_error = e
        except sa.exc.OperationalError as e:  # SQLite "database is locked" under contention
            if "locked" not in str(e):
                raise
            last_error = e
    raise RuntimeError(f"could not append to the audit trail: {last_error}")


def insert_many(ms: Metastore, rows: Sequence[dict[str, Any]],
                cps: Sequence[dict[str, Any]], conn: Any = None) -> None:
    """Bulk insert pre-chained rows (and their checkpoints) in one transaction."""
    if conn is None:
        with ms.begin() as c:
            insert_many(ms, rows, cps, c)
        return
    if rows:
        conn.execute(events.insert(), list(rows))
    if cps:
        conn.execute(checkpoints.insert(), list(cps))


def iter_rows(ms: Metastore, batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """Every event in seq order as plain tuples (:data:`COLUMNS`), streamed in batches."""
    cols = [events.c[n] for n in COLUMNS]
    with ms.sa_engine.connect() as conn:
        result = conn.execution_options(yield_per=batch).execute(
            sa.select(*cols).order_by(events.c.seq))
        for part in result.partitions():
            yield from part


_ENGINES: dict[str, Any] = {}


def _engine(url: str) -> Any:
    """A bare engine for a verify worker process (no migrations, no pragmas needed)."""
    eng = _ENGINES.get(url)
    if eng is None:
        eng = _ENGINES[url] = sa.create_engine(url)
        close_at_exit(eng, "dispose")
    return eng


def iter_range(url: str, lo: int, hi: int, batch: int = 50_000) -> Iterator[tuple[Any, ...]]:
    """Events with ``lo <= seq <= hi`` in seq order, read through the raw DB-API cursor.

    Verification reads every row once, so the driver's tuples are used as they come,
    without SQLAlchemy's row objects.
    """
    eng = _engine(url)
    stmt = (sa.select(*[events.c[n] for n in COLUMNS])
            .where(events.c.seq >= int(lo), events.c.seq <= int(hi)).order_by(events.c.seq))
    sql = str(stmt.compile(dialect=eng.dialect, compile_kwargs={"literal_binds": True}))
    yield from _raw_rows(eng, sql, batch)


def iter_payloads(url: str, lo: int, hi: int, batch: int = 50_000
                  ) -> Iterator[tuple[Any, ...]] | None:
    """``(seq, json_array(fields…), prev_hash, hash)`` for ``lo <= seq <= hi``, or None.

    On SQLite the canonical JSON array the hash covers is built by SQLite's own
    ``json_array`` (C, one string per row instead of nine Python objects). The caller
    treats it as a fast path only: any row whose payload does not hash right is
    re-checked from its fields in Python, so correctness never rests on SQLite's JSON.
    Returns None on other databases.
    """
    eng = _engine(url)
    if eng.dialect.name != "sqlite":
        return None
    fields = "seq, ts, actor, action, targets_json, before_json, after_json, reason, prev_hash"
    sql = (f"SELECT seq, CASE WHEN git_commit IS NULL THEN json_array({fields}) "
           f"ELSE json_array({fields}, git_commit) END, prev_hash, hash FROM audit_events "
           f"WHERE seq >= {int(lo)} AND seq <= {int(hi)} ORDER BY seq")
    return _raw_rows(eng, sql, batch)


def _raw_rows(eng: Any, sql: str, batch: int) -> Iterator[tuple[Any, ...]]:
    raw = eng.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute(sql)
        while True:
            part = cur.fetchmany(batch)
            if not part:
                break
            yield from part
        cur.close()
    finally:
        raw.close()


def row_at(url: str, seq: int) -> tuple[Any, ...] | None:
    """One event's fields (:data:`COLUMNS` order)."""
    with _engine(url).connect() as conn:
        row = conn.execute(sa.select(*[events.c[n] for n in COLUMNS])
                           .where(events.c.seq == int(seq))).first()
    return tuple(row) if row else None


def seq_bounds(ms: Metastore) -> tuple[int, int]:
    with ms.sa_engine.connect() as conn:
        lo, hi = conn.execute(sa.select(sa.func.min(events.c.seq), sa.func.max(events.c.seq))
                              ).one()
    return int(lo or 0), int(hi or 0)


def seq_of_hash_url(url: str, digest: str) -> int | None:
    with _engine(url).connect() as conn:
        row = conn.execute(sa.select(events.c.seq).where(events.c.hash == digest)
                           .limit(1)).first()
    return int(row[0]) if row else None


def checkpoint_rows(ms: Metastore) -> list[tuple[int, str]]:
    with ms.sa_engine.connect() as conn:
        return [(int(s), h) for s, h in conn.execute(
            sa.select(checkpoints.c.seq, checkpoints.c.hash).order_by(checkpoints.c.seq))]


def seq_of_hash(ms: Metastore, digest: str) -> int | None:
    """Where an event with this hash is stored (used only to explain a broken link)."""
    with ms.sa_engine.connect() as conn:
        row = conn.execute(sa.select(events.c.seq).where(events.c.hash == digest)
                           .limit(1)).first()
    return int(row[0]) if row else None


def count(ms: Metastore) -> int:
    with ms.sa_engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(events)).scalar() or 0)


def query(ms: Metastore, action: str | None = None, actor: str | None = None,
          target: str | None = None, since: str | None = None, limit: int | None = 100,
          actions: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Events matching every given filter, newest first."""
    q = sa.select(*[events.c[n] for n in COLUMNS]).order_by(events.c.seq.desc())
    if action:
        q = q.where(events.c.action == action)
    if actions:
        q = q.where(events.c.action.in_(list(actions)))
    if actor:
        q = q.where(events.c.actor == actor)
    if since:
        q = q.where(events.c.ts >= since)
    if target:
        # targets_json is canonical JSON: a target appears exactly as "name" inside it
        q = q.where(events.c.targets_json.contains(f'"{target}"', autoescape=True))
    if limit:
        q = q.limit(limit)
    with ms.sa_engine.connect() as conn:
        return [dict(zip(COLUMNS, r, strict=True)) for r in conn.execute(q)]


# -- PII detections ---------------------------------------------------------------------
RUN_SCAN_PREFIX = "run:"  # pii_scans rows for a whole run: "the gate ran on every candidate"


def record_detections(ms: Metastore, version_id: str, product: str,
                      found: Sequence[dict[str, Any]], scanned_at: str,
                      columns: int = 0) -> None:
    """Replace what is recorded for ``version_id`` with ``found`` (column, kind, ...)."""
    with ms.begin() as conn:
        conn.execute(pii_detections.delete().where(pii_detections.c.version_id == version_id))
        conn.execute(pii_scans.delete().where(pii_scans.c.version_id == version_id))
        conn.execute(pii_scans.insert(), {"version_id": version_id, "product": product,
                                          "columns": columns, "scanned_at": scanned_at})
        if found:
            conn.execute(pii_detections.insert(), [
                {"version_id": version_id, "product": product, "column_name": d["column"],
                 "kind": d["kind"], "fraction": d["fraction"], "matched": d["matched"],
                 "sampled": d["sampled"], "scanned_at": scanned_at} for d in found])


def record_run_scanned(ms: Metastore, run_id: str, scanned_at: str) -> None:
    """Record once per run that the PII gate scans every candidate of ``run_id``.

    A candidate is published only after every post-build hook passed, so each published
    version of such a run was scanned: one row per run replaces one per clean version.
    """
    key = RUN_SCAN_PREFIX + run_id
    with ms.begin() as conn:
        conn.execute(pii_scans.delete().where(pii_scans.c.version_id == key))
        conn.execute(pii_scans.insert(), {"version_id": key, "product": "*", "columns": 0,
                                          "scanned_at": scanned_at})


def detections(ms: Metastore, version_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
    """Version id -> its recorded detections."""
    out: dict[str, list[dict[str, Any]]] = {}
    ids = list(version_ids)
    with ms.sa_engine.connect() as conn:
        for chunk in chunks(ids):
            q = sa.select(pii_detections).where(pii_detections.c.version_id.in_(chunk))
            for r in conn.execute(q):
                out.setdefault(r.version_id, []).append({
                    "column": r.column_name, "kind": r.kind, "fraction": r.fraction,
                    "matched": r.matched, "sampled": r.sampled, "scanned_at": r.scanned_at})
    return out


def scanned(ms: Metastore, version_ids: Sequence[str]) -> set[str]:
    """Which of ``version_ids`` the classifier has scanned.

    A version counts when it has its own scan row, or when it was published by a run the
    gate covered (:func:`record_run_scanned`). Failed candidates and alias versions
    (``run_id`` NULL) need their own row.
    """
    ids = list(version_ids)
    out = present(ms, pii_scans.c.version_id, ids)
    rest = [v for v in ids if v not in out]
    if not rest:
        return out
    v = t.versions
    covered = sa.exists().where(
        pii_scans.c.version_id == sa.literal(RUN_SCAN_PREFIX) + v.c.run_id)
    with ms.sa_engine.connect() as conn:
        for chunk in chunks(rest):
            out.update(conn.execute(
                sa.select(v.c.id).where(v.c.id.in_(chunk), v.c.status == "published",
                                        v.c.run_id.is_not(None), covered)).scalars())
    return out


def versions_by_id(ms: Metastore, version_ids: Sequence[str]) -> dict[str, Any]:
    """Version id -> ``Version`` for every id found, in one query per chunk."""
    ids = list(dict.fromkeys(v for v in version_ids if v))
    out: dict[str, Any] = {}
    with ms.sa_engine.connect() as conn:
        for chunk in chunks(ids):
            for r in conn.execute(sa.select(t.versions).where(t.versions.c.id.in_(chunk))):
                out[r.id] = _version(r)
    return out


def profile_docs(ms: Metastore, version_ids: Sequence[str],
                 part: Callable[[dict[str, Any]], dict[str, Any]] | None = None
                 ) -> dict[str, dict[str, Any]]:
    """Version id -> its stored profile document, for the ids that have one (``part``:
    applied to each as it is read, to keep only what the caller needs)."""
    from steward.core.docs import load_doc
    from steward.meta.profiles import profiles

    ids = list(dict.fromkeys(version_ids))
    out: dict[str, dict[str, Any]] = {}
    with ms.sa_engine.connect() as conn:
        for chunk in chunks(ids):
            q = sa.select(profiles.c.version_id, profiles.c.profile_json).where(
                profiles.c.version_id.in_(chunk))
            for vid, doc in conn.execute(q):
                if doc:
                    out[vid] = part(load_doc(doc)) if part else load_doc(doc)
    return out


def event_after(ms: Metastore, seq: int) -> str | None:
    """The ``after_json`` of event ``seq`` (None when there is no such event)."""
    with ms.sa_engine.connect() as conn:
        return conn.execute(sa.select(events.c.after_json)  # type: ignore[no-any-return]
                            .where(events.c.seq == seq)).scalar()


def pointer_events(ms: Metastore, batch: int = 5_000) -> Iterator[tuple[int, str, str]]:
    """(seq, action, after_json) of every event whose ``after`` records pointers, in order."""
    with ms.sa_engine.connect() as conn:
        result = conn.execution_options(yield_per=batch).execute(
            sa.select(events.c.seq, events.c.action, events.c.after_json)
            .where(events.c.after_json.like('%"digest":%'))
            .order_by(events.c.seq))
        for part in result.partitions():
            yield from part
