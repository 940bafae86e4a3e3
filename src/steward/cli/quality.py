"""``steward check`` and ``steward contract``: quality gates and data contracts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from steward.cli.main import EnvOpt, JsonOpt, ProjectOpt, _ctx, _dump, _out, app
from steward.cli.text import escape
from steward.core.words import counted

if TYPE_CHECKING:
    from steward.context import Context

STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "error": "bold red"}


def _styled(status: str | None) -> str:
    text = escape(status or "none")
    style = STATUS_STYLE.get(status or "")
    return f"[{style}]{text}[/]" if style else text


@app.command(context_settings={"allow_interspersed_args": True})
def check(
    select: Annotated[list[str] | None, typer.Argument(
        help="Selection (+x, x+, tag:t ...), or 'show PRODUCT' for stored results.")] = None,
    exclude: Annotated[list[str] | None, typer.Option("--exclude", "-x")] = None,
    version: Annotated[str | None, typer.Option(help="With 'show': the version to show.")
                       ] = None,
    samples: Annotated[int, typer.Option(help="With 'show': failing rows to print per check.")
                       ] = 5,
    workers: Annotated[int | None, typer.Option(help="Products checked at once.")] = None,
    env: EnvOpt = None, json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Run checks on current versions without building; 'check show P' shows stored results."""
    args = list(select or [])
    ctx = _ctx(project)
    if args and args[0] == "show":
        if len(args) != 2:
            raise typer.BadParameter("usage: steward check show PRODUCT [--version V]")
        return _show(ctx, args[1], version, env, json_out, samples)
    reports = ctx.check(args, exclude or [], env, workers)
    if json_out:
        _dump([r.to_json() for r in reports])
    else:
        _render_check(reports, env or ctx.default_env)
    if any(r.status == "fail" for r in reports):
        raise typer.Exit(1)
    return None


def _render_check(reports: list[Any], env: str) -> None:
    from rich.table import Table

    out = _out()
    if not reports:
        out.print(f"nothing to check: no selected product has a version in '{env}'")
        return
    t = Table(title=f"checks on current versions in '{env}'", title_justify="left")
    for col in ("product", "version", "status", "passed", "warn", "failed", "seconds"):
        t.add_column(col)
    for r in sorted(reports, key=lambda r: r.product):
        passed = sum(1 for x in r.results if not x.failed)
        warn = sum(1 for x in r.results if x.failed and not x.blocking)
        bad = sum(1 for x in r.results if x.blocking)
        st = r.status or "none"
        t.add_row(r.product, r.version[:22], _styled(st),
                  str(passed), str(warn), str(bad), f"{r.seconds:.2f}")
    out.print(t)
    for r in reports:
        for x in r.results:
            if x.failed:
                _print_result(out, r.product + ": ", x)


def _print_result(out: Any, prefix: str, r: Any) -> None:
    st = "error" if r.status == "error" else ("fail" if r.blocking else "warn")
    out.print(f"  [{STATUS_STYLE[st]}]{st:>5}[/] {escape(prefix)}{escape(r.name)} "
              f"[dim]({r.type}, {r.severity})[/] {escape(r.message)}")


def _show(ctx: Context, product: str, version: str | None, env: str | None, json_out: bool,
          samples: int) -> None:
    report = ctx.check_results(product, version, env)
    if json_out:
        return _dump(report.to_json())
    from steward.cli.render import render_arrow

    out = _out()
    v = report.version
    where = f"current in '{report.env}'" if report.current else f"not current in '{report.env}'"
    out.print(f"[bold]{report.product}[/] version {v.id} — {v.status}, {where}, checks "
              f"{_styled(v.check_status)}")
    if not report.results:
        out.print("no stored check results for this version")
    for r in report.results:
        if not r.failed:
            out.print(f"  [green] pass[/] {escape(r.name)} [dim]({r.type})[/] "
                      f"{escape(r.message)}")
    for r in report.results:
        if r.failed:
            _print_result(out, "", r)
            path = report.sample_file(r)
            if path and samples:
                table = ctx.engine.arrow(
                    f"SELECT * FROM read_parquet('{_q(path)}') LIMIT {int(samples)}")
                out.print(f"        failing rows sample ({path}):")
                render_arrow(out, table, samples)
    if report.quarantine_path:
        out.print(f"quarantined rows: {report.quarantine_path}\n  query them with: steward sql "
                  f"\"select * from read_parquet('{report.quarantine_path}')\"")
    return None


def _q(path: str) -> str:
    return path.replace("'", "''")


def render_check_summary(out: Any, ctx: Context, view: Any) -> None:
    """A few lines for ``steward show``: the current version's stored check results."""
    if view.version is None:
        return
    from steward.quality.inspect import current_results

    results = current_results(ctx.metastore, view.version.id)
    if not results:
        return
    ok = sum(1 for r in results if not r.failed)
    out.print(f"check results: {ok}/{len(results)} pass")
    for r in results:
        if r.failed:
            _print_result(out, "", r)



contract_app = typer.Typer(help="Data contracts: export to / import from ODCS v3.1 YAML.",
                           no_args_is_help=True)
app.add_typer(contract_app, name="contract")


@contract_app.command("export")
def contract_export(
    product: Annotated[str, typer.Argument(help="Product name.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: stdout).")
                      ] = None,
    env: EnvOpt = None,
    project: ProjectOpt = None,
) -> None:
    """Write a product's contract and checks as an Open Data Contract Standard YAML.

    Over a contract exported before (-o FILE), its version is kept when nothing changed,
    else bumped by the plan's category: breaking -> major, non-breaking -> minor,
    metadata -> patch.
    """
    import yaml

    from steward.quality.odcs import export_yaml

    ctx = _ctx(project)
    env = ctx.env_name(env)
    p = ctx.resolve_product(product)
    v = ctx.current(env).get(p.name)
    previous = None
    if output is not None and output.exists():
        try:
            previous = yaml.safe_load(output.read_text())
        except (OSError, yaml.YAMLError):
            previous = None
    category = None
    if isinstance(previous, dict):
        from steward.run.envops import plan

        change = plan(ctx, env, [p.name]).products.get(p.name)
        category = change.category if change is not None and change.direct else None
    text = export_yaml(p, ctx.project, v, env=env,
                       previous=previous if isinstance(previous, dict) else None,
                       category=category)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        _out().print(f"wrote {output}")


@contract_app.command("import")
def contract_import(
    file: Annotated[Path, typer.Argument(help="An ODCS v3 YAML file.")],
    product: Annotated[str | None, typer.Option(help="Product to attach it to (default: the "
                                                     "schema object's name).")] = None,
    project: ProjectOpt = None,
) -> None:
    """Turn an ODCS contract into a product's declared columns and checks."""
    from steward.quality.odcs import import_file

    ctx = _ctx(project)
    written = import_file(ctx.project, str(file), product)
    for name, path, n_cols, n_checks in written:
        _out().print(f"{name}: {counted(n_cols, 'column')}, {counted(n_checks, 'check')} "
                     f"-> {path}")
    if written:
        ctx.audit("contract.import", [w[0] for w in written], before=None,
                  after={name: {"file": str(path), "columns": n_cols, "checks": n_checks}
                         for name, path, n_cols, n_checks in written},
                  reason=f"imported ODCS contract {file}")
