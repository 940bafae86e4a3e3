"""Change management verbs: plan, diff, promote, rollback, gc, env ls|create|views."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli.main import EnvOpt, JsonOpt, ProjectOpt, _ctx, _dump, _out, app
from steward.core.words import counted

env_app = typer.Typer(help="Environments: list, create (zero-copy), DuckDB views.",
                      no_args_is_help=True)
app.add_typer(env_app, name="env")

MessageOpt = Annotated[str | None, typer.Option("--message", "-m", help="Why (recorded).")]


@app.command()
def plan(
    select: Annotated[list[str] | None, typer.Argument(help="Selection: +x, x+, tag:t, ...")
                      ] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", "-x")] = None,
    env: EnvOpt = None,
    from_env: Annotated[str | None, typer.Option("--from", help="Base of a new env.")] = None,
    json_out: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    """What running the code into an environment would change, before anything runs."""
    from steward.cli.planview import show_plan
    from steward.run.envops import plan as make_plan

    ctx = _ctx(project)
    cp = make_plan(ctx, env, select or [], exclude or [], from_env)
    show_plan(cp, json_out)


@app.command()
def diff(
    product: Annotated[str, typer.Argument(help="Product name.")],
    a: Annotated[str, typer.Argument(help="Environment or version id (the old side).")],
    b: Annotated[str, typer.Argument(help="Environment or version id (the new side).")],
    sample: Annotated[int, typer.Option(help="Sample rows to show.")] = 10,
    json_out: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    """Schema, row counts and a keyed row-level diff of two versions of a product."""
    from steward.run.envops import diff as run_diff

    ctx = _ctx(project)
    r = run_diff(ctx, product, a, b, sample)
    model = ctx.model_diff(product, a, b) if ctx.is_model(product) else None
    if json_out:
        return _dump({**r.to_json(), "model": model.to_json()} if model else r.to_json())
    out = _out()
    if model is not None:
        from steward.cli.ml import print_model_diff

        print_model_diff(out, model)
    out.print(f"{r.product}: {r.a} -> {r.b}")
    out.print(f"rows: {r.rows_a:,} -> {r.rows_b:,}")
    sd = r.schema
    for c in sd["added"]:
        out.print(f"  [green]+ column[/] {c['name']} {c['type']}")
    for c in sd["removed"]:
        out.print(f"  [red]- column[/] {c['name']} {c['type']}")
    for c in sd["retyped"]:
        out.print(f"  [yellow]~ column[/] {c['name']} {c['from']} -> {c['to']}")
    for note in r.notes:
        out.print(f"[yellow]note:[/] {note}")
    key = f"key ({', '.join(r.key)})" if r.key else "whole rows"
    out.print(f"by {key}: {r.added:,} added, {r.removed:,} removed"
              + (f", {r.changed:,} changed, {r.unchanged:,} unchanged" if r.mode == "keyed"
                 else ""))
    for col, n in r.column_changes.items():
        if n:
            out.print(f"  {col}: {n:,} changed")
    for row in r.sample.get("changed", []):
        ch = ", ".join(f"{c}: {o} -> {nw}" for c, (o, nw) in row["changes"].items())
        out.print(f"  [dim]{row['key']}[/] {ch}")
    return None


@app.command()
def promote(
    src: Annotated[str, typer.Argument(help="Environment to promote from.")],
    dst: Annotated[str, typer.Argument(help="Environment to promote to.")],
    select: Annotated[list[str] | None, typer.Argument(help="Products (with upstream).")
                      ] = None,
    message: MessageOpt = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a run or another change "
                                            "holding the project lock.")] = 0.0,
    json_out: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    """Point DST at SRC's versions (one transaction); refuses on failed gates or drift."""
    from steward.run.envops import promote as run_promote

    ctx = _ctx(project)
    r = run_promote(ctx, src, dst, select or [], message, wait)
    if json_out:
        return _dump({"batch": r.batch, "env": dst, "source": src,
                      "moved": {p: {"from": a, "to": b} for p, (a, b) in r.moves.items()},
                      "unchanged": len(r.unchanged)})
    out = _out()
    out.print(f"promoted {counted(len(r.moves), 'product')} from '{src}' to '{dst}' "
              f"({len(r.unchanged)} already the same)")
    for p, (a, b) in sorted(r.moves.items())[:50]:
        out.print(f"  {p}: {a or '-'} -> {b}")
    return None


@app.command()
def rollback(
    product: Annotated[str, typer.Argument(help="Product name.")],
    to: Annotated[str | None, typer.Option("--to", help="Version id (default: previous).")
                  ] = None,
    env: EnvOpt = None,
    downstream: Annotated[bool, typer.Option("--downstream",
                                             help="Also roll back downstream products.")] = False,
    message: MessageOpt = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a run or another change "
                                            "holding the project lock.")] = 0.0,
    json_out: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    """Move a product's pointer back (and, with --downstream, its dependants consistently)."""
    from steward.run.envops import rollback as run_rollback

    ctx = _ctx(project)
    r, notes = run_rollback(ctx, product, to, env, downstream, message, wait)
    if json_out:
        return _dump({"batch": r.batch, "env": r.env, "notes": notes,
                      "moved": {p: {"from": a, "to": b} for p, (a, b) in r.moves.items()}})
    out = _out()
    for p, (a, b) in r.moves.items():
        out.print(f"rolled back {p} in '{r.env}': {a} -> {b}")
    for n in notes:
        out.print(f"[yellow]note:[/] {n}")
    return None


@app.command()
def gc(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Only show what would go.")
                       ] = False,
    keep_last: Annotated[int | None, typer.Option(help="Keep each product's last N.")] = None,
    keep_days: Annotated[float | None, typer.Option(help="Keep anything younger.")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a running build.")] = 0.0,
    json_out: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    """Delete versions no environment points at, past retention (steward.yaml defaults)."""
    from steward.run.gc import gc as run_gc

    ctx = _ctx(project)
    r = run_gc(ctx, dry_run, keep_last, keep_days, wait)
    if json_out:
        return _dump(r.to_json())
    verb = "would delete" if dry_run else "deleted"
    _out().print(f"{verb} {counted(len(r.versions), 'version')}, freeing {_size(r.bytes)}; "
                 f"{counted(r.kept_pointed, 'version')} kept because an environment points "
                 "at them")
    for v in r.versions[:30]:
        _out().print(f"  {v.product} {v.id} ({v.status})")
    return None


def _size(n: int) -> str:
    x = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if x < 1024 or unit == "GB":
            return f"{x:.0f} {unit}" if unit == "B" else f"{x:.1f} {unit}"
        x /= 1024
    return f"{n} B"


@env_app.command("ls")
def env_ls(json_out: JsonOpt = False, project: ProjectOpt = None) -> None:
    """Environments with how many products each points at."""
    ctx = _ctx(project)
    envs = ctx.metastore.environments()
    if json_out:
        return _dump(envs)
    from rich.table import Table

    t = Table(title="environments", title_justify="left")
    for col in ("env", "products", "created", "from"):
        t.add_column(col)
    for e in envs:
        t.add_row(e["name"], str(e["products"]),
                  f"{e['created_at']:%Y-%m-%d %H:%M}" if e["created_at"] else "",
                  e["created_from"] or "")
    _out().print(t)
    return None


@env_app.command("create")
def env_create(
    name: Annotated[str, typer.Argument(help="New environment.")],
    from_env: Annotated[str | None, typer.Option("--from", help="Copy pointers of this env.")
                        ] = None,
    message: MessageOpt = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a run or another change "
                                            "holding the project lock.")] = 0.0,
    project: ProjectOpt = None,
) -> None:
    """Create an environment by copying pointers (no data is copied)."""
    from steward.run.envops import create_env

    ctx = _ctx(project)
    n = create_env(ctx, name, from_env or ctx.default_env, message, wait)
    _out().print(f"created '{name}' from '{from_env or ctx.default_env}': "
                 f"{counted(n, 'product')}, "
                 "no data copied")


@env_app.command("views")
def env_views(
    path: Annotated[str | None, typer.Option(help="Output file.")] = None,
    project: ProjectOpt = None,
) -> None:
    """Write .steward/envs.duckdb: a schema per environment, a view per product."""
    from steward.run.envops import write_views

    ctx = _ctx(project)
    out, n = write_views(ctx, path)
    _out().print(f"wrote {out}: {counted(n, 'view')}; e.g. duckdb {out} -c "
                 "'select * from prod.staging__orders'")



state_app = typer.Typer(help="The project's state (metastore and store) as a whole.",
                        no_args_is_help=True)
app.add_typer(state_app, name="state")


@state_app.command("copy")
def state_copy(
    metastore: Annotated[str, typer.Option(
        "--metastore", help="Destination metastore URL (an empty database), e.g. "
                            "postgresql+psycopg://user@host/db or sqlite:///path/meta.db.")],
    store: Annotated[str, typer.Option(
        "--store", help="Destination store: a folder or a URL such as s3://bucket/prefix.")],
    deep: Annotated[bool, typer.Option(
        "--deep", help="Verify the copy by hashing every file (default: presence and size).")
                    ] = False,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Copy every version, environment, run, check, profile and the audit trail to
    another metastore and store (e.g. from the embedded default to PostgreSQL and S3),
    then verify the copy. The project keeps using its own until steward.yaml is changed."""
    from rich.markup import escape

    from steward.meta.reads import shown_url

    ctx = _ctx(project)
    out = _out()
    bar: list[Any] = []

    def progress(what: str, done: int, total: int) -> None:
        if json_out or what != "versions":
            return
        if not bar:
            from rich.progress import Progress

            p = Progress(console=out, transient=True)
            p.start()
            bar.extend([p, p.add_task("copying versions", total=total)])
        bar[0].update(bar[1], completed=done)

    try:
        report, check = ctx.copy_state(metastore, store, deep, progress)
    finally:
        if bar:
            bar[0].stop()
    if json_out:
        _dump({**report.to_json(), "verify": check.to_json()})
    else:
        out.print(f"copied {counted(report.versions, 'version')} ({report.bytes:,} bytes) "
                  f"and {sum(report.rows.values()):,} metastore rows to "
                  f"{escape(report.metastore)} + {escape(report.store)}")
        for key in report.missing:
            out.print(f"[yellow]   missing[/] {escape(key)}: its folder was not in the store "
                      "(the row is copied; 'steward verify' reports it)")
        for f in check.findings:
            out.print(f"[{'bold red' if f.severe else 'yellow'}]{f.kind:>10}[/] "
                      f"{escape(f.subject)}: {escape(f.problem)}")
        status = "[green]verified[/]" if check.ok else "[bold red]the copy has problems[/]"
        out.print(f"{status}: {check.versions_checked:,} version(s), "
                  f"{check.audit_events:,} audit event(s)")
        if check.ok:
            out.print("next: set in steward.yaml  metastore: "
                      f"{escape(shown_url(metastore))}  store: {escape(store)}  "
                      "(credentials through ${VAR})")
    if not check.ok:
        raise typer.Exit(4)
