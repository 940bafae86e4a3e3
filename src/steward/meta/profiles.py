"""Metastore reads and writes of profiles and metric series (tables from migration 0003)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from steward.core.docs import dump_doc, load_doc
from steward.meta.bulk import insert_many, prepare
from steward.meta.store import Metastore, present
from steward.meta.tables import metrics, profiles  # noqa: F401


@dataclass(frozen=True)
class MetricPoint:
    product: str
    version_id: str | None
    metric: str
    column: str | None
    value: float | None
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"product": self.product, "version": self.version_id, "metric": self.metric,
                "column": self.column, "value": self.value, "at": self.at.isoformat()}


def _aware(d: datetime) -> datetime:
    return d.replace(tzinfo=UTC) if d.tzinfo is None else d


def save_profile(ms: Metastore, product: str, version_id: str, profile: dict[str, Any],
                 at: datetime | None = None) -> None:
    """Store (or replace) the profile of one version."""
    doc = dump_doc(profile)
    with ms.begin() as conn:
        conn.execute(profiles.delete().where(profiles.c.version_id == version_id))
        conn.execute(profiles.insert(), {
            "version_id": version_id, "product": product, "created_at": at or datetime.now(UTC),
            "seconds": profile.get("seconds"), "profile_json": doc,
        })


def record_profile(ms: Metastore, product: str, version_id: str, profile: dict[str, Any],
                   points: Sequence[MetricPoint], at: datetime | None = None) -> bool:
    """Store a version's profile and, unless the version has some already, its metric points.

    One transaction of four statements (the publish hook's path): the same rows as
    :func:`save_profile` followed by :func:`append_metrics`.

    Returns:
        Whether the points were appended.
    """
    doc = dump_doc(profile)
    rows = _metric_rows(points)
    with ms.begin() as conn:
        conn.execute(_DELETE_PROFILE, {"v": version_id})
        conn.execute(_INSERT_PROFILE, {
            "version_id": version_id, "product": product, "created_at": at or datetime.now(UTC),
            "seconds": profile.get("seconds"), "profile_json": doc,
        })
        if not rows or conn.execute(_HAS_METRICS, {"v": version_id}).first() is not None:
            return False
        conn.execute(_INSERT_METRICS, rows)
    return True


def record_profiles(ms: Metastore,
                    items: Sequence[tuple[str, str, dict[str, Any], Sequence[MetricPoint]]],
                    at: datetime | None = None) -> int:
    """:func:`record_profile` for many versions (product, version id, profile, points), in
    one transaction: the publish hook's batch. Returns the number of metric points added."""
    if not items:
        return 0
    when = at or datetime.now(UTC)
    ids = [vid for _, vid, _, _ in items]
    # everything but the database's own work first: the transaction holds SQLite's write
    # lock, which the run's next step waits for
    dialect = ms.sa_engine.dialect
    docs = prepare(dialect, profiles, [
        {"version_id": vid, "product": product, "created_at": when,
         "seconds": prof.get("seconds"), "profile_json": dump_doc(prof)}
        for product, vid, prof, _ in items])
    points = [p for _, _, _, pts in items for p in pts]
    rows = prepare(dialect, metrics, _metric_rows(points))
    with ms.begin() as conn:
        conn.execute(profiles.delete().where(profiles.c.version_id.in_(ids)))
        docs.run(conn)
        has = set(conn.execute(sa.select(metrics.c.version_id).distinct()
                               .where(metrics.c.version_id.in_(ids))).scalars())
        keep = [p.version_id not in has for p in points]
        rows.run(conn, keep)
    return sum(keep)


# built once: the publish hook runs them for every version
_DELETE_PROFILE = profiles.delete().where(profiles.c.version_id == sa.bindparam("v"))
_INSERT_PROFILE = profiles.insert()
_HAS_METRICS = sa.select(metrics.c.id).where(metrics.c.version_id == sa.bindparam("v")).limit(1)
_INSERT_METRICS = metrics.insert()


def load_profile(ms: Metastore, version_id: str) -> dict[str, Any] | None:
    with ms.sa_engine.connect() as conn:
        doc = conn.execute(sa.select(profiles.c.profile_json)
                           .where(profiles.c.version_id == version_id)).scalar()
    return load_doc(doc) if doc else None


def has_profile(ms: Metastore, version_id: str) -> bool:
    with ms.sa_engine.connect() as conn:
        return conn.execute(sa.select(profiles.c.version_id)
                            .where(profiles.c.version_id == version_id)).first() is not None


def profiled_versions(ms: Metastore, product: str) -> list[tuple[str, datetime]]:
    """(version id, profiled at) of a product, oldest first."""
    with ms.sa_engine.connect() as conn:
        rows = conn.execute(sa.select(profiles.c.version_id, profiles.c.created_at)
                            .where(profiles.c.product == product)
                            .order_by(profiles.c.created_at)).all()
    return [(r[0], _aware(r[1])) for r in rows]


def append_metrics(ms: Metastore, points: Sequence[MetricPoint]) -> int:
    """Append points to the series; non-finite values are stored as NULL."""
    rows = _metric_rows(points)
    if rows:
        with ms.begin() as conn:
            insert_many(conn, metrics, rows)
    return len(rows)


def _metric_rows(points: Sequence[MetricPoint]) -> list[dict[str, Any]]:
    return [{"product": p.product, "version_id": p.version_id, "metric": p.metric,
             "column": p.column or "", "at": p.at,
             "value": p.value if p.value is not None and math.isfinite(p.value) else None}
            for p in points]


def series(ms: Metastore, product: str, metric: str | None = None, column: str | None = None,
           limit: int | None = None, exclude_version: str | None = None) -> list[MetricPoint]:
    """Points of a product's series, oldest first (the newest ``limit`` when given).

    ``column=None`` means every column; pass ``""`` for table-level metrics only.
    """
    q = sa.select(metrics).where(metrics.c.product == product)
    if metric:
        q = q.where(metrics.c.metric == metric)
    if column is not None:
        q = q.where(metrics.c.column == column)
    if exclude_version:
        q = q.where(sa.or_(metrics.c.version_id.is_(None),
                           metrics.c.version_id != exclude_version))
    q = q.order_by(metrics.c.at.desc(), metrics.c.id.desc())
    if limit:
        q = q.limit(limit)
    with ms.sa_engine.connect() as conn:
        rows = conn.execute(q).all()
    return [MetricPoint(r.product, r.version_id, r.metric, r.column or None, r.value,
                        _aware(r.at)) for r in reversed(rows)]


def metric_names(ms: Metastore, product: str) -> list[tuple[str, str | None, int]]:
    """(metric, column, number of points) of a product."""
    with ms.sa_engine.connect() as conn:
        rows = conn.execute(
            sa.select(metrics.c.metric, metrics.c.column, sa.func.count())
            .where(metrics.c.product == product)
            .group_by(metrics.c.metric, metrics.c.column)
            .order_by(metrics.c.metric, metrics.c.column)).all()
    return [(r[0], r[1] or None, int(r[2])) for r in rows]


def versions_with_metrics(ms: Metastore, version_ids: Iterable[str]) -> set[str]:
    return present(ms, metrics.c.version_id, version_ids)
