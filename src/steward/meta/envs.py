"""Metastore queries of change management: promote, rollback, history, gc, code records.

Every promote and rollback is ONE transaction that takes the metastore's write lock first
(``BEGIN IMMEDIATE`` on SQLite, ``SELECT ... FOR UPDATE`` elsewhere), re-reads the state
it decides on, moves the pointers and appends the history rows. Two racing promotions
are therefore serialised: the second sees the first's result and decides again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from steward.core import faults
from steward.core.errors import NotFound, PlanError
from steward.core.ids import new_id
from steward.core.records import Version
from steward.meta import tables as t
from steward.meta.audit import AuditSink
from steward.meta.reads import pointers_digest
from steward.meta.store import Metastore, _aware, _version, _version_row, chunks, now
from steward.meta.tables import env_specs, fingerprint_code, pointer_moves  # noqa: F401


@dataclass
class MoveResult:
    """What a promote or rollback did: ``moves`` is product -> (from version, to version)."""

    batch: str
    env: str
    moves: dict[str, tuple[str | None, str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)


@contextmanager
def write_txn(ms: Metastore, lock_env: str | None = None) -> Iterator[sa.Connection]:
    """A transaction holding the write lock from its first statement."""
    if ms.sa_engine.dialect.name == "sqlite":
        with ms.sa_engine.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        return
    with ms.sa_engine.begin() as conn:
        if lock_env:
            conn.execute(sa.select(t.environments.c.name)
                         .where(t.environments.c.name == lock_env).with_for_update())
        yield conn


# -- reading --------------------------------------------------------------------------
def env_created_at(conn: sa.Connection, env: str) -> datetime | None:
    row = conn.execute(sa.select(t.environments.c.created_at)
                       .where(t.environments.c.name == env)).first()
    if row is None:
        raise NotFound(f"no environment {env!r}")
    return _aware(row[0])


@dataclass(frozen=True)
class LightPointer:
    """What promote and rollback need of a pointer, without parsing whole versions."""

    version_id: str
    check_status: str | None
    updated_at: datetime | None
    inputs: dict[str, str]


def light_pointers(conn: sa.Connection, env: str) -> dict[str, LightPointer]:
    q = (sa.select(t.env_pointers.c.product, t.env_pointers.c.version_id,
                   t.versions.c.check_status, t.env_pointers.c.updated_at,
                   t.versions.c.inputs_json)
         .join(t.versions, t.env_pointers.c.version_id == t.versions.c.id)
         .where(t.env_pointers.c.env == env))
    return {p: LightPointer(v, c, _aware(u), json.loads(i) if i else {})
            for p, v, c, u, i in conn.execute(q)}


def published_inputs(ms: Metastore, products: Iterable[str]
                     ) -> dict[str, list[tuple[str, dict[str, str]]]]:
    """Each product's published versions (id, inputs), newest first."""
    names = sorted(set(products))
    out: dict[str, list[tuple[str, dict[str, str]]]] = {}
    with ms.sa_engine.connect() as conn:
        for chunk in chunks(names):
            q = (sa.select(t.versions.c.product, t.versions.c.id, t.versions.c.inputs_json)
                 .where(t.versions.c.product.in_(chunk),
                        t.versions.c.status == "published")
                 .order_by(t.versions.c.created_at.desc(), t.versions.c.id.desc()))
            for p, vid, inputs in conn.execute(q):
                out.setdefault(p, []).append((vid, json.loads(inputs) if inputs else {}))
    return out


def failed_attempts(conn: sa.Connection, env: str, since: Mapping[str, datetime | None]
                    ) -> dict[str, Version]:
    """The newest failed version built in ``env`` per product, if newer than ``since``."""
    q = (sa.select(t.versions)
         .join(t.runs, t.runs.c.id == t.versions.c.run_id)
         .where(t.runs.c.env == env, t.versions.c.status == "failed")
         .order_by(t.versions.c.created_at))
    out: dict[str, Version] = {}
    for r in conn.execute(q):
        v = _version(r)
        cut = since.get(v.product)
        if v.product in since and (cut is None or (v.created_at and v.created_at > cut)):
            out[v.product] = v
    return out


def history(ms: Metastore, env: str, product: str) -> list[tuple[datetime, str]]:
    """The versions ``env`` pointed ``product`` at, oldest first (every move is a
    ``pointer_moves`` row: runs, promotions, rollbacks, repairs)."""
    with ms.sa_engine.connect() as conn:
        moves = conn.execute(
            sa.select(pointer_moves.c.at, pointer_moves.c.to_version)
            .where(pointer_moves.c.env == env, pointer_moves.c.product == product)
            .order_by(pointer_moves.c.id)).all()
    rows = [(_aware(a), v) for a, v in moves if a is not None and v]
    return sorted(rows, key=lambda r: r[0])  # type: ignore[arg-type, return-value]


def moves_log(ms: Metastore, env: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
    q = sa.select(pointer_moves).order_by(pointer_moves.c.id.desc()).limit(limit)
    if env:
        q = q.where(pointer_moves.c.env == env)
    with ms.sa_engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


# -- code and metadata records ---------------------------------------------------------
def code_records(ms: Metastore, fps: Iterable[str]) -> dict[str, dict[str, Any]]:
    return ms.reads.code_records(fps)


def record_code(ms: Metastore, rows: Sequence[dict[str, Any]]) -> int:
    """Remember the code behind fingerprints not yet recorded; returns how many were new."""
    known = code_records(ms, [r["fingerprint"] for r in rows])
    new = [{**r, "created_at": now()} for r in rows if r["fingerprint"] not in known]
    if new:
        with ms.begin() as conn:
            conn.execute(fingerprint_code.insert(), new)
    return len(new)


def env_spec_map(ms: Metastore, env: str) -> dict[str, tuple[str, str]]:
    """Product -> (metadata fingerprint, spec JSON) the environment last ran with."""
    return ms.reads.env_spec_map(env)


def global_spec_map(ms: Metastore) -> dict[str, tuple[str, str]]:
    return ms.reads.global_spec_map()


def save_env_specs(ms: Metastore, env: str, specs: Mapping[str, tuple[str, str]],
                   conn: sa.Connection | None = None) -> None:
    if not specs:
        return
    if conn is None:
        with ms.begin() as c:
            save_env_specs(ms, env, specs, c)
        return
    known = dict(conn.execute(sa.select(env_specs.c.product, env_specs.c.metadata_fp)
                              .where(env_specs.c.env == env)).all())
    changed = {p: v for p, v in specs.items() if known.get(p) != v[0]}
    names = list(changed)
    for chunk in chunks(names):
        conn.execute(env_specs.delete().where(env_specs.c.env == env,
                                              env_specs.c.product.in_(chunk)))
    if changed:
        ts = now()
        conn.execute(env_specs.insert(), [
            {"env": env, "product": p, "metadata_fp": m, "spec_json": s, "updated_at": ts}
            for p, (m, s) in changed.items()])


def insert_versions(ms: Metastore, versions: Sequence[Version]) -> None:
    """Insert complete (e.g. alias) versions in one transaction."""
    if versions:
        with ms.begin() as conn:
            conn.execute(t.versions.insert(), [_version_row(v) for v in versions])


# -- environments -----------------------------------------------------------------------
def pointer_ids(conn: sa.Connection, env: str) -> dict[str, str]:
    q = sa.select(t.env_pointers.c.product, t.env_pointers.c.version_id)
    return dict(conn.execute(q.where(t.env_pointers.c.env == env)).all())  # type: ignore[arg-type]


def create_env(ms: Metastore, env: str, from_env: str | None, actor: str | None,
               message: str | None = None, audit: AuditSink | None = None,
               exists_ok: bool = False) -> int | None:
    """Create ``env`` as a copy of ``from_env``'s pointers; returns how many it points at
    (None when it existed and ``exists_ok``). The copy, its history row and its audit
    event commit in one transaction."""
    if from_env and not ms.env_exists(from_env):
        raise NotFound(f"no environment {from_env!r} to create {env!r} from")
    with write_txn(ms, lock_env=from_env) as conn:
        exists = conn.execute(sa.select(t.environments.c.name)
                              .where(t.environments.c.name == env)).first()
        if exists:
            if exists_ok:
                return None
            raise PlanError(f"environment {env!r} exists already; nothing was changed")
        conn.execute(t.environments.insert(),
                     {"name": env, "created_at": now(), "created_from": from_env})
        copied: dict[str, str | None] = dict(pointer_ids(conn, from_env)) if from_env else {}
        record_moves(conn, ms, env, copied, {}, "env.create", actor, message,
                     source_env=from_env, audit=audit, extra={"from": from_env, "full": True},
                     reason=message or (f"created from {from_env}" if from_env
                                        else "created empty"), star=True)
        if from_env:
            conn.execute(env_specs.insert().from_select(
                ["env", "product", "metadata_fp", "spec_json", "updated_at"],
                sa.select(sa.literal(env), env_specs.c.product, env_specs.c.metadata_fp,
                          env_specs.c.spec_json, env_specs.c.updated_at)
                .where(env_specs.c.env == from_env)))
    if audit is not None:
        audit.committed()
    return len(copied)


def record_moves(conn: sa.Connection, ms: Metastore, env: str,
                 moves: Mapping[str, str | None], before: Mapping[str, str | None],
                 action: str, actor: str | None, message: str | None,
                 source_env: str | None = None, audit: AuditSink | None = None,
                 batch: str | None = None, extra: Mapping[str, Any] | None = None,
                 reason: str | None = None, star: bool = False) -> str:
    """Move pointers (a None version removes one), append their history rows and, with
    ``audit``, the audit event recording the moves and a digest of the environment's
    pointers afterwards: all inside the caller's transaction."""
    batch = batch or new_id("b")
    sets = {p: v for p, v in moves.items() if v is not None}
    gone = [p for p, v in moves.items() if v is None]
    ms.set_pointers(env, sets, conn)
    for chunk in chunks(gone):
        conn.execute(t.env_pointers.delete().where(t.env_pointers.c.env == env,
                                                   t.env_pointers.c.product.in_(chunk)))
    ts = now()
    rows = [{"batch": batch, "at": ts, "env": env, "product": p, "from_version": before.get(p),
             "to_version": v, "action": action, "source_env": source_env, "actor": actor,
             "message": message} for p, v in moves.items()]
    if star:  # one row for the whole operation (an environment's creation)
        rows = [{"batch": batch, "at": ts, "env": env, "product": "*", "from_version": None,
                 "to_version": None, "action": action, "source_env": source_env,
                 "actor": actor, "message": message}]
    if rows:
        conn.execute(pointer_moves.insert(), rows)
    if audit is not None:
        after_map = pointer_ids(conn, env)
        seq = audit.append_in(
            conn, action, sorted(moves),
            before={"env": env, "pointers": {p: before.get(p) for p in moves}},
            after={"env": env, "pointers": dict(moves), "digest": pointers_digest(after_map),
                   **(extra or {})},
            reason=reason or message)
        conn.execute(t.environments.update().where(t.environments.c.name == env)
                     .values(audit_seq=seq))
    faults.point("moves.in_txn")
    return batch


def seal_env(ms: Metastore, env: str, audit: AuditSink, action: str, reason: str,
             pointers: Mapping[str, str] | None = None, actor: str | None = None) -> int:
    """Record an environment's whole pointer map in one audit event (a baseline for an
    environment created before pointer moves were audited, or a repair that sets the
    pointers to ``pointers``); returns the event's seq."""
    with write_txn(ms, lock_env=env) as conn:
        if pointers is not None:
            now_at = pointer_ids(conn, env)
            moves: dict[str, str | None] = {p: v for p, v in pointers.items()
                                            if now_at.get(p) != v}
            moves.update({p: None for p in now_at if p not in pointers})
            if moves:
                record_moves(conn, ms, env, moves, dict(now_at), action, actor, reason)
        ids = pointer_ids(conn, env)
        seq = audit.append_in(conn, action, sorted(ids), before=None,
                              after={"env": env, "pointers": ids, "full": True,
                                     "digest": pointers_digest(ids)}, reason=reason)
        conn.execute(t.environments.update().where(t.environments.c.name == env)
                     .values(audit_seq=seq))
    audit.committed()
    return seq


def apply_moves(conn: sa.Connection, ms: Metastore, env: str, moves: Mapping[str, str],
                before: Mapping[str, str | None], action: str, actor: str | None,
                message: str | None, source_env: str | None = None,
                audit: AuditSink | None = None) -> str:
    """Move pointers and append their history inside the caller's transaction."""
    return record_moves(conn, ms, env, dict(moves), before, action, actor, message,
                        source_env=source_env, audit=audit)


def commit_run(ms: Metastore, env: str, run_id: str, moves: Mapping[str, str],
               expected: Mapping[str, str | None], aliases: Sequence[Version],
               actor: str | None, audit: AuditSink | None) -> list[str]:
    """The end of a run: insert its alias versions and move its pointers, with their
    history rows and audit event, in one transaction.

    ``expected`` is what the run planned against; a pointer another writer moved since
    is left alone and returned, never overwritten.
    """
    real: dict[str, str | None] = {}
    with write_txn(ms, lock_env=env) as conn:
        if aliases:
            conn.execute(t.versions.insert(), [_version_row(v) for v in aliases])
        now_at = pointer_ids(conn, env)
        raced = sorted(p for p in moves if now_at.get(p) != expected.get(p))
        real = {p: v for p, v in moves.items() if p not in raced and now_at.get(p) != v}
        if real:
            record_moves(conn, ms, env, real, dict(now_at), "run", actor, f"run {run_id}",
                         audit=audit, batch=run_id, extra={"run": run_id})
    if audit is not None and real:
        audit.committed()
    return raced


def promote(ms: Metastore, src: str, dst: str, products: Iterable[str] | None,
            actor: str | None, message: str | None, audit: AuditSink | None = None
            ) -> MoveResult:
    """Point ``dst`` at ``src``'s versions of ``products`` (all of ``src``'s when None).

    Refuses (and changes nothing) when ``src`` has a failed build or gate on a selected
    product newer than the version it points at, or when ``dst`` moved a selected product
    after ``src`` was created and ``src`` has not changed it since (``src`` is behind:
    promoting would undo that move).
    """
    if src == dst:
        raise PlanError(f"cannot promote {src!r} onto itself")
    if not ms.env_exists(src):
        raise NotFound(f"no environment {src!r} to promote from; 'steward env ls' lists them")
    create_env(ms, dst, None, actor, f"created by promote from {src}", audit, exists_ok=True)
    with write_txn(ms, lock_env=dst) as conn:
        created = env_created_at(conn, src)
        sp = light_pointers(conn, src)
        dp = light_pointers(conn, dst)
        wanted = sorted(sp) if products is None else sorted(set(products))
        missing = [p for p in wanted if p not in sp]
        if missing:
            raise PlanError(f"{src!r} has no version of {', '.join(missing[:5])}"
                            + (f" (+{len(missing) - 5} more)" if len(missing) > 5 else "")
                            + f"; build it first: steward run --env {src} {missing[0]}")
        failed = failed_attempts(conn, src, {p: sp[p].updated_at for p in wanted})
        problems: list[str] = []
        for p in wanted:
            if sp[p].check_status == "fail":
                problems.append(f"{p}: version {sp[p].version_id} in {src!r} failed its "
                                "checks")
            elif p in failed:
                err = (failed[p].error or "failed").splitlines()[0][:160]
                problems.append(f"{p}: the last build in {src!r} failed ({err})")
        if problems:
            raise PlanError(f"refusing to promote {src!r} to {dst!r}: {src!r} has failed gates\n"
                            + "\n".join("  " + x for x in problems)
                            + f"\nfix them and re-run 'steward run --env {src}', "
                              "or leave those products out of the selection")
        moves: dict[str, str] = {}
        before: dict[str, str | None] = {}
        behind: list[str] = []
        unchanged: list[str] = []
        for p in wanted:
            s, d = sp[p], dp.get(p)
            if d is not None and d.version_id == s.version_id:
                unchanged.append(p)
                continue
            # behind: dst moved p after src was created, and src has not changed p since
            # (a newer change in src is a deliberate decision, and wins)
            if (d is not None and created is not None and d.updated_at is not None
                    and d.updated_at > created
                    and (s.updated_at is None or s.updated_at <= d.updated_at)):
                behind.append(f"{p}: {dst!r} moved it to {d.version_id} after {src!r} was "
                              f"created, and {src!r} has not changed it since")
                continue
            moves[p] = s.version_id
            before[p] = d.version_id if d else None
        if behind:
            raise PlanError(
                f"refusing to promote {src!r} to {dst!r}: {src!r} is behind {dst!r}\n"
                + "\n".join("  " + x for x in behind[:20])
                + (f"\n  ... {len(behind) - 20} more" if len(behind) > 20 else "")
                + f"\nbring {src!r} up to date ('steward run --env {src}' reuses {dst!r}'s "
                  f"versions of unchanged code), or recreate it from {dst!r}; nothing was moved")
        result = MoveResult("", dst, {p: (before[p], v) for p, v in moves.items()}, unchanged)
        if moves:
            result.batch = apply_moves(conn, ms, dst, moves, before, "promote", actor,
                                       message or f"promote {src} -> {dst}", source_env=src,
                                       audit=audit)
            specs = conn.execute(sa.select(env_specs.c.product, env_specs.c.metadata_fp,
                                           env_specs.c.spec_json)
                                 .where(env_specs.c.env == src)).all()
            save_env_specs(ms, dst, {p: (m, s) for p, m, s in specs if p in moves}, conn)
    if audit is not None and moves:
        audit.committed()
    return result


def move_pointers(ms: Metastore, env: str, moves: Mapping[str, str],
                  expected: Mapping[str, str | None], action: str, actor: str | None,
                  message: str | None, audit: AuditSink | None = None) -> MoveResult:
    """Move ``env``'s pointers if they still are what the caller saw (else refuse)."""
    if not ms.env_exists(env):
        raise NotFound(f"no environment {env!r}")
    with write_txn(ms, lock_env=env) as conn:
        now_at = dict(conn.execute(sa.select(t.env_pointers.c.product, t.env_pointers.c.version_id)
                                   .where(t.env_pointers.c.env == env)).all())
        raced = [p for p in moves if now_at.get(p) != expected.get(p)]
        if raced:
            raise PlanError(f"{env!r} changed while planning the {action} of "
                            f"{', '.join(raced)}; nothing was moved, try again")
        real = {p: v for p, v in moves.items() if now_at.get(p) != v}
        result = MoveResult("", env, {p: (now_at.get(p), v) for p, v in real.items()},
                            [p for p in moves if p not in real])
        if real:
            result.batch = apply_moves(conn, ms, env, real, now_at, action, actor, message,
                                       audit=audit)
    if audit is not None and result.batch:
        audit.committed()
    return result


def delete_versions(ms: Metastore, ids: Sequence[str]) -> list[str]:
    """Delete version rows no environment points at (re-checked in the transaction)."""
    deleted: list[str] = []
    with write_txn(ms) as conn:
        pointed = set(conn.execute(sa.select(t.env_pointers.c.version_id).distinct()).scalars())
        ids = [i for i in ids if i not in pointed]
        for chunk in chunks(ids):
            conn.execute(t.versions.delete().where(t.versions.c.id.in_(chunk),
                                                   t.versions.c.status != "building"))
            deleted.extend(chunk)
    return deleted


def all_versions(ms: Metastore) -> list[Version]:
    with ms.sa_engine.connect() as conn:
        return [_version(r) for r in conn.execute(sa.select(t.versions))]


def pointed_ids(ms: Metastore) -> set[str]:
    with ms.sa_engine.connect() as conn:
        return set(conn.execute(sa.select(t.env_pointers.c.version_id).distinct()).scalars())


def spec_json_of(ms: Metastore, product: str) -> dict[str, Any] | None:
    spec = ms.product_spec(product)
    return spec if spec is None else dict(spec)


def dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, default=str)
