"""Metastore queries of the catalog area: recent failures per product."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from steward.meta import tables as t
from steward.meta.store import Metastore, _aware


@dataclass(frozen=True)
class Failure:
    product: str
    run_id: str
    started_at: datetime | None
    error: str | None


def recent_failures(metastore: Metastore, last_runs: int = 10) -> list[Failure]:
    """Steps with status ``failed`` in the ``last_runs`` most recent runs, newest first."""
    recent = (sa.select(t.runs.c.id).order_by(t.runs.c.started_at.desc())
              .limit(last_runs).scalar_subquery())
    q = (sa.select(t.run_steps.c.product, t.run_steps.c.run_id, t.runs.c.started_at,
                   t.run_steps.c.error)
         .join(t.runs, t.runs.c.id == t.run_steps.c.run_id)
         .where(t.run_steps.c.status == "failed", t.run_steps.c.run_id.in_(recent))
         .order_by(t.runs.c.started_at.desc(), t.run_steps.c.product))
    with metastore.sa_engine.connect() as conn:
        return [Failure(p, r, _aware(s), e) for p, r, s, e in conn.execute(q)]
