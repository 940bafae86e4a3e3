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
