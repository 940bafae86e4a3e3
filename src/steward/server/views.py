"""What the home and product pages show, assembled from the Context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from steward.server import masking, shapes
from steward.server.auth import Principal
from steward.server.state import ServerState

RECENT_RUNS = 10
HOME_SECONDS = 30


def home(state: ServerState, env: str | None) -> dict[str, Any]:
    """Products by domain with their health, and the recent runs.

    Reused until the environment's pointers move, a run starts or ends, or half a minute
    passes (the age of versions and the files behind them are checked again then).
    """
    import time

    ctx = state.ctx
    env = ctx.env_name(env)
    runs = ctx.runs(RECENT_RUNS)
    key = ("home", env, state.moved(env), tuple((r.id, r.status) for r in runs),
           int(time.time() // HOME_SECONDS))
    return state.memo(key, lambda: _home(state, env, runs))  # type: ignore[no-any-return]


def _home(state: ServerState, env: str, runs: list[Any]) -> dict[str, Any]:
    from steward.catalog.card import _freshness
    from steward.meta.checks import results_for_versions

    ctx = state.ctx
    current = ctx.current(env)
    states = ctx.version_states(current)
    failing: dict[str, str] = {}
    for r in runs:
        for s in ctx.metastore.steps(run_id=r.id):
            if s.status in ("failed", "blocked") and s.product not in failing:
                failing[s.product] = (s.error or s.status).splitlines()[0][:200]
    results = results_for_versions(ctx.metastore, [v.id for v in current.values()])
    now = datetime.now(UTC)
    domains: dict[str, list[dict[str, Any]]] = {}
    alerts: list[dict[str, Any]] = []
    for p in sorted(ctx.project.products.values(), key=lambda p: p.name):
        v = current.get(p.name)
        fresh = _freshness(p, v, now) if v is not None else None
        problems = []
        if p.name in failing:
            problems.append(("bad", "latest build refused: " + failing[p.name]))
        if v is None:
            problems.append(("muted", "not built"))
        else:
            if v.check_status in ("fail", "warn"):
                problems.append(("bad" if v.check_status == "fail" else "warn",
                                 f"checks {v.check_status}"))
            st = states.get(p.name)
            if st:
                problems.append(("bad" if st.startswith("damaged") else "warn", st))
            if fresh and fresh["status"] != "ok" and p.spec_dump.get("freshness"):
                problems.append(("bad" if fresh["status"] == "error" else "warn",
                                 f"stale ({fresh['age_s'] / 3600:.1f} h old)"))
            for r in results.get(v.id, []):
                if r.type in ("drift", "anomaly") and r.status != "pass":
                    alerts.append({"product": p.name, "name": r.name, "type": r.type,
                                   "message": r.message})
                    problems.append(("warn", f"{r.type}: {r.name}"))
        health = "ok" if not problems else ("bad" if any(k == "bad" for k, _ in problems)
                                            else "warn" if any(k == "warn" for k, _ in problems)
                                            else "muted")
        domains.setdefault(p.domain or "(none)", []).append({
            "name": p.name, "kind": p.kind, "owner": p.owner,
            "description": (p.spec_dump.get("description") or "").strip().split("\n")[0],
            "version": v.id if v else None, "rows": v.row_count if v else None,
            "health": health, "problems": problems})
    counts = {k: sum(1 for ps in domains.values() for x in ps if x["health"] == k)
              for k in ("ok", "warn", "bad", "muted")}
    return {"env": env, "domains": dict(sorted(domains.items())), "runs": runs,
            "alerts": alerts, "counts": counts, "total": len(ctx.project.products)}


def product(state: ServerState, who: Principal, name: str, env: str | None) -> dict[str, Any]:
    """Everything the product page shows (values of personal columns masked)."""
    from steward.meta.checks import results_for_versions
    from steward.profile import report

    ctx = state.ctx
    env = ctx.env_name(env)
    card = shapes.card(ctx, name, env, state.lineage, state.metastore())
    p = ctx.project.products[card.name]
    pii = masking.pii_columns(state.classes(), p.name)
    log = ctx.log(p.name, 30)
    stored = results_for_versions(ctx.metastore, [v.id for v, _ in log])
    timeline = [{"v": v, "envs": envs, "results": stored.get(v.id, [])} for v, envs in log]
    vid = state.pointer_map(env).get(p.name)
    current = ctx.metastore.version(vid) if vid else None
    profs = shapes.profiles(ctx)
    charts: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []
    drift = None
    if current is not None:
        prof = profs.of_version(current, compute=False)
        prev_v = profs.previous(current)
        prev = profs.of_version(prev_v, compute=False) if prev_v else None
        if not who.pii:
            prof, prev = masking.mask_profile(prof, pii), masking.mask_profile(prev, pii)
        pcols = (prev or {}).get("columns", {})
        for cname, col in ((prof or {}).get("columns") or {}).items():
            svg = ""
            if col.get("histogram"):
                svg = report.svg_histogram(col, pcols.get(cname))
            elif col.get("top"):
                svg = report.svg_topk(col, pcols.get(cname))
            charts.append({"name": cname, "col": col, "svg": svg,
                           "masked": bool(col.get("masked"))})
        by_metric: dict[str, list[Any]] = {}
        for x in profs.metrics(p.name):
            if not x.column:
                by_metric.setdefault(x.metric, []).append(x)
        for metric in ("row_count", "bytes", "build_duration_s", "check_pass_rate"):
            pts = by_metric.get(metric)
            if pts:
                series.append({"metric": metric, "points": len(pts), "svg": report.svg_series(
                    [x.value for x in pts],
                    [f"{x.at:%Y-%m-%d %H:%M} {x.version_id or ''}" for x in pts], metric)})
        if prev_v is not None and prof and prev:
            try:
                drift = profs.drift(p.name, prev_v.id, current.id, ctx.default_env)
            except Exception:  # a profile written by an older format: no drift shown
                drift = None
    samples = failing_samples(state, who, current, env, pii) \
        if current is not None and current.check_status not in (None, "pass") else []
    envs = [e["name"] for e in state.metastore().environments()]
    return {"card": card, "product": p, "env": env, "envs": envs, "timeline": timeline,
            "charts": charts, "series": series, "drift": drift, "samples": samples,
            "pii": sorted(pii), "current": current, "usage": usage(ctx, p.name, env)}


def failing_samples(state: ServerState, who: Principal, version: Any, env: str,
                    pii: set[str]) -> list[dict[str, Any]]:
    """Failing rows of the current version's failed checks (a few each, masked)."""
    from steward.meta.checks import results_for
    from steward.quality.inspect import CheckReport

    ctx = state.ctx
    rep = CheckReport(version.product, version, env, True, results_for(ctx.metastore,
                                                                       version.id),
                      None, ctx.store)
    out = []
    for r in rep.results:
        if not r.failed:
            continue
        path = rep.sample_file(r)
        rows: list[dict[str, Any]] = []
        if path:
            q = path.replace("'", "''")
            rows = shapes.plain(ctx.engine.arrow(
                f"SELECT * FROM read_parquet('{q}') LIMIT 5").to_pylist())
            if not who.pii:
                rows = masking.mask_rows(rows, pii)
        out.append({"result": r, "rows": rows})
    return out


def usage(ctx: Any, name: str, env: str) -> dict[str, str]:
    view = name.replace(".", "__")
    return {
        "cli": f'steward sql "select * from {name} limit 10" --env {env}',
        "python": (f"from steward.context import Context\n\n"
                   f"ctx = Context({ctx.root!r})\n"
                   f'table = ctx.sql("select * from {name}", env={env!r})  # Arrow\n'
                   f"df = table.to_pandas()"),
        "duckdb": (f"steward env views   # writes .steward/envs.duckdb\n"
                   f"duckdb .steward/envs.duckdb -c 'select * from {env}.{view} limit 10'"),
    }
