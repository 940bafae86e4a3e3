"""``steward models``, ``steward reproduce``, and the model views of ``log`` and ``diff``."""

from __future__ import annotations

import math
from typing import Annotated, Any

import typer

from steward.cli.main import EnvOpt, JsonOpt, ProjectOpt, _ctx, _dump, _out, app


def _num(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) else str(value)
    return "" if value is None else str(value)


@app.command()
def models(json_out: JsonOpt = False, project: ProjectOpt = None) -> None:
    """Models with their current version in each environment and its metrics."""
    ctx = _ctx(project)
    rows = ctx.models()
    if json_out:
        return _dump([r.__dict__ for r in rows])
    from rich.table import Table

    t = Table(title="models", title_justify="left")
    for col in ("model", "env", "version", "metrics"):
        t.add_column(col)
    for r in rows:
        if not r.envs:
            t.add_row(r.product, "", "(never published)", "")
        for env, vid in sorted(r.envs.items()):
            m = r.current.get(env) or {}
            shown = ", ".join(f"{k}={_num(m[k])}" for k in (r.metrics or m) if k in m)
            t.add_row(r.product, env, vid, shown)
    _out().print(t)
    return None


def print_model_log(ctx: Any, product: str, limit: int, json_out: bool) -> None:
    entries = ctx.model_log(product, limit)
    if json_out:
        return _dump([{"version": e.version.id, "status": e.version.status,
                       "created_at": e.version.created_at, "checks": e.version.check_status,
                       "environments": e.envs, "inputs": e.version.inputs,
                       "metrics": e.record.metrics if e.record else None,
                       "params": e.record.params if e.record else None,
                       "libraries": e.record.libraries if e.record else None,
                       "error": (e.version.error or "").splitlines()[0] or None
                       if getattr(e.version, "error", None) else None}
                      for e in entries])
    from rich.table import Table

    t = Table(title=f"versions of {ctx.resolve_product(product).name}", title_justify="left")
    for col in ("version", "status", "built", "metrics", "params", "inputs", "envs"):
        t.add_column(col)
    for e in entries:
        v, r = e.version, e.record
        t.add_row(v.id, v.status + (f" ({v.check_status})" if v.check_status else ""),
                  f"{v.created_at:%Y-%m-%d %H:%M:%S}" if v.created_at else "",
                  ", ".join(f"{k}={_num(x)}" for k, x in r.metrics.items()) if r else "",
                  ", ".join(f"{k}={x}" for k, x in r.params.items()) if r else "",
                  ", ".join(f"{k}@{x}" for k, x in sorted(v.inputs.items())),
                  ", ".join(e.envs))
    _out().print(t)
    return None


def print_model_diff(out: Any, d: Any) -> None:
    out.print(f"model {d.product}: {d.a} -> {d.b}")
    for title, pairs in (("declaration", d.declaration), ("params", d.params),
                         ("metrics", d.metrics),
                         ("inputs", d.inputs), ("libraries", d.libraries)):
        if not pairs:
            continue
        out.print(f"  {title}:")
        for k, (a, b) in pairs.items():
            mark = "" if a == b else "  [yellow]*[/]"
            out.print(f"    {k}: {_num(a)} -> {_num(b)}{mark}")
    p = d.predictions
    if p.get("compared"):
        extra = ""
        if "max_score_difference" in p:
            extra = f", largest score difference {p['max_score_difference']:.4f}"
        elif "max_prediction_difference" in p:
            extra = f", largest difference {p['max_prediction_difference']:.4g}"
        out.print(f"  holdout predictions: {p.get('differing', 0):,} of {p['compared']:,} "
                  f"matched rows differ{extra}")
    elif p.get("note"):
        out.print(f"  holdout predictions: {p['note']}")


@app.command()
def reproduce(
    model: Annotated[str, typer.Argument(help="Model product.")],
    version: Annotated[str | None, typer.Option(
        "--version", help="Version id (default: the one the environment points at).")] = None,
    env: EnvOpt = None, json_out: JsonOpt = False, project: ProjectOpt = None,
) -> None:
    """Retrain a model version from its recorded inputs, params, seed and code, and say
    whether its holdout predictions are identical. Exit 1 when they differ."""
    ctx = _ctx(project)
    r = ctx.reproduce(model, version, env)
    if json_out:
        _dump(r.to_json())
    else:
        out = _out()
        p = r.predictions
        if r.identical:
            out.print(f"{r.product} version {r.version}: reproduced; the "
                      f"{p.get('compared', 0):,} holdout predictions are identical"
                      + (" (and so is the artifact)" if r.artifact_identical else ""))
        else:
            out.print(f"{r.product} version {r.version}: NOT identical: "
                      f"{p.get('differing', '?')} of {p.get('compared', 0):,} holdout "
                      "predictions differ"
                      + (f", largest score difference {p['max_score_difference']:.6f}"
                         if "max_score_difference" in p else ""))
        for k, (a, b) in r.metrics.items():
            out.print(f"  {k}: recorded {_num(a)}, reproduced {_num(b)}")
        for note in r.notes:
            out.print(f"[yellow]note:[/] {note}")
    if not r.identical:
        raise typer.Exit(1)
