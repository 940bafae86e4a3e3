"""``steward log`` and ``steward models`` output, for the Typer commands and the
executable's fast path alike (light to import: no Typer, Rich loads when a table prints)."""

from __future__ import annotations

import math
from typing import Any

from steward.cli.text import dump_json, out_console


def num(value: Any) -> str:
    """A metric or param as a table shows it."""
    if isinstance(value, list | tuple):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        return f"{value:.4f}" if math.isfinite(value) else str(value)
    return "" if value is None else str(value)


def print_log(ctx: Any, product: str | None, limit: int, json_out: bool) -> None:
    """A product's versions (all products' without one), newest first."""
    if product and ctx.is_model(product):  # metrics, params and input versions too
        return print_model_log(ctx, product, limit, json_out)
    entries = ctx.log(product, limit)
    if json_out:
        return dump_json([{"product": v.product, "version": v.id, "status": v.status,
                           "fingerprint": v.fingerprint,
                           "created_at": v.created_at, "run": v.run_id, "rows": v.row_count,
                           "checks": v.check_status, "environments": envs}
                          for v, envs in entries])
    from rich.table import Table

    title = f"versions of {ctx.resolve_product(product).name}" if product else "versions"
    t = Table(title=title, title_justify="left")
    if not product:
        t.add_column("product")
    for col in ("version", "status", "fingerprint", "built", "run", "rows", "checks", "envs"):
        t.add_column(col)
    for v, envs in entries:
        t.add_row(*([v.product] if not product else []), v.id, v.status, v.fingerprint[:12],
                  f"{v.created_at:%Y-%m-%d %H:%M:%S}" if v.created_at else "",
                  v.run_id or "",
                  f"{v.row_count:,}" if v.row_count is not None else "",
                  v.check_status or "", ", ".join(envs))
    out_console().print(t)
    return None


def print_models(ctx: Any, json_out: bool) -> None:
    """Each model, its version in every environment and that version's metrics."""
    rows = ctx.models()
    if json_out:
        return dump_json([r.__dict__ for r in rows])
    from rich.table import Table

    t = Table(title="models", title_justify="left")
    for col in ("model", "env", "version", "metrics"):
        t.add_column(col)
    for r in rows:
        if not r.envs:
            t.add_row(r.product, "", "(never published)", "")
        for env, vid in sorted(r.envs.items()):
            m = r.current.get(env) or {}
            shown = ", ".join(f"{k}={num(m[k])}" for k in (r.metrics or m) if k in m)
            t.add_row(r.product, env, vid, shown)
    out_console().print(t)
    return None


def print_model_log(ctx: Any, product: str, limit: int, json_out: bool) -> None:
    """A model's versions with their metrics, params, input versions and environments."""
    entries = ctx.model_log(product, limit)
    if json_out:
        return dump_json([{"version": e.version.id, "status": e.version.status,
                           "created_at": e.version.created_at,
                           "checks": e.version.check_status,
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
                  ", ".join(f"{k}={num(x)}" for k, x in r.metrics.items()) if r else "",
                  ", ".join(f"{k}={x}" for k, x in r.params.items()) if r else "",
                  ", ".join(f"{k}@{x}" for k, x in sorted(v.inputs.items())),
                  ", ".join(e.envs))
    out_console().print(t)
    return None
