""""What's my product?": who uses a product, what it costs, how it keeps its promises.

One document per product, for ``steward show`` and the product page (and the API's
``/products/P``, which is ``steward show --json``):

- **consumers**: the products and models reading it (from the declarations), the
  consumers its ``meta.consumers`` declares (dashboards, applications: dbt's exposures
  become these), and the people and tools querying it through ``steward sql`` (and
  ``Context.sql``), the API and the web pages, counted over the window
  (``product_queries``);
- **cost**: the engine's CPU seconds and the build time of its builds in the window and
  of the current version, and the bytes its retained versions hold in the store;
- **SLO**: the share of the last 7 and 30 days the product was fresh against its
  freshness SLO, and day by day over the window (from the freshness samples the
  server takes);
- **quality**: the share of its checks each version passed (0-100), version by version
  over the window: the quality score over time.

Everything is read from the metastore with indexed statements
(:mod:`steward.meta.productreads`); nothing is computed from the data.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.ops.parts import OpsParts

WINDOW_DAYS = 30


def product_usage(ctx: OpsParts, name: str, env: str | None = None, days: int = WINDOW_DAYS,
                  now: datetime | None = None, results: dict[str, list[Any]] | None = None,
                  versions: list[Any] | None = None, downstream: list[str] | None = None,
                  current: str | None = None) -> dict[str, Any]:
    """The document of one product (``results``, ``versions``, ``downstream`` and
    ``current``: what a caller already knows: version id -> check results, the
    product's newest versions, the products reading it, the id of its version in
    ``env``)."""
    from steward.meta import productreads as pr
    from steward.ops.freshness import _compliance

    reads = ctx.metastore.reads
    p = ctx.resolve_product(name)
    env = env or ctx.default_env
    now = now or datetime.now(UTC)
    since = now - timedelta(days=days)
    kids = sorted(downstream if downstream is not None else
                  (n for n, q in ctx.project.products.items() if p.name in q.inputs))
    models = [n for n in kids if ctx.project.products[n].kind == "model"]
    asked = pr.queries(reads, p.name, since)
    by_via: dict[str, int] = {}
    for via, _, n, _ in asked:
        by_via[via] = by_via.get(via, 0) + n
    current_id = current if current is not None else pr.pointers(reads, p.name).get(env)
    if versions is None:
        versions = pr.versions(reads, p.name, 30)
    recent = [v for v in versions if v.created_at is not None and v.created_at >= since]
    if results is None:
        results = pr.results_for_versions(reads, [v.id for v in recent])
    cpu = pr.metric_points(reads, p.name, "engine_cpu_s", since)
    built = pr.metric_points(reads, p.name, "build_duration_s", since)
    n_builds, build_s = pr.builds(reads, p.name, since)
    kept, size = pr.stored(reads, p.name)
    quality = []
    for v in reversed(recent):
        rs = results.get(v.id, [])
        if rs:
            quality.append({"version": v.id, "at": v.created_at, "checks": len(rs),
                            "score": round(100 * sum(r.status == "pass" for r in rs)
                                           / len(rs), 1)})
    slo = p.spec_dump.get("freshness")
    fresh = None
    if slo:
        rows = pr.freshness_samples(reads, p.name, env, since)
        fresh = {"slo": slo, "env": env,
                 "compliance_7d": _compliance(rows, 7, now) if rows else None,
                 "compliance_30d": _compliance(rows, 30, now) if rows else None,
                 "days": _daily(rows, days, now)}
    return {
        "product": p.name, "env": env, "window_days": days,
        "consumers": {
            "products": [n for n in kids if n not in models], "models": models,
            # dashboards, applications, notebooks declared in meta.consumers (what
            # `steward import dbt` makes of dbt's exposures)
            "declared": [c for c in (p.spec_dump.get("meta") or {}).get("consumers") or []
                         if isinstance(c, dict)],
            "queries": [{"via": via, "actor": actor, "count": n, "last": last}
                        for via, actor, n, last in asked],
            "queries_by_via": {via: by_via.get(via, 0) for via in ("sql", "api", "web")},
            "total_queries": sum(by_via.values()),
        },
        "cost": {
            "engine_cpu_s": _total(cpu), "engine_cpu_s_current": _of(cpu, current_id),
            "builds": n_builds, "build_s": round(build_s, 3),
            "build_s_current": _of(built, current_id),
            "versions_retained": kept, "bytes_stored": size,
        },
        "freshness": fresh,
        "quality": quality,
    }


def _total(points: list[tuple[float | None, Any, str | None]]) -> float | None:
    values = [v for v, _, _ in points if v is not None]
    return round(sum(values), 3) if values else None


def _of(points: list[tuple[float | None, Any, str | None]], version: str | None
        ) -> float | None:
    found = [v for v, _, vid in points if vid == version and v is not None]
    return round(found[-1], 3) if found and version else None


def _daily(rows: list[dict[str, Any]], days: int, now: datetime) -> list[dict[str, Any]]:
    """The share of each UTC day (the last one up to now) the product was fresh, for the
    days the samples cover."""
    from steward.ops.freshness import share_fresh

    out = []
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    for back in range(days - 1, -1, -1):
        start = today - timedelta(days=back)
        share = share_fresh(rows, start, min(start + timedelta(days=1), now))
        if share is not None:
            out.append({"day": start.date().isoformat(), "compliance": round(share, 4)})
    return out
