"""The metastore side of operations (see m0012): freshness samples, alerts and their
deliveries, and what each scheduled fire decided."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from steward.meta.store import Metastore
from steward.meta.tables import (  # the one MetaData (see m0012)
    alert_deliveries,
    alerts,
    freshness_samples,
    maturity_scores,
    schedule_fires,
)


def _rows(ms: Metastore, q: Any) -> list[dict[str, Any]]:
    with ms.sa_engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(q)]


def add_samples(ms: Metastore, rows: list[dict[str, Any]]) -> None:
    if rows:
        with ms.sa_engine.begin() as conn:
            conn.execute(freshness_samples.insert(), rows)


def samples(ms: Metastore, env: str, since: datetime,
            products: list[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """Product -> its samples in ``env`` from ``since`` on, oldest first (``at``,
    ``status``), each led by the last one before ``since`` (it holds at the window's
    start)."""
    t = freshness_samples
    cols = (t.c.product, t.c.at, t.c.status)
    out: dict[str, list[dict[str, Any]]] = {}
    q = sa.select(*cols).where(t.c.env == env, t.c.at >= since).order_by(t.c.at, t.c.id)
    if products is not None:
        q = q.where(t.c.product.in_(products))
    with ms.sa_engine.connect() as conn:
        for p, at, status in conn.execute(
                sa.select(*cols).where(t.c.id.in_(_last_ids(env, since, products)))):
            out.setdefault(p, []).append({"at": at, "status": status})
        for p, at, status in conn.execute(q):
            out.setdefault(p, []).append({"at": at, "status": status})
    return out


def _last_ids(env: str, before: datetime | None, products: list[str] | None) -> Any:
    t = freshness_samples
    q = sa.select(sa.func.max(t.c.id)).where(t.c.env == env)
    if before is not None:
        q = q.where(t.c.at < before)
    if products is not None:
        q = q.where(t.c.product.in_(products))
    return q.group_by(t.c.product).scalar_subquery()


def last_samples(ms: Metastore, env: str) -> dict[str, dict[str, Any]]:
    """Product -> its latest sample in ``env``."""
    t = freshness_samples
    return {r["product"]: r for r in _rows(ms, sa.select(t.c.product, t.c.at, t.c.status)
                                           .where(t.c.id.in_(_last_ids(env, None, None))))}


def open_alerts(ms: Metastore) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in _rows(ms, sa.select(alerts).where(alerts.c.status == "open"))}


def all_alerts(ms: Metastore, limit: int = 200) -> list[dict[str, Any]]:
    return _rows(ms, sa.select(alerts).order_by(alerts.c.opened_at.desc()).limit(limit))


def open_alert(ms: Metastore, key: str, event: str, env: str | None, subject: str | None,
               message: str, at: datetime) -> bool:
    """Open ``key``; False (and a count bumped) when it is open already."""
    with ms.sa_engine.begin() as conn:
        row = conn.execute(sa.select(alerts.c.status).where(alerts.c.key == key)).first()
        if row is not None and row[0] == "open":
            conn.execute(alerts.update().where(alerts.c.key == key)
                         .values(count=alerts.c.count + 1))
            return False
        conn.execute(alerts.delete().where(alerts.c.key == key))
        conn.execute(alerts.insert(), {"key": key, "event": event, "env": env,
                                       "subject": subject, "status": "open",
                                       "message": message, "opened_at": at, "count": 1})
        return True


def resolve_alert(ms: Metastore, key: str, at: datetime) -> None:
    with ms.sa_engine.begin() as conn:
        conn.execute(alerts.update().where(alerts.c.key == key, alerts.c.status == "open")
                     .values(status="resolved", resolved_at=at))


def add_delivery(ms: Metastore, row: dict[str, Any]) -> None:
    with ms.sa_engine.begin() as conn:
        conn.execute(alert_deliveries.insert(), row)


def deliveries(ms: Metastore, key: str | None = None) -> list[dict[str, Any]]:
    q = sa.select(alert_deliveries).order_by(alert_deliveries.c.id)
    if key is not None:
        q = q.where(alert_deliveries.c.key == key)
    return _rows(ms, q)


def add_fire(ms: Metastore, row: dict[str, Any]) -> int:
    with ms.sa_engine.begin() as conn:
        key = conn.execute(schedule_fires.insert(), row).inserted_primary_key
        assert key is not None
        return int(key[0])


def finish_fire(ms: Metastore, fire_id: int, status: str, at: datetime,
                run_id: str | None = None, reason: str | None = None) -> None:
    with ms.sa_engine.begin() as conn:
        conn.execute(schedule_fires.update().where(schedule_fires.c.id == fire_id)
                     .values(status=status, finished_at=at, run_id=run_id, reason=reason))


def fires(ms: Metastore, schedule: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    t = schedule_fires
    q = sa.select(t).order_by(t.c.id.desc()).limit(limit)
    if schedule is not None:
        q = q.where(t.c.schedule == schedule)
    return _rows(ms, q)


def interrupt_started(ms: Metastore, at: datetime) -> list[dict[str, Any]]:
    """Mark fires left 'started' by a process that died as 'interrupted'; returns them."""
    t = schedule_fires
    left = _rows(ms, sa.select(t).where(t.c.status == "started"))
    if left:
        with ms.sa_engine.begin() as conn:
            conn.execute(t.update().where(t.c.status == "started").values(
                status="interrupted", finished_at=at,
                reason="the server stopped during this run (recovered on the next start)"))
    return left


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=str)


def add_maturity(ms: Metastore, at: datetime, score: float, areas: dict[str, float]) -> None:
    with ms.sa_engine.begin() as conn:
        conn.execute(maturity_scores.insert(), {"at": at, "score": score,
                                                "areas_json": dumps(areas)})


def maturity_history(ms: Metastore, limit: int = 50) -> list[dict[str, Any]]:
    t = maturity_scores
    rows = _rows(ms, sa.select(t).order_by(t.c.id.desc()).limit(limit))
    for r in rows:
        r["areas"] = json.loads(r.pop("areas_json"))
    return rows


# -- delivery metrics (steward.ops.delivery) ------------------------------------------
def delivery_events(ms: Metastore, since: str, actions: tuple[str, ...] = ("promote",
                                                                          "rollback")
                    ) -> list[tuple[int, str, str, str, str]]:
    """(seq, ts, action, targets_json, after_json) of the audit events of ``actions``
    from ``since`` (ISO) on, oldest first: only the columns the measures read."""
    from steward.meta.tables import audit_events as ev

    q = (sa.select(ev.c.seq, ev.c.ts, ev.c.action, ev.c.targets_json, ev.c.after_json)
         .where(ev.c.action.in_(list(actions)), ev.c.ts >= since).order_by(ev.c.seq))
    with ms.sa_engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]


def version_origins(ms: Metastore, version_ids: list[str]
                    ) -> dict[str, tuple[datetime | None, str | None, datetime | None]]:
    """Version id -> (built at, the git state of the run that built it, its commit's
    time), one query per chunk."""
    from steward.meta.store import _aware, chunks
    from steward.meta.tables import runs, versions

    out: dict[str, tuple[datetime | None, str | None, datetime | None]] = {}
    q = (sa.select(versions.c.id, versions.c.created_at, runs.c.git_state,
                   runs.c.git_committed_at)
         .select_from(versions.outerjoin(runs, runs.c.id == versions.c.run_id)))
    with ms.sa_engine.connect() as conn:
        for chunk in chunks(list(dict.fromkeys(version_ids))):
            for vid, built, state, committed in conn.execute(
                    q.where(versions.c.id.in_(chunk))):
                out[vid] = (_aware(built), state, _aware(committed))
    return out


def finished_runs(ms: Metastore, envs: list[str], since: datetime
                  ) -> list[tuple[str, str, datetime, datetime]]:
    """(env, status, started, finished) of the finished runs of ``envs`` started from
    ``since`` on."""
    from steward.meta.store import _aware
    from steward.meta.tables import runs

    q = (sa.select(runs.c.env, runs.c.status, runs.c.started_at, runs.c.finished_at)
         .where(runs.c.env.in_(envs), runs.c.started_at >= since,
                runs.c.finished_at.is_not(None)))
    with ms.sa_engine.connect() as conn:
        return [(e, s, _aware(a), _aware(b)) for e, s, a, b in conn.execute(q)]  # type: ignore[misc]


def change_mark(ms: Metastore) -> tuple[Any, ...]:
    """What changes when a run finishes or an audit event is written (the last run's id,
    status and end; the trail's head): polled every second by the server, which raises
    a failed run's alert at once instead of at its next watch pass."""
    from steward.meta.tables import audit_events as ev
    from steward.meta.tables import runs

    with ms.sa_engine.connect() as conn:
        last = conn.execute(sa.select(runs.c.id, runs.c.status, runs.c.finished_at)
                            .order_by(runs.c.started_at.desc()).limit(1)).first()
        head = conn.execute(sa.select(sa.func.max(ev.c.seq))).scalar()
    return (tuple(last) if last else None, head)


# -- /metrics (steward.ops.prom): the columns it exposes, nothing decoded ---------------
def recent_runs(ms: Metastore, limit: int) -> list[tuple[str, str, str, Any, Any]]:
    """(id, env, status, started, finished) of the ``limit`` most recent runs."""
    from steward.meta.store import _aware
    from steward.meta.tables import runs

    q = (sa.select(runs.c.id, runs.c.env, runs.c.status, runs.c.started_at,
                   runs.c.finished_at).order_by(runs.c.started_at.desc()).limit(limit))
    with ms.sa_engine.connect() as conn:
        return [(i, e, s, _aware(a), _aware(b)) for i, e, s, a, b in conn.execute(q)]


def step_durations(ms: Metastore, run_id: str) -> list[tuple[str, float]]:
    from steward.meta.tables import run_steps as st

    q = (sa.select(st.c.product, st.c.duration_s)
         .where(st.c.run_id == run_id, st.c.duration_s.is_not(None)).order_by(st.c.product))
    with ms.sa_engine.connect() as conn:
        return [(p, float(d)) for p, d in conn.execute(q)]


def current_facts(ms: Metastore, env: str) -> list[tuple[str, Any, Any, Any]]:
    """(product, rows, bytes, check status) of every version ``env`` points at."""
    from steward.meta.tables import env_pointers as p
    from steward.meta.tables import versions as v

    q = (sa.select(p.c.product, v.c.row_count, v.c.bytes, v.c.check_status)
         .select_from(p.join(v, v.c.id == p.c.version_id))
         .where(p.c.env == env).order_by(p.c.product))
    with ms.sa_engine.connect() as conn:
        return [tuple(r) for r in conn.execute(q)]  # type: ignore[misc]
