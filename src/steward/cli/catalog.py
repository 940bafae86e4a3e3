"""``steward catalog search|show``, ``glossary``, ``lineage`` and ``owners``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from steward.cli.main import EnvOpt, JsonOpt, ProjectOpt, _ctx, _dump, _out, app
from steward.cli.text import escape
from steward.core.words import counted

if TYPE_CHECKING:
    from steward.context import Context

catalog_app = typer.Typer(help="Find products and columns; show a product's card.",
                          no_args_is_help=True)
app.add_typer(catalog_app, name="catalog")


@catalog_app.command("search")
def catalog_search(
    text: Annotated[str, typer.Argument(help="Words to look for (any of them; prefixes too).")
                    ] = "",
    owner: Annotated[str | None, typer.Option(help="Only this owner's products.")] = None,
    domain: Annotated[str | None, typer.Option(help="Only this domain.")] = None,
    tag: Annotated[str | None, typer.Option(help="Only products/columns with this tag.")] = None,
    classification: Annotated[str | None, typer.Option(
        help="Only columns (and products holding columns) with this classification.")] = None,
    limit: Annotated[int, typer.Option(help="Results to show.")] = 20,
    env: EnvOpt = None, json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Rank products and columns by name, description, tags, glossary terms, owner, domain."""
    from steward.catalog.service import refreshed_index

    ctx = _ctx(project)
    index, _ = refreshed_index(ctx.project, ctx.metastore, env or ctx.default_env)
    try:
        hits = index.search(text, owner=owner, domain=domain, tag=tag,
                            classification=classification, limit=limit)
    finally:
        index.close()
    if json_out:
        return _dump([{"name": h.name, "product": h.product, "column": h.column,
                       "score": round(h.score, 4), "description": h.description,
                       "owner": h.owner, "domain": h.domain, "classification": list(h.classes)}
                      for h in hits])
    out = _out()
    if not hits:
        out.print("no match" + ("" if text else "; give words to search for, or a facet"))
        return None
    from rich.table import Table

    t = Table(title=f"catalog: {text}" if text else "catalog", title_justify="left")
    for col in ("name", "what", "owner", "class", "description"):
        t.add_column(col)
    for h in hits:
        t.add_row(escape(h.name), "column" if h.column else "product", escape(h.owner),
                  ",".join(h.classes), escape(h.description[:70]))
    out.print(t)
    return None


@catalog_app.command("show")
def catalog_show(
    product: Annotated[str, typer.Argument(help="Product name.")],
    env: EnvOpt = None, json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """A product's card: owner, columns with docs and classification, lineage, versions."""
    from steward.catalog.card import build_card
    from steward.catalog.service import lineage

    ctx = _ctx(project)
    p = ctx.resolve_product(product)
    env = env or ctx.default_env
    graph, classes = lineage(ctx.project, ctx.metastore, env)
    card = build_card(ctx.project, p, graph, classes, ctx.metastore, env)
    if json_out:
        return _dump(card.to_json())
    _render_card(card, env)
    return None


def _render_card(card: Any, env: str) -> None:
    from rich.table import Table

    out = _out()
    out.print(f"[bold]{escape(card.name)}[/]  ({card.kind}, domain {escape(card.domain)})")
    if card.description:
        out.print(escape(card.description))
    owner = card.owner or "[yellow]no owner[/]"
    out.print(f"owner: {escape(owner) if card.owner else owner}"
              + (" (project default)" if card.owner_is_default else ""))
    if card.tags:
        out.print("tags: " + escape(", ".join(card.tags)))
    out.print(f"defined in: {escape(card.file)}")
    if card.meta_file:
        out.print(f"metadata in: {escape(card.meta_file)}")
    t = Table(title="columns", title_justify="left")
    for col in ("column", "type", "classification", "glossary", "description", "from"):
        t.add_column(col)
    for c in card.columns:
        cls = c.classification_text
        t.add_row(escape(c.name), escape(c.type or ""),
                  f"[magenta]{escape(cls)}[/]" if cls else "", escape(c.glossary or ""),
                  escape(c.description or ""), escape(", ".join(c.upstream)))
    out.print(t)
    if card.lineage_level == "table":
        out.print(f"[yellow]lineage is table level:[/] {escape(card.lineage_note or '')}")
    out.print("upstream: " + (escape(", ".join(card.upstream)) or "(none)"))
    out.print("downstream: " + (escape(", ".join(card.downstream)) or "(none)"))
    if card.versions:
        for e, v in sorted(card.versions.items()):
            rows = counted(v["rows"], "row") if v["rows"] is not None else ""
            at = f"{v['built_at']:%Y-%m-%d %H:%M}" if v["built_at"] else ""
            out.print(f"version in {escape(e)}: {v['version'][:22]}  {at}  {rows}  "
                      f"checks {v['checks'] or '-'}")
    else:
        out.print("versions: not built yet")
    for ch in card.checks:
        style = "green" if ch["status"] == "pass" else "red"
        out.print(f"  check [{style}]{ch['status']}[/] {escape(ch['name'])}"
                  + (f": {escape(ch['message'])}" if ch["message"] and ch["status"] != "pass"
                     else ""))
    if card.last_step:
        s = card.last_step
        out.print(f"last run: {s['run']} {s['status']}"
                  + (f" — {escape(s['error'])}" if s["error"] else ""))
    if card.freshness:
        f = card.freshness
        style = {"ok": "green", "warn": "yellow", "error": "red"}[f["status"]]
        out.print(f"freshness in {escape(env)}: built {f['age_s'] / 3600:.1f} h ago "
                  f"[{style}]{f['status']}[/]"
                  + (f" (warn after {f['warn_after']})" if f["warn_after"] else "")
                  + (f" (error after {f['error_after']})" if f["error_after"] else ""))


@app.command("glossary")
def glossary(
    term: Annotated[str | None, typer.Argument(help="One term (or a synonym of it).")] = None,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """List glossary terms with their definitions and the columns that use them."""
    from steward.catalog.glossary import glossary_listing, glossary_warnings

    ctx = _ctx(project)
    rows = glossary_listing(ctx.project, term)
    warnings = glossary_warnings(ctx.project)
    if json_out:
        return _dump({"terms": rows, "warnings": warnings})
    out = _out()
    if term and not rows:
        out.print(f"no glossary term {term!r}")
        raise typer.Exit(1)
    for r in rows:
        out.print(f"[bold]{escape(r['term'])}[/]: {escape(r['definition'])}")
        for label, key in (("synonyms", "synonyms"), ("owners", "owners"),
                           ("related", "related"), ("used by", "used_by")):
            if r[key]:
                out.print(f"  {label}: {escape(', '.join(r[key]))}")
        if not r["used_by"]:
            out.print("  [dim]used by no column[/]")
    if not rows:
        out.print("no glossary terms (add them to glossary.yaml)")
    for w in warnings:
        out.print(f"[yellow]warning:[/] related terms form a cycle: {escape(w)}")
    return None


@app.command("lineage")
def lineage_cmd(
    target: Annotated[str, typer.Argument(help="PRODUCT or PRODUCT.COLUMN")],
    upstream: Annotated[bool, typer.Option("--upstream", help="Only what it comes from.")
                        ] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Only what uses it.")
                          ] = False,
    depth: Annotated[int | None, typer.Option(help="Hops to follow (default: all).")] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="tree, dot, json or mermaid.")
                   ] = "tree",
    env: EnvOpt = None, project: ProjectOpt = None,
) -> None:
    """Column-level lineage of a product or one of its columns, as a tree or an export."""
    from steward.catalog.lineage_view import FORMATS, render, walk
    from steward.catalog.service import lineage

    if fmt not in FORMATS:
        raise typer.BadParameter(f"--format is one of {', '.join(FORMATS)}")
    ctx = _ctx(project)
    product, column = _target(ctx, target)
    graph, classes = lineage(ctx.project, ctx.metastore, env or ctx.default_env)
    if column is not None:
        known = graph.columns.get(product) or ()
        real = next((c for c in known if c.lower() == column.lower()), None)
        if real is None and known:
            from steward.core.errors import NotFound

            raise NotFound(f"{product} has no column {column!r}; it has: {', '.join(known)}")
        column = real or column
    direction: Literal["upstream", "downstream", "both"] = (
        "upstream" if upstream and not downstream else
                 "downstream" if downstream and not upstream else "both")
    view = walk(ctx.project, graph, product, column, direction, depth, classes)
    text = render(view, fmt)
    if fmt == "tree":
        _out().print(escape(text), end="")
    else:
        import sys

        sys.stdout.write(text)


def _target(ctx: Context, target: str) -> tuple[str, str | None]:
    """``raw.orders`` is a product; ``raw.orders.customer`` a product and a column."""
    from steward.core.errors import NotFound

    try:
        return ctx.resolve_product(target).name, None
    except NotFound:
        if "." not in target:
            raise
    prod, _, col = target.rpartition(".")
    return ctx.resolve_product(prod).name, col


@app.command("owners")
def owners(
    runs: Annotated[int, typer.Option("--runs", "-n", help="Recent runs to look at.")] = 10,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Who owns what, products without an owner, and recent failures per owner."""
    from steward.catalog.owners import owners_report

    ctx = _ctx(project)
    report = owners_report(ctx.project, ctx.metastore, runs)
    if json_out:
        return _dump(report.to_json())
    out = _out()
    for owner, products in report.owned.items():
        out.print(f"[bold]{escape(owner)}[/] ({len(products)}): {escape(', '.join(products))}")
        for f in report.failures.get(owner, []):
            out.print(f"  [red]failed[/] {escape(f['product'])} in run {f['run']}"
                      + (f": {escape(f['error'])}" if f["error"] else ""))
    if report.unowned:
        out.print(f"[yellow]no owner[/] ({len(report.unowned)}): "
                  + escape(", ".join(report.unowned)))
        for f in report.failures.get("(no owner)", []):
            out.print(f"  [red]failed[/] {escape(f['product'])} in run {f['run']}")
    if not report.failures:
        out.print(f"[green]no failed builds or checks in the last {counted(runs, 'run')}[/]")
    return None
