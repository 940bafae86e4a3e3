"""What the home and product pages show, assembled from the Context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from steward.server import masking, shapes
from steward.server.auth import Principal
from steward.server.state import ServerState

if TYPE_CHECKING:
    from steward.context import Context

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
    from steward.core.checkkinds import PROFILED
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
                if r.type in PROFILED and r.status != "pass":
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


TIMELINE = 30
SERIES = ("row_count", "bytes", "build_duration_s", "check_pass_rate")


class _OneProduct:
    """The metastore as the catalog card reads it, answered from what the page already
    read about one product (its pointers, versions and last step)."""

    def __init__(self, name: str, envs: list[dict[str, Any]], pointers: dict[str, str],
                 versions: dict[str, Any], step: Any):
        self._name, self._envs, self._pointers = name, envs, pointers
        self._versions, self._step = versions, step

    def environments(self) -> list[dict[str, Any]]:
        return self._envs

    def pointer_map(self, env: str) -> dict[str, str]:
        vid = self._pointers.get(env)
        return {self._name: vid} if vid else {}

    def version(self, version_id: str) -> Any:
        return self._versions[version_id]

    def steps(self, run_id: str | None = None, product: str | None = None,
              limit: int | None = None) -> list[Any]:
        return [self._step] if self._step is not None else []


def product_facts(state: ServerState, name: str, env: str) -> dict[str, Any]:
    """What the metastore says about one product, in five indexed reads: its newest
    versions, the environments pointing at them, their check results, its last step; and
    its catalog card made from them."""
    from steward.catalog.card import build_card
    from steward.meta import productreads as pr

    ctx = state.ctx
    reads = ctx.metastore.reads
    p = ctx.project.products[name]
    log = pr.versions(reads, name, TIMELINE)
    pointers = pr.pointers(reads, name)
    byid = {v.id: v for v in log}
    missing = [vid for vid in pointers.values() if vid not in byid]
    if missing:
        byid.update(reads.versions_by_id(missing))
    results = pr.results_for_versions(reads, list(byid))
    step = pr.last_step(reads, name)
    envs = state.metastore().environments()
    graph, classes = state.lineage(env)
    card = build_card(ctx.project, p, graph, classes,
                      _OneProduct(name, envs, pointers, byid, step), env,
                      downstream=state.downstream().get(name, []), results=results)
    pointed: dict[str, list[str]] = {}
    for e, pointed_at in pointers.items():
        pointed.setdefault(pointed_at, []).append(e)
    here = pointers.get(env)
    return {"card": card, "log": [(v, sorted(pointed.get(v.id, []))) for v in log],
            "results": results, "current": byid.get(here) if here else None,
            "versions": byid, "envs": [e["name"] for e in envs]}


def product(state: ServerState, who: Principal, name: str, env: str | None) -> dict[str, Any]:
    """Everything the product page shows (values of personal columns masked)."""
    from steward.meta import productreads as pr
    from steward.profile import report

    ctx = state.ctx
    env = ctx.env_name(env)
    name = ctx.resolve_product(name).name
    facts = product_facts(state, name, env)
    card, current, stored = facts["card"], facts["current"], facts["results"]
    p = ctx.project.products[name]
    pii = state.pii_of(p.name)
    timeline = [{"v": v, "envs": envs, "results": stored.get(v.id, [])}
                for v, envs in facts["log"]]
    charts: list[dict[str, Any]] = []
    series: list[dict[str, Any]] = []
    drift = None
    if current is not None:
        prev_v = next((v for v in facts["log"] if v[0].status == "published"
                       and v[0].id != current.id and v[0].created_at and current.created_at
                       and v[0].created_at <= current.created_at), (None,))[0] \
            or pr.previous_published(ctx.metastore.reads, current)
        masked = not who.pii and bool(pii)
        # (remembered once the version's profile is stored: it is written after publication)
        charts, drift, _ = state.memo(
            ("charts", current.id, prev_v.id if prev_v else None,
             tuple(sorted(pii)) if masked else None),
            lambda: _charts(ctx.metastore.reads, current, prev_v, pii if masked else set()),
            keep=lambda made: made[2])
        by_metric = pr.table_series(ctx.metastore.reads, p.name, SERIES)
        for metric in SERIES:
            pts = by_metric.get(metric)
            if pts:
                series.append({"metric": metric, "points": len(pts), "svg": report.svg_series(
                    [value for value, _, _ in pts],
                    [f"{at:%Y-%m-%d %H:%M} {vid or ''}" for _, at, vid in pts], metric)})
    samples = failing_samples(state, who, current, env, pii) \
        if current is not None and current.check_status not in (None, "pass") else []
    whats = shapes.usage(ctx, p.name, env, results=stored,
                         versions=[v for v, _ in facts["log"]],
                         downstream=state.downstream().get(p.name, []),
                         current=current.id if current is not None else "")
    return {"card": card, "product": p, "env": env, "envs": facts["envs"],
            "timeline": timeline, "charts": charts, "series": series, "drift": drift,
            "samples": samples, "pii": sorted(pii), "current": current,
            "usage": usage(ctx, p.name, env), "whats": whats}


def _charts(reads: Any, current: Any, prev_v: Any, pii: set[str]
            ) -> tuple[list[dict[str, Any]], dict[str, Any] | None, bool]:
    """The profile charts of a version against the one before it, the drift between
    them, and whether both profiles were there: made once per pair of versions (and per
    masking), since neither changes once profiled."""
    from steward.meta.productreads import profiles
    from steward.profile import report
    from steward.profile.drift import compare

    stored = profiles(reads, [current.id] + ([prev_v.id] if prev_v else []))
    raw = stored.get(current.id)
    raw_prev = stored.get(prev_v.id) if prev_v else None
    prof, prev = (masking.mask_profile(raw, pii), masking.mask_profile(raw_prev, pii)) \
        if pii else (raw, raw_prev)
    pcols = (prev or {}).get("columns", {})
    charts = []
    for cname, col in ((prof or {}).get("columns") or {}).items():
        svg = ""
        if col.get("histogram"):
            svg = report.svg_histogram(col, pcols.get(cname))
        elif col.get("top"):
            svg = report.svg_topk(col, pcols.get(cname))
        charts.append({"name": cname, "col": col, "svg": svg,
                       "masked": bool(col.get("masked"))})
    drift = None
    if prev_v is not None and raw and raw_prev:
        try:
            drift = compare(raw_prev, raw)
            drift["product"], drift["from"], drift["to"] = current.product, prev_v.id, \
                current.id
        except Exception:  # a profile written by an older format: no drift shown
            drift = None
    return charts, drift, raw is not None and (prev_v is None or raw_prev is not None)


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


def usage(ctx: Context, name: str, env: str) -> dict[str, str]:
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
