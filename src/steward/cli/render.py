"""Rendering results for the terminal."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from steward.core.words import counted


def render_arrow(out: Any, table: Any, limit: int) -> None:
    shown = table if not limit else table.slice(0, limit)
    t = Table(show_lines=False)
    for name in table.column_names:
        t.add_column(escape(name))
    for row in shown.to_pylist():
        t.add_row(*(escape("NULL" if v is None else str(v)) for v in row.values()))
    out.print(t)
    more = table.num_rows - shown.num_rows
    out.print(counted(table.num_rows, "row")
              + (f", {more:,} not shown (--limit 0)" if more else ""))


def render_usage(out: Any, doc: dict[str, Any]) -> None:
    """"What's my product?" of ``steward show``: consumers, cost, SLO, quality."""
    c, cost, days = doc["consumers"], doc["cost"], doc["window_days"]
    readers = ", ".join(f"{q['actor']} via {q['via']} ({q['count']})" for q in c["queries"][:5])
    out.print(f"consumers: {len(c['products'])} product(s), {len(c['models'])} model(s); "
              f"{c['total_queries']} queries in {days} days"
              + (f" ({readers}{', ...' if len(c['queries']) > 5 else ''})" if readers else ""))
    if c["products"] or c["models"]:
        out.print("  read by: " + ", ".join(c["models"] + c["products"]))
    if c["declared"]:
        out.print("  declared: " + escape(", ".join(str(x.get("name") or x.get("url") or "?")
                                                   for x in c["declared"])))
    cpu = cost["engine_cpu_s"]
    out.print(f"cost in {days} days: {cost['builds']} build(s), {cost['build_s']:.1f} s "
              f"building" + (f", {cpu:.2f} engine CPU s" if cpu is not None else "")
              + f"; {cost['versions_retained']} version(s) retained, "
              f"{cost['bytes_stored'] / 1024:.1f} KiB stored")
    f = doc["freshness"]
    if f is not None:
        pct = [("-" if x is None else f"{100 * x:.1f} %")
               for x in (f["compliance_7d"], f["compliance_30d"])]
        out.print(f"freshness SLO in '{f['env']}': fresh {pct[0]} of 7 days, {pct[1]} of 30")
    if doc["quality"]:
        out.print("quality (checks passed, oldest first): " + ", ".join(
            f"{q['score']:.0f}" for q in doc["quality"][-10:]))


def render_show(out: Any, view: Any) -> None:
    p = view.product
    spec = p.spec
    v = view.version
    out.print(f"[bold]{p.name}[/]  [dim]{p.kind} · {p.file}[/]")
    if spec.description:
        out.print(escape(spec.description.strip()))
    owner = spec.owner or "[yellow]no owner[/]"
    out.print(f"owner: {owner}   domain: {p.domain}   tags: {', '.join(spec.tags) or '—'}")
    if p.inputs:
        out.print(f"inputs: {', '.join(p.inputs)}")
    if spec.primary_key:
        out.print(f"primary key: {', '.join(spec.primary_key)}")
    if spec.freshness:
        f = spec.freshness
        out.print(f"freshness SLO: warn after {f.warn_after or '—'}, error after "
                  f"{f.error_after or '—'}")
    envs = ", ".join(f"{e}={vid[:22]}" for e, vid in sorted(view.environments.items()))
    out.print(f"environments: {envs or 'none yet'}")
    if v is not None:
        out.print(f"current version in '{view.env}': {v.id}  ({counted(v.row_count, 'row')}, "
                  f"{(v.bytes or 0) / 1024:.1f} KiB, built {v.created_at:%Y-%m-%d %H:%M:%S}, "
                  f"checks {v.check_status or 'none'})")
    else:
        out.print(f"[yellow]no version in '{view.env}' yet[/]")
    t = Table(title="columns", title_justify="left")
    for col in ("column", "type", "null", "class", "term", "description"):
        t.add_column(col)
    actual = {c.name: c.type for c in v.schema} if v else {}
    names = list(actual) + [c for c in spec.columns if c not in actual]
    for name in names:
        c = spec.columns.get(name)
        t.add_row(name, actual.get(name) or (c.type if c else "") or "",
                  "" if c is None else ("yes" if c.nullable else "no"),
                  ", ".join(c.classification) if c else "",
                  (c.glossary or "") if c else "",
                  escape(c.description or "") if c else "[dim]undocumented[/]")
    out.print(t)
    checks = list(spec.checks) + [ch for c in spec.columns.values() for ch in c.checks]
    if checks:
        out.print("checks: " + ", ".join(f"{c.label()} ({c.severity})" for c in checks))
    if view.last_step is not None:
        s = view.last_step
        out.print(f"last run step: {s.status} in run {s.run_id}"
                  + (f" — {escape(s.error.splitlines()[0])}" if s.error else ""))
