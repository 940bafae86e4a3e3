"""``steward profile | drift | metrics | report``: statistics of versions over time."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from steward.cli.main import EnvOpt, JsonOpt, ProjectOpt, _ctx, _dump, _out, app
from steward.core.words import counted

if TYPE_CHECKING:
    from steward.context import Context

ProductArg = Annotated[str, typer.Argument(help="Product name.")]


def _wide() -> Any:
    """A console that does not squeeze tables to 80 columns when piped."""
    out = _out()
    if not out.is_terminal:
        out.width = max(out.width, 160)
    return out


def _profiles(ctx: Context) -> Any:
    from steward.profile.service import Profiles

    return Profiles(ctx.metastore, ctx.store, ctx.engine)


@app.command()
def profile(
    product: ProductArg,
    version: Annotated[str | None, typer.Option("--version", "-V",
                                                help="Version id (or prefix).")] = None,
    env: EnvOpt = None, json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Print a version's profile: per-column statistics with sparkline histograms."""
    from rich.markup import escape
    from rich.table import Table

    from steward.profile import fmt

    ctx = _ctx(project)
    p = ctx.resolve_product(product)
    profs = _profiles(ctx)
    v = profs.resolve(p.name, version or env, ctx.default_env)
    prof = profs.of_version(v)
    if json_out:
        return _dump({"product": p.name, "version": v.id, "profile": prof})
    out = _wide()
    out.print(f"[bold]{p.name}[/]  version {v.id}  ·  {fmt.num(prof['rows'])} "
              f"{'row' if prof['rows'] == 1 else 'rows'}  ·  "
              f"{counted(prof['column_count'], 'column')}  ·  {fmt.size(prof.get('bytes'))}")
    t = Table(show_edge=False, pad_edge=False)
    for c in ("column", "type", "nulls", "distinct~", "min", "max", "mean", "p50",
              "distribution"):
        t.add_column(c, justify="right" if c in ("nulls", "distinct~", "mean") else "left",
                     no_wrap=c in ("column", "type", "distribution"), min_width=4)
    for name, col in prof["columns"].items():
        q = col.get("quantiles") or []
        if col.get("histogram"):
            dist = "[cyan]" + fmt.sparkline(col["histogram"]["counts"]) + "[/]"
        elif col.get("unique"):
            dist = "[dim](nearly all values distinct)[/]"
        elif col.get("top"):
            top = col["top"][:3]
            share = col["count"] or 1
            dist = ", ".join(f"{escape(str(fmt.stat({'x': k}, 'x'))[:12])} {n / share:.0%}"
                             for k, n in top)
        else:
            dist = ""
        extra = []
        for key, label in (("nan", "NaN"), ("inf", "inf"), ("negatives", "<0"), ("zeros", "=0")):
            if col.get(key):
                extra.append(f"{label} {fmt.num(col[key])}")
        nulls = f"{col['null_fraction']:.1%}" if col.get("nulls") else "[dim]0[/]"
        t.add_row(escape(name), col["type"].lower(), nulls, fmt.num(col.get("distinct")),
                  escape(fmt.stat(col, "min")), escape(fmt.stat(col, "max")),
                  fmt.stat(col, "mean"),
                  fmt.stat({**col, "p50": q[3] if len(q) > 3 else None}, "p50"),
                  dist + (f" [yellow]{', '.join(extra)}[/]" if extra else ""))
    out.print(t)


@app.command()
def drift(
    product: ProductArg,
    v1: Annotated[str | None, typer.Argument(help="Reference: version id or env "
                                                  "(default: the version before V2).")] = None,
    v2: Annotated[str | None, typer.Argument(help="Compared: version id or env "
                                                  "(default: the default env).")] = None,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Drift between two versions from their stored profiles: PSI, KS, Wasserstein, JS."""
    from rich.markup import escape
    from rich.table import Table

    from steward.profile.drift import DEFAULT_THRESHOLDS
    from steward.profile.fmt import num

    ctx = _ctx(project)
    p = ctx.resolve_product(product)
    d = _profiles(ctx).drift(p.name, v1, v2, ctx.default_env)
    if json_out:
        return _dump(d)
    out = _wide()
    change = d["row_change_pct"]
    out.print(f"[bold]{p.name}[/]  {d['from']} → {d['to']}  ·  rows {num(d['rows'][0])} → "
              f"{num(d['rows'][1])}" + (f" ({change:+.1f} %)" if change is not None else ""))
    s = d["schema"]
    for label, items, style in (("added", s["added"], "green"), ("removed", s["removed"], "red")):
        if items:
            out.print(f"[{style}]columns {label}: {escape(', '.join(items))}[/]")
    for name, old, new in s["retyped"]:
        out.print(f"[yellow]column {escape(name)} retyped: {old} → {new}[/]")
    t = Table(show_edge=False, pad_edge=False)
    for c in ("column", "kind", "nulls", "psi", "ks", "wasserstein", "js"):
        t.add_column(c, justify="left" if c in ("column", "kind") else "right")

    def cell(metric: str, v: float | None) -> str:
        if v is None:
            return "[dim]-[/]"
        text = f"{v:.3f}"
        return f"[bold red]{text}[/]" if v > DEFAULT_THRESHOLDS[metric] else text

    for name, c in d["columns"].items():
        n0, n1 = c["null_fraction"]
        nulls = f"{n0:.1%}→{n1:.1%}" if n0 != n1 else f"{n1:.1%}"
        t.add_row(escape(name), c.get("kind") or "", nulls, cell("psi", c["psi"]),
                  cell("ks", c["ks"]), cell("wasserstein", c["wasserstein"]), cell("js", c["js"]))
    out.print(t)
    out.print(f"[dim]red: above the default threshold {DEFAULT_THRESHOLDS}; wasserstein in "
              f"reference standard deviations; computed from stored profiles in "
              f"{d['seconds'] * 1000:.1f} ms[/]")


@app.command()
def metrics(
    product: ProductArg,
    metric: Annotated[str | None, typer.Option("--metric", "-m",
                                               help="row_count, null_fraction, ...")] = None,
    column: Annotated[str | None, typer.Option("--column", "-c")] = None,
    domain: Annotated[str | None, typer.Option(
        "--domain", "-d", help="(metrics delivery) One domain's products.")] = None,
    since: Annotated[str, typer.Option(
        "--since", help="(metrics delivery) Window, e.g. 30d, 12w.")] = "30d",
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Print a product's metric series (all series, or one with --metric).

    'steward metrics delivery' prints the delivery metrics (as 'steward delivery'),
    unless a product is called delivery."""
    from rich.table import Table

    from steward.core.errors import NotFound
    from steward.profile.anomaly import band
    from steward.profile.fmt import num, trend

    ctx = _ctx(project)
    try:
        p = ctx.resolve_product(product)
    except NotFound:
        if product != "delivery":
            raise
        from steward.cli.ops import delivery

        return delivery(domain, since, json_out, project)
    profs = _profiles(ctx)
    pts = profs.metrics(p.name, metric, column)
    if json_out:
        return _dump([x.as_dict() for x in pts])
    out = _wide()
    if not pts:
        out.print(f"no metrics recorded for {p.name}" + (f" ({metric})" if metric else ""))
        return None
    series: dict[tuple[str, str | None], list[Any]] = {}
    for x in pts:
        series.setdefault((x.metric, x.column), []).append(x)
    if metric and len(series) == 1:
        t = Table(show_edge=False, pad_edge=False, title=f"{p.name} · {metric}",
                  title_justify="left")
        for c in ("at", "version", "value"):
            t.add_column(c, justify="right" if c == "value" else "left")
        for x in pts:
            t.add_row(f"{x.at:%Y-%m-%d %H:%M:%S}", x.version_id or "", num(x.value))
        out.print(t)
        return None
    t = Table(show_edge=False, pad_edge=False, title=p.name, title_justify="left")
    for c in ("metric", "column", "points", "last", "usual band", "trend"):
        t.add_column(c, justify="right" if c in ("points", "last") else "left")
    for (m, col), xs in series.items():
        values = [x.value for x in xs]
        b = band(values[:-1]) if len(values) > 5 else None
        spark = trend(values)
        t.add_row(m, col or "", str(len(xs)), num(values[-1]),
                  f"{num(b[0])} .. {num(b[1])}" if b else "", f"[cyan]{spark}[/]")
    out.print(t)


@app.command()
def report(
    product: ProductArg,
    output: Annotated[Path | None, typer.Option("--output", "-o",
                                                help="HTML file (default: PRODUCT.html).")] = None,
    env: EnvOpt = None, project: ProjectOpt = None,
) -> None:
    """Write one self-contained HTML report: profile charts, drift, check history."""
    from steward.profile.report import build_report

    ctx = _ctx(project)
    p = ctx.resolve_product(product)
    html = build_report(_profiles(ctx), p.name, env or ctx.default_env)
    path = output or Path(f"{p.name}.html")
    path.write_text(html, encoding="utf-8")
    _out().print(f"wrote {path} ({len(html) / 1024:.0f} KB)")
