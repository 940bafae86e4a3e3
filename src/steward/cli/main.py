"""``steward``: the verbs users type. Each is a thin call into the Context facade."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli.text import dump_json, out_console
from steward.core.errors import StewardError

app = typer.Typer(
    name="steward",
    help="DevOps for data products: build, gate, version, profile and audit them.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


@app.callback()
def _root() -> None:
    """DevOps for data products: build, gate, version, profile and audit them."""
    # (a callback keeps `steward` a group of commands however many are registered)

ProjectOpt = Annotated[
    Path | None, typer.Option("--project", "-p", help="Project folder (default: find upward).")
]
EnvOpt = Annotated[str | None, typer.Option("--env", "-e", help="Environment (default: prod).")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def _ctx(project: Path | None, console: Any = None) -> Any:
    from steward.context import Context

    return Context(project, console=console)


_out = out_console
_dump = dump_json


@app.command()
def init(
    path: Annotated[Path, typer.Argument(help="Folder to create the project in.")] = Path("."),
    name: Annotated[str | None, typer.Option(help="Project name.")] = None,
) -> None:
    """Scaffold a project that runs: a source, a staging model, a mart."""
    from steward.cli.scaffold import scaffold

    created = scaffold(path, name)
    out = _out()
    out.print(f"created a Steward project in {path} ({len(created)} files)")
    out.print(f"next: cd {path} && steward run && steward ls")


@app.command()
def run(
    select: Annotated[list[str] | None,
                      typer.Argument(help=(
                          "Selection, as in dbt: name, glob (staging.*), +x / x+ / 2+x, "
                          "tag:t, path:models/marts (a folder), source:raw, domain:d, "
                          "owner:o, kind:sql, state:modified[@env]; a,b intersects."))] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", "-x")] = None,
    env: EnvOpt = None,
    from_env: Annotated[str | None, typer.Option("--from", help="Create a new env from this one.")
                        ] = None,
    full_refresh: Annotated[bool, typer.Option("--full-refresh", help="Rebuild even if unchanged.")
                            ] = False,
    rehash: Annotated[bool, typer.Option(
        "--rehash", help="Read every source file again (ignore the cache of file hashes).")
                      ] = False,
    wait: Annotated[float, typer.Option(help="Seconds to wait for another run's lock.")] = 0.0,
    workers: Annotated[int | None, typer.Option(help="Parallel builds (default: cores).")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
    json_out: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    """Build the selected products into an environment; unchanged ones are reused.

    Selectors add up; a,b keeps what both select. As in dbt:

    dbt -s stg_orders            steward run stg_orders (or staging.stg_orders, staging.*)
    dbt -s +orders / orders+ / 2+orders     the same
    dbt -s tag:nightly           tag:nightly
    dbt -s path:models/marts     path:models/marts (a folder, a file or a glob)
    dbt -s source:shop+          source:shop+
    dbt -s state:modified+ --state prod-artifacts/     state:modified+@prod (default: --env)
    dbt -s state:new / state:modified.body / state:modified.configs     the same
    dbt --exclude x              --exclude x
    (no equivalent)              domain:staging, owner:team@example.com, kind:python

    state:modified compares with what the environment last ran: a product's own code
    and config, not its inputs. Without a selector, a run still keeps every product
    that did not change.
    """
    from steward.cli.console import make_console

    console = make_console(json_out, verbose)
    ctx = _ctx(project, console)
    result = ctx.run(select or [], exclude or [], env, full_refresh, wait, from_env, workers,
                     rehash)
    if json_out:
        from steward.core.phases import totals

        console.phases(totals())  # where the command's time went, per phase
    if not result.ok:
        raise typer.Exit(1)


@app.command("ls")
def ls(env: EnvOpt = None, json_out: JsonOpt = False, project: ProjectOpt = None) -> None:
    """List products with their current version in an environment."""
    from steward.server.shapes import products

    ctx = _ctx(project)
    rows = products(ctx, env)  # (the API's document of the same question)
    if json_out:
        return _dump(rows)
    from rich.markup import escape
    from rich.table import Table

    t = Table(title=f"{ctx.project.name} — env '{env or ctx.default_env}'", title_justify="left")
    for col in ("product", "kind", "owner", "version", "rows", "built", "state"):
        t.add_column(col, justify="right" if col == "rows" else "left")
    for r in rows:
        state = r["state"] or ""
        if state.startswith("damaged"):
            state = f"[bold red]{escape(state)}[/]"
        elif state.startswith("behind"):
            state = f"[yellow]{escape(state)}[/]"
        t.add_row(r["name"], r["kind"], r["owner"] or "[yellow]—[/]",
                  r["version"][:22] if r["version"] else "[dim]not built[/]",
                  f"{r['rows']:,}" if r["rows"] is not None else "",
                  f"{r['built_at']:%Y-%m-%d %H:%M}" if r["built_at"] else "", state)
    _out().print(t)


@app.command()
def show(
    product: Annotated[str, typer.Argument(help="Product name.")],
    env: EnvOpt = None, json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Show a product: metadata, schema, current version, last run."""
    from steward.cli.render import render_show

    ctx = _ctx(project)
    view = ctx.show(product, env)
    if json_out:
        from steward.server.shapes import show_document

        return _dump(show_document(ctx, view))
    out = _out()
    render_show(out, view)
    from steward.cli.quality import render_check_summary

    render_check_summary(out, ctx, view)
    from steward.cli.render import render_usage
    from steward.server.shapes import usage

    render_usage(out, usage(ctx, view.product.name, view.env))


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="One SELECT over product names (read only).")],
    env: EnvOpt = None,
    limit: Annotated[int | None, typer.Option(
        help="Rows to show: the table shows 50 unless told, --json all unless told "
             "(0: all).")] = None,
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the whole result to a .parquet, .csv or .jsonl file "
                               "(recorded in the audit trail).")] = None,
    json_out: JsonOpt = False,
    project: ProjectOpt = None,
) -> None:
    """Query products by name over an environment's current versions, read only.

    One statement (SELECT, DESCRIBE, SUMMARIZE, SHOW or EXPLAIN) runs in a sandbox: products
    are views, nothing can be written, and no file outside the store can be read.
    """
    ctx = _ctx(project)
    if output is not None:
        n = ctx.sql_export(query, str(output), env)
        _out().print(f"wrote {n:,} row{'' if n == 1 else 's'} to {output}")
        return None
    table = ctx.sql(query, env)
    if json_out:
        if limit and table.num_rows > limit:
            import sys

            sys.stderr.write(f"{limit} of {table.num_rows} rows (--limit {limit})\n")
            table = table.slice(0, limit)
        return _dump(table.to_pylist())
    from steward.cli.render import render_arrow

    render_arrow(_out(), table, 50 if limit is None else limit)
    return None


@app.command()
def log(
    product: Annotated[str | None, typer.Argument(help="Product name (default: all).")] = None,
    limit: Annotated[int, typer.Option()] = 20,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """A product's versions, newest first, with the environments pointing at each."""
    from steward.cli.logview import print_log

    print_log(_ctx(project), product, limit, json_out)


@app.command()
def runs(
    run_id: Annotated[str | None, typer.Argument(help="Show one run's steps.")] = None,
    limit: Annotated[int, typer.Option()] = 20,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Recent runs, or the steps of one run."""
    from rich.table import Table

    ctx = _ctx(project)
    if run_id:
        steps = ctx.run_steps(run_id)
        if json_out:
            return _dump([s.__dict__ for s in steps])
        t = Table(title=f"run {run_id}", title_justify="left")
        for col in ("product", "status", "rows", "seconds", "error"):
            t.add_column(col)
        for s in steps:
            t.add_row(s.product, s.status, f"{s.rows:,}" if s.rows is not None else "",
                      f"{s.duration_s:.2f}" if s.duration_s else "",
                      (s.error or "").splitlines()[0] if s.error else "")
        _out().print(t)
        return None
    rs = ctx.runs(limit)
    if json_out:
        return _dump([r.__dict__ for r in rs])
    t = Table(title="runs", title_justify="left")
    for col in ("run", "env", "status", "started", "seconds", "built", "reused", "failed"):
        t.add_column(col)
    for r in rs:
        c = r.summary.get("counts", {})
        secs = (r.finished_at - r.started_at).total_seconds() if r.finished_at else None
        t.add_row(r.id, r.env, r.status, f"{r.started_at:%Y-%m-%d %H:%M:%S}",
                  f"{secs:.2f}" if secs is not None else "", str(c.get("built", "")),
                  str(c.get("reused", "")), str(c.get("failed", "")))
    _out().print(t)
    return None


# -- command modules --
# Each area registers its commands on `app` when imported (keep their top level light).
# (one import line per area below)
import steward.cli.catalog  # noqa: E402,F401  (catalog, glossary, lineage, owners)
import steward.cli.changes  # noqa: E402,F401  (plan, diff, promote, rollback, gc, env)
import steward.cli.compliance  # noqa: E402,F401  (audit, compliance, pii, openlineage)
import steward.cli.interop  # noqa: E402,F401  (import dbt)
import steward.cli.ml  # noqa: E402,F401  (models, reproduce)
import steward.cli.ops  # noqa: E402,F401  (freshness, delivery, schedules, alerts)
import steward.cli.profile  # noqa: E402,F401  (profile, drift, metrics, report)
import steward.cli.quality  # noqa: E402,F401  (check, contract)
import steward.cli.server  # noqa: E402,F401  (serve, users)

# -- end command modules --


def _only(name: str) -> None:
    """Keep only the command (or group) ``name`` when it exists.

    Typer builds the Click object of every registered command on each invocation, about
    a tenth of a second for all of Steward's; a command line names one. Anything else
    (``--help``, a typo) keeps them all, so the usage and "no such command" messages stay
    whole.
    """
    cmds = [c for c in app.registered_commands
            if (c.name or c.callback.__name__.replace("_", "-")) == name]  # type: ignore[union-attr]
    groups = [g for g in app.registered_groups if g.name == name]
    if len(cmds) + len(groups) == 1:
        app.registered_commands = cmds
        app.registered_groups = groups


def main() -> None:
    """Entry point: every StewardError becomes one clear message and an exit code.

    Typer handles its own usage errors (a bad option value: a usage line, exit 2).
    """
    _only(sys.argv[1] if len(sys.argv) > 1 else "")
    try:
        app()
    except StewardError as e:
        from rich.console import Console
        from rich.markup import escape

        Console(stderr=True, highlight=False, soft_wrap=True).print(
            f"[bold red]error:[/] {escape(e.render())}")
        from steward.core.errors import RunCancelled

        if isinstance(e, RunCancelled):
            # builds still running in threads would hold the exit until they end: the
            # run is recorded as cancelled already, so leave now
            import os

            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(e.exit_code)
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
