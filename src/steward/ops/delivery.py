"""Delivery metrics of the data products (DORA for data), from the audit trail and runs.

- deployment frequency: promotions into a protected environment (``environments:
  protected``, else the default environment) per week;
- lead time for changes: from a version's build (the first time the change existed as
  data) to the promotion that put it into production; median and 90th percentile;
- change failure rate: the share of promotions followed, within ``window``, by a
  rollback of the same environment or a failed run in it;
- time to restore: from a rollback or a failed run in production to the next promotion
  or successful run there.
"""

from __future__ import annotations

import bisect
import statistics
from datetime import UTC, datetime, timedelta
from typing import Any

FAILURE_WINDOW = timedelta(hours=24)


def _ts(text: str) -> datetime:
    d = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def _aware(d: datetime) -> datetime:
    return d if d.tzinfo else d.replace(tzinfo=UTC)


def production(ctx: Any) -> set[str]:
    spec = ctx.project.spec.environments
    return set(spec.protected) or {spec.default}


def delivery_metrics(ctx: Any, since_days: float = 30, domain: str | None = None,
                     now: datetime | None = None) -> dict[str, Any]:
    """The four measures over the last ``since_days`` (products of ``domain`` only)."""
    from steward.meta.audit import versions_by_id

    now = now or datetime.now(UTC)
    start = now - timedelta(days=since_days)
    prod = production(ctx)
    trail = ctx.audit_trail()
    events = [e for e in trail.log(None, None, None, start.isoformat(), None,
                                   ["promote", "rollback"])
              if isinstance(e.after, dict) and e.after.get("env") in prod]
    events.sort(key=lambda e: e.seq)

    mine = None if domain is None else {n for n, p in ctx.project.products.items()
                                        if p.domain == domain}

    def wanted(products: list[str]) -> list[str]:
        return products if mine is None else [p for p in products if p in mine]

    promotions = [e for e in events if e.action == "promote" and wanted(e.targets)]
    rollbacks = [e for e in events if e.action == "rollback" and wanted(e.targets)]
    runs = [r for r in ctx.metastore.runs(5000)
            if r.env in prod and _aware(r.started_at) >= start and r.finished_at is not None]
    failed_runs = [r for r in runs if r.status not in ("success", "ok")]
    good_runs = [r for r in runs if r.status in ("success", "ok")]

    by_env: dict[str, int] = {}
    for e in promotions:
        by_env[e.after["env"]] = by_env.get(e.after["env"], 0) + 1

    ids = {v for e in promotions for p, v in (e.after.get("pointers") or {}).items()
           if v and (mine is None or p in mine)}
    built = {vid: _aware(v.created_at) for vid, v in
             versions_by_id(ctx.metastore, sorted(ids)).items() if v.created_at is not None}
    leads = []
    for e in promotions:
        at = _ts(e.ts)
        for p, vid in (e.after.get("pointers") or {}).items():
            if vid in built and (mine is None or p in mine):
                leads.append((at - built[vid]).total_seconds())

    bad: dict[str, list[datetime]] = {}  # env -> times of rollbacks and failed runs
    for r in rollbacks:
        bad.setdefault(r.after["env"], []).append(_ts(r.ts))
    for run in failed_runs:
        bad.setdefault(run.env, []).append(_aware(run.started_at))
    for times in bad.values():
        times.sort()
    failures = 0
    for e in promotions:
        at, times = _ts(e.ts), bad.get(e.after["env"], [])
        i = bisect.bisect_right(times, at)
        if i < len(times) and times[i] <= at + FAILURE_WINDOW:
            failures += 1

    restores = []
    incidents = [(_ts(r.ts), r.after["env"]) for r in rollbacks] + \
        [(_aware(r.finished_at), r.env) for r in failed_runs]
    fixes = [(_ts(e.ts), e.after["env"]) for e in promotions] + \
        [(_aware(r.finished_at), r.env) for r in good_runs]
    fixed: dict[str, list[datetime]] = {}
    for t, env in fixes:
        fixed.setdefault(env, []).append(t)
    for times in fixed.values():
        times.sort()
    for at, env in sorted(incidents):
        times = fixed.get(env, [])
        i = bisect.bisect_right(times, at)
        if i < len(times):
            restores.append((times[i] - at).total_seconds())

    weeks = max(since_days / 7.0, 1 / 7.0)
    return {
        "since_days": since_days, "domain": domain, "production": sorted(prod),
        "deployments": len(promotions), "deployments_by_env": by_env,
        "deployments_per_week": round(len(promotions) / weeks, 3),
        "lead_time_s": _dist(leads),
        "change_failure_rate": round(failures / len(promotions), 4) if promotions else None,
        "failed_changes": failures,
        "time_to_restore_s": _dist(restores),
        "incidents": len(incidents),
    }


def _dist(values: list[float]) -> dict[str, Any]:
    if not values:
        return {"count": 0, "median": None, "p90": None}
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return {"count": len(values), "median": round(statistics.median(ordered), 1),
            "p90": round(p90, 1)}
