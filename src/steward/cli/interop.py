"""``steward import dbt``: bring a project from another tool."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from steward.cli.main import app
from steward.cli.text import dump_json, escape, out_console

import_app = typer.Typer(help="Convert a project from another tool into a Steward project.",
                         no_args_is_help=True)
app.add_typer(import_app, name="import")


@import_app.command("dbt")
def import_dbt(
    path: Annotated[Path, typer.Argument(help="The dbt project folder (with dbt_project.yml).")],
    into: Annotated[Path | None, typer.Option(
        "--into", help="Folder for the Steward project (default: PATH_steward beside it).")
                    ] = None,
    manifest: Annotated[Path | None, typer.Option(
        help="A dbt manifest.json to take compiled SQL from (default: PATH/target/"
             "manifest.json when present).")] = None,
    no_manifest: Annotated[bool, typer.Option(
        "--no-manifest", help="Render the project's Jinja even when a manifest exists.")
                           ] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Convert a dbt project: models, macros, sources, seeds, tests, snapshots, exposures.

    What cannot be converted is listed with its file and line (and kept in
    IMPORTED_FROM_DBT.md in the new folder).
    """
    try:
        from steward.interop.dbt.convert import import_dbt as run_import
    except ImportError as e:  # jinja2 missing
        from steward.core.errors import StewardError

        raise StewardError(f"`steward import dbt` needs jinja2 ({e}); "
                           "install it with: pip install 'datasteward[dbt]'") from None
    report = run_import(str(path), str(into) if into else None,
                        manifest=str(manifest) if manifest else None,
                        use_manifest=not no_manifest)
    if json_out:
        return dump_json({
            "into": report.target, "models": report.models, "sources": report.sources,
            "seeds": report.seeds, "snapshots": report.snapshots, "checks": report.checks,
            "consumers": report.consumers, "manifest": report.used_manifest,
            "not_converted": [{"file": p.file, "line": p.line, "message": p.message,
                               "hint": p.hint} for p in report.not_converted],
            "notes": [{"file": p.file, "line": p.line, "message": p.message}
                      for p in report.notes],
        })
    out = out_console()
    out.print(f"imported {report.models} models, {report.snapshots} snapshots, "
              f"{report.seeds} seeds, {report.sources} sources, {report.checks} checks and "
              f"{report.consumers} exposures into {escape(report.target)}"
              + (" (SQL compiled by dbt, from its manifest)" if report.used_manifest else ""))
    if report.not_converted:
        out.print(f"[yellow]not converted ({len(report.not_converted)}):[/]")
        for p in report.not_converted:
            out.print(f"  {escape(p.render())}")
    if report.notes:
        out.print(f"converted with a difference ({len(report.notes)}):")
        for p in report.notes:
            out.print(f"  {escape(p.render())}")
    out.print(f"next: cd {escape(report.target)} && steward run")


docs_app = typer.Typer(help="dbt-compatible artifacts of the project.", no_args_is_help=True)
app.add_typer(docs_app, name="docs")


@docs_app.command("generate")
def docs_generate(
    env: Annotated[str | None, typer.Option("--env", "-e", help="Environment (default: prod).")
                   ] = None,
    run_id: Annotated[str | None, typer.Option(
        "--run", help="The run whose results to write (default: the last one).")] = None,
    target_path: Annotated[Path, typer.Option(
        "--target-path", help="Folder for the artifacts, relative to the project.")
                           ] = Path("target"),
    project: Annotated[Path | None, typer.Option("--project", "-p")] = None,
) -> None:
    """Write target/manifest.json (dbt schema v12) and target/run_results.json (v6).

    Tools that read dbt projects (DataHub, OpenMetadata, Elementary...) then see the
    products as models, file sources as sources, checks as tests, consumers as exposures.
    """
    import os
    from datetime import UTC, datetime

    from steward.context import Context
    from steward.interop.dbt import artifacts
    from steward.meta.checks import results_for_versions

    ctx = Context(project)
    env_name = ctx.env_name(env)
    current = ctx.current(env_name)
    now = datetime.now(UTC)
    runs = [r for r in ctx.runs(200) if r.env == env_name] if run_id is None else \
        [ctx.metastore.run(run_id)]
    run = runs[0] if runs else None
    manifest = artifacts.manifest(ctx.project, current, now, run.id if run else None)
    folder = target_path if target_path.is_absolute() else Path(ctx.root) / target_path
    paths = [artifacts.write(str(folder), "manifest.json", manifest)]
    if run is not None:
        steps = ctx.metastore.steps(run_id=run.id)
        results = results_for_versions(ctx.metastore, [s.version_id for s in steps
                                                       if s.version_id])
        paths.append(artifacts.write(str(folder), "run_results.json", artifacts.run_results(
            ctx.project, run, steps, results, now, manifest["nodes"])))
    out = out_console()
    for p in paths:
        out.print(f"wrote {escape(os.path.relpath(p))}")
