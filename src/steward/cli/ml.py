"""``steward models``, ``steward reproduce``, and the model views of ``log`` and ``diff``."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from steward.cli.logview import num as _num
from steward.cli.logview import print_model_log, print_models
from steward.cli.main import EnvOpt, JsonOpt, ProjectOpt, _ctx, _dump, _out, app

__all__ = ["print_model_diff", "print_model_log"]


@app.command()
def models(json_out: JsonOpt = False, project: ProjectOpt = None) -> None:
    """Models with their current version in each environment and its metrics."""
    print_models(_ctx(project), json_out)


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
