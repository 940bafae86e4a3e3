"""``steward audit log|verify``, ``compliance``, ``pii scan`` and ``openlineage emit``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from steward.cli.main import EnvOpt, JsonOpt, ProjectOpt, _ctx, _dump, _out, app
from steward.cli.text import escape
from steward.core.words import counted

audit_app = typer.Typer(help="The tamper-evident audit trail of every state change.",
                        no_args_is_help=True)
app.add_typer(audit_app, name="audit")
pii_app = typer.Typer(help="Personal data detection.", no_args_is_help=True)
app.add_typer(pii_app, name="pii")
ol_app = typer.Typer(help="OpenLineage events of runs.", no_args_is_help=True)
app.add_typer(ol_app, name="openlineage")


def _short(obj: Any, width: int = 60) -> str:
    if obj in (None, {}, []):
        return ""
    import json

    text = json.dumps(obj, default=str, separators=(",", ":"))
    return text if len(text) <= width else text[:width - 1] + "…"


@audit_app.command("log")
def audit_log(
    action: Annotated[str | None, typer.Option(help="Only this action (run, promote...).")
                      ] = None,
    actor: Annotated[str | None, typer.Option(help="Only this actor.")] = None,
    target: Annotated[str | None, typer.Option(help="Only events touching this product.")
                      ] = None,
    since: Annotated[str | None, typer.Option(help="A date (2026-11-01) or a duration ago (7d).")
                     ] = None,
    limit: Annotated[int, typer.Option(help="Events to show (0: all).")] = 50,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Show the audit trail, newest first."""
    ctx = _ctx(project)
    if target:
        target = ctx.resolve_product(target).name
    events = ctx.audit_trail().log(action, actor, target, since, limit or None)
    if json_out:
        return _dump([e.to_dict() for e in events])
    from rich.table import Table

    t = Table(title="audit trail", title_justify="left")
    for col in ("#", "time", "actor", "action", "targets", "before → after", "reason"):
        t.add_column(col)
    for e in events:
        targets = ", ".join(e.targets[:3]) + (f" +{len(e.targets) - 3}" if len(e.targets) > 3
                                              else "")
        change = " → ".join(x for x in (_short(e.before, 40), _short(e.after, 40)) if x)
        t.add_row(str(e.seq), e.ts[:19].replace("T", " "), escape(e.actor), e.action,
                  escape(targets), escape(change), escape(e.reason or ""))
    _out().print(t)
    return None


@audit_app.command("verify")
def audit_verify(
    workers: Annotated[int | None, typer.Option(
        help="Processes to verify with (default: 1, or cores above 2M events).")] = None,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Replay the hash chain; report the first altered, removed or reordered event."""
    ctx = _ctx(project)
    from steward.run.integrity import verify_trail

    # every pointer move is an event: replaying them must give the pointers as stored
    report = verify_trail(ctx.audit_trail(), ctx.metastore, workers)
    if json_out:
        _dump(report.to_dict())
    elif report.ok:
        _out().print(f"[green]ok[/]: {counted(report.events, 'event')}, "
                     f"{counted(report.checkpoints, 'checkpoint')} verified in "
                     f"{report.seconds:.2f}s; head "
                     f"{(report.head or '-')[:16]}")
    else:
        _out().print(f"[bold red]TAMPERED[/]: {escape(report.message)} "
                     f"(first bad event #{report.first_bad}, {report.problem}; "
                     f"{counted(report.events, 'event')} verified before it)")
    if not report.ok:
        raise typer.Exit(4)


@audit_app.command("reseal")
def audit_reseal(
    reason: Annotated[str, typer.Option(help="Why the trail is accepted as it is now.")],
    project: ProjectOpt = None,
) -> None:
    """Accept the trail as it is now, after an investigation (recorded as an event)."""
    ctx = _ctx(project)
    from steward.core.ids import actor

    ev = ctx.audit_trail().reseal(actor(), reason)
    _out().print(f"resealed: event #{ev.seq} records the change; the store's head is now "
                 f"#{ev.seq}")


@app.command("verify")
def verify(
    quick: Annotated[bool, typer.Option(
        "--quick", help="Presence and size of files only (no content hashes).")] = False,
    repair: Annotated[bool, typer.Option(
        "--repair", help="Mark damaged versions (never reused again) and set pointers "
                         "changed outside Steward back to what the audit trail records.")
                      ] = False,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Check every version against its files and hash, every pointer against the audit
    trail, and every environment against what its versions were built from."""
    ctx = _ctx(project)
    result = ctx.verify(deep=not quick, repair=repair)
    if json_out:
        _dump(result.to_json())
    else:
        out = _out()
        for f in result.findings:
            color = "bold red" if f.severe else "yellow"
            out.print(f"[{color}]{f.kind:>12}[/] {escape(f.subject)}: {escape(f.problem)}"
                      f"\n{'':>13} fix: {escape(f.fix)}")
        for r in result.repaired:
            out.print(f"[cyan]    repaired[/] {escape(r)}")
        what = "hashed" if result.deep else "checked (presence and size)"
        status = "[green]ok[/]" if result.ok else "[bold red]problems found[/]"
        out.print(f"{status}: {result.versions_checked:,} version(s) {what}, "
                  f"{result.audit_events:,} audit event(s) replayed, "
                  f"{len(result.findings)} finding(s)")
    if not result.ok and not (repair and result.repaired):
        raise typer.Exit(4)


@app.command("compliance")
def compliance(
    fmt: Annotated[str, typer.Option("--format", "-f", help="md or json.")] = "md",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write to this file.")
                      ] = None,
    env: EnvOpt = None, project: ProjectOpt = None,
) -> None:
    """Which products hold PII, their owners, retention, recent changes, and every gap."""
    from steward.audit.compliance import render_markdown

    if fmt not in ("md", "json"):
        raise typer.BadParameter("--format must be md or json")
    ctx = _ctx(project)
    report = ctx.compliance_report(env)
    text = report.to_json() if fmt == "json" else render_markdown(report)
    if output:
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(text + "\n", encoding="utf-8")
        _out().print(f"wrote {output}: {counted(len(report.pii_products), 'product')} with "
                     f"personal data, {counted(len(report.gaps), 'gap')}, "
                     f"{counted(len(report.errors), 'error')}")
    elif fmt == "json":
        print(text)
    else:
        from rich.markdown import Markdown

        _out().print(Markdown(text))
    if report.errors:
        raise typer.Exit(1)


@pii_app.command("scan")
def pii_scan(
    product: Annotated[str, typer.Argument(help="Product name.")],
    env: EnvOpt = None, json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Sample a product's current version and propose PII classifications."""
    ctx = _ctx(project)
    findings = ctx.pii_scan(product, env)
    if json_out:
        return _dump([f.to_dict() for f in findings])
    if not findings:
        _out().print(f"no personal data detected in {ctx.resolve_product(product).name}")
        return None
    from rich.table import Table

    t = Table(title=f"PII proposals for {ctx.resolve_product(product).name}",
              title_justify="left")
    for col in ("column", "proposal", "match", "declared", "status"):
        t.add_column(col)
    for f in findings:
        d = f.detection
        status = ("[yellow]undeclared[/]" if f.undeclared else
                  "[green]declared[/]" if f.declared == "pii" else
                  f"inherited from {escape(f.inherited_from)}" if f.inherited_from else
                  "[dim]declared not PII[/]")
        t.add_row(escape(d.column), d.classification, f"{d.fraction:.0%} of {d.sampled}",
                  f.declared or "", status)
    _out().print(t)
    return None


@ol_app.command("emit")
def openlineage_emit(
    run_id: Annotated[str | None, typer.Argument(help="Run id (default: the latest run).")
                      ] = None,
    json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """(Re-)emit a recorded run's OpenLineage events to the file and configured endpoint."""
    ctx = _ctx(project)
    if run_id is None:
        runs = ctx.runs(1)
        if not runs:
            from steward.core.errors import NotFound

            raise NotFound("no runs yet; run 'steward run' first")
        run_id = runs[0].id
    events, problems = ctx.deliver_openlineage(run_id)
    spec = ctx.project.spec.openlineage
    if json_out:
        _dump(events)  # plain JSON documents already
    else:
        delivered = [x for x in (spec.file, None if problems else spec.url) if x]
        _out().print(f"emitted {counted(len(events), 'OpenLineage event')} for run {run_id} "
                     "to " + (", ".join(delivered)
                              or "nowhere (openlineage.enabled is false)"))
    if problems:
        from rich.console import Console

        err = Console(stderr=True, highlight=False, soft_wrap=True)
        for p in problems:
            err.print(f"[bold red]not delivered:[/] {escape(p)}")
        err.print("the events are in the file; send them again with "
                  f"'steward openlineage emit {run_id}' once the endpoint answers")
        raise typer.Exit(1)
    return None
