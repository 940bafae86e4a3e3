"""``steward freshness``, ``steward delivery``, ``steward schedules``, ``steward alerts``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli.main import EnvOpt, JsonOpt, ProjectOpt, _ctx, _dump, _out, app


def _pct(value: Any) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


@app.command()
def freshness(
    products: Annotated[list[str] | None, typer.Argument(help="Products (default: every "
                                                         "product with a freshness SLO).")] = None,
    env: EnvOpt = None,
    record: Annotated[bool, typer.Option("--record", help="Add this evaluation to the "
                                         "time series (the server does every minute).")] = False,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Each product's age against its freshness SLO, and its compliance over 7 and 30
    days; exits 1 when one is in breach."""
    from steward.ops.freshness import evaluate, human, report
    from steward.ops.freshness import record as keep

    ctx = _ctx(project)
    names = [ctx.resolve_product(p).name for p in products or []]
    if record:
        keep(ctx, evaluate(ctx, env, names or None))
    docs = report(ctx, env, names or None)
    if json_out:
        _dump(docs)
    else:
        from rich.table import Table

        t = Table(title=f"freshness in '{ctx.env_name(env)}'", title_justify="left")
        for col in ("product", "on", "age", "SLO", "status", "7 days", "30 days", "breaches"):
            t.add_column(col)
        style = {"ok": "green", "warn": "yellow", "breach": "red", "unknown": "dim"}
        for d in docs:
            t.add_row(d["product"], d["on"], human(d["age_s"]), human(d["limit_s"]),
                      f"[{style[d['status']]}]{d['status']}[/]",
                      _pct(d["compliance_7d"]), _pct(d["compliance_30d"]),
                      str(len(d["breaches"])))
        _out().print(t if docs else "no product declares a freshness SLO "
                     "(add 'freshness: {max_age: 6h}' to its YAML)")
    if any(d["status"] == "breach" for d in docs):
        raise typer.Exit(1)


@app.command()
def delivery(
    domain: Annotated[str | None, typer.Option("--domain", "-d")] = None,
    since: Annotated[str, typer.Option("--since", help="Window, e.g. 30d, 12w.")] = "30d",
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Delivery metrics: deployment frequency, lead time, change failure rate, time to
    restore (promotions into production, from the audit trail and the runs)."""
    from steward.core.durations import parse_duration
    from steward.core.errors import ConfigError
    from steward.ops.delivery import delivery_metrics
    from steward.ops.freshness import human

    try:
        days = parse_duration(since) / 86400
    except ValueError as e:
        raise ConfigError(f"--since: {e}") from None
    ctx = _ctx(project)
    d = delivery_metrics(ctx, days, domain)
    if json_out:
        return _dump(d)
    out = _out()
    out.print(f"delivery into {', '.join(d['production'])} over {since}"
              + (f" (domain {domain})" if domain else ""))
    out.print(f"  deployment frequency  {d['deployments']} promotions "
              f"({d['deployments_per_week']:g} a week)")
    lt, tr = d["lead_time_s"], d["time_to_restore_s"]
    out.print(f"  lead time for changes median {human(lt['median'])}, p90 {human(lt['p90'])}")
    out.print(f"  change failure rate   {_pct(d['change_failure_rate'])} "
              f"({d['failed_changes']} of {d['deployments']})")
    out.print(f"  time to restore       median {human(tr['median'])} "
              f"over {d['incidents']} incident(s)")
    return None


@app.command()
def schedules(json_out: JsonOpt = False, project: ProjectOpt = None) -> None:
    """The project's schedules, their next fire and what their last fires did."""
    from datetime import UTC, datetime

    from steward.meta.ops import fires
    from steward.ops.schedules import next_after

    ctx = _ctx(project)
    now = datetime.now(UTC)
    docs = []
    for name, s in sorted(ctx.project.spec.schedules.items()):
        docs.append({"name": name, "cron": s.cron, "on_change": list(s.on_change),
                     "env": ctx.env_name(s.env), "select": list(s.select),
                     "overlap": s.overlap,
                     "next": next_after(s.cron, now).isoformat() if s.cron else None,
                     "fires": [{k: v for k, v in f.items() if k != "id"}
                               for f in fires(ctx.metastore, name, 5)]})
    if json_out:
        return _dump(docs)
    from rich.table import Table

    t = Table(title="schedules", title_justify="left")
    for col in ("schedule", "when", "env", "runs", "next", "last"):
        t.add_column(col)
    for d in docs:
        when = d["cron"] or ""
        if d["on_change"]:
            when += (" or " if when else "") + "change of " + ", ".join(d["on_change"])
        last = d["fires"][0] if d["fires"] else None
        t.add_row(d["name"], when, d["env"], " ".join(d["select"]) or "(changed sources+)",
                  d["next"] or "-", f"{last['status']} {last['fired_at']:%Y-%m-%d %H:%M}"
                  if last else "-")
    _out().print(t)
    return None


@app.command()
def alerts(json_out: JsonOpt = False, project: ProjectOpt = None) -> None:
    """Open and recent alerts, and how their notifications were delivered."""
    from steward.meta.ops import all_alerts, deliveries

    ctx = _ctx(project)
    rows = all_alerts(ctx.metastore)
    sent = deliveries(ctx.metastore)
    if json_out:
        return _dump({"alerts": rows, "deliveries": sent[-200:]})
    from rich.table import Table

    t = Table(title="alerts", title_justify="left")
    for col in ("status", "event", "env", "product", "since", "message", "delivered"):
        t.add_column(col)
    for r in rows:
        mine = [d for d in sent if d["key"] == r["key"]]
        shown = ", ".join(f"{d['channel']} {'ok' if d['ok'] else 'FAILED'}" for d in mine[-3:])
        t.add_row(r["status"], r["event"], r["env"] or "", r["subject"] or "",
                  f"{r['opened_at']:%Y-%m-%d %H:%M}", r["message"] or "", shown or "-")
    _out().print(t)
    return None


@app.command()
def maturity(json_out: JsonOpt = False, project: ProjectOpt = None) -> None:
    """Score the project against the practice rubric; print the gaps worth closing first."""
    from steward.ops.maturity import maturity as score

    ctx = _ctx(project)
    doc = score(ctx)
    if json_out:
        return _dump(doc)
    out = _out()
    prev = doc["history"][1]["score"] if len(doc["history"]) > 1 else None
    trend = f" (was {prev:g})" if prev is not None and prev != doc["score"] else ""
    out.print(f"maturity {doc['score']:g}/100{trend}")
    for a in doc["areas"]:
        out.print(f"  {a['name']:<28} {a['points']:>5.1f}/{a['weight']:g}  {a['detail']}",
                  markup=False)
    if doc["gaps"]:
        out.print("\nclose these first (most gain for the effort):")
        for i, g in enumerate(doc["gaps"], 1):
            out.print(f"  {i}. {g['name']} (+{g['gain']:g} points): {g['fix']}",
                      markup=False)
    return None
