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
