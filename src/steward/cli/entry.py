"""The ``steward`` executable: a no-op ``run`` and a ``plan`` answer here, the rest goes to Typer.

``steward run`` on an unchanged project is the command typed most often, and importing
Typer, Rich, SQLAlchemy and pydantic would cost it more than everything else together.
So a ``run`` whose options this recognises first asks :func:`steward.run.noop.noop_run`.
``steward plan`` is the command typed after every edit; it runs here without Typer (and,
with the load memo, without pydantic). The registry's reads, ``steward models`` and
``steward log``, run here without Typer too. Anything these do not recognise (``--help``, a
typo, an option they do not know) and any error goes to the full command line, which
parses, runs and reports it.
"""

from __future__ import annotations

import sys
from typing import Any

# options the fast paths understand: spelling -> (name, parse its value or None for a flag)
_COMMON = {"--env": ("env", str), "-e": ("env", str), "--project": ("project", str),
           "-p": ("project", str), "--json": ("json", None)}
_RUN = {**_COMMON, "--wait": ("wait", float), "--workers": ("workers", int),
        "--verbose": ("verbose", None), "-v": ("verbose", None)}
_PLAN = {**_COMMON, "--from": ("from_env", str), "--exclude": ("exclude", list),
         "-x": ("exclude", list)}
_MODELS = {"--json": ("json", None), "--project": ("project", str), "-p": ("project", str)}
_LOG = {**_MODELS, "--limit": ("limit", int)}


def _options(args: list[str], known: dict[str, Any], positional: bool = False
             ) -> dict[str, Any] | None:
    """The options in ``args``, or None when the full parser must see them.

    A ``list`` option may repeat; with ``positional``, other words collect in "args".
    """
    out: dict[str, Any] = {"args": [], "exclude": []}
    rest = list(args)
    while rest:
        word = rest.pop(0)
        if positional and not word.startswith("-"):
            out["args"].append(word)
            continue
        spelling, eq, value = word.partition("=")
        if spelling not in known:
            return None
        name, parse = known[spelling]
        if parse is None:
            if eq:
                return None
            out[name] = True
            continue
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        if parse is list:
            out[name].append(value)
            continue
        try:
            out[name] = parse(value)
        except ValueError:
            return None
    return out


def _fast_run(args: list[str]) -> int | None:
    opts = _options(args, _RUN)
    if opts is None:
        return None

    from steward.core.errors import StewardError
    from steward.project.paths import find_root
    from steward.run.noop import noop_run

    try:
        root = find_root(str(opts.get("project") or "."))
    except StewardError:
        return None  # the full path reports it
    from steward.core.ids import actor
    from steward.core.phases import timed, totals

    with timed("noop"):
        done = noop_run(root, str(opts.get("env") or "") or None, actor())
    if done is None:
        return None
    from steward.cli.console import make_console

    console = make_console(bool(opts.get("json")), bool(opts.get("verbose")))
    for warning in done.warnings:
        console.message(warning, "warn")
    r = done.result
    console.run_started(r.run_id, r.env, len(r.steps), 0)
    for step in r.steps:
        console.step_finished(step.product, step.status, {"version": step.version_id})
    console.run_finished(r)
    if opts.get("json"):
        console.phases(totals())  # as the full path does
    return 0


def _fast_plan(args: list[str]) -> int | None:
    """``steward plan`` without Typer; None sends it to the full command line."""
    import os

    from steward.run.noop import DISABLE

    opts = _options(args, _PLAN, positional=True)
    if opts is None or os.environ.get(DISABLE):
        return None
    from steward.context import Context
    from steward.core.errors import StewardError
    from steward.run.envops import plan

    try:
        cp = plan(Context(opts.get("project")), opts.get("env"), opts["args"], opts["exclude"],
                  opts.get("from_env"))
    except StewardError:
        return None  # the full path runs it again and reports the error its way
    from steward.cli.planview import show_plan

    show_plan(cp, bool(opts.get("json")))
    return 0


def _fast_read(args: list[str], known: dict[str, Any], show: Any) -> int | None:
    """A read-only command (``models``, ``log``) without Typer; None sends it on."""
    import os

    opts = _options(args, known, positional=True)
    # (steward.run.noop.DISABLE, not imported for its name: it costs what the command does)
    if opts is None or len(opts["args"]) > (1 if "--limit" in known else 0) \
            or os.environ.get("STEWARD_NO_FASTPATH"):
        return None
    from steward.context import Context
    from steward.core.errors import StewardError

    try:  # no project, an unknown product...: the full path reports it its way
        ctx = Context(opts.get("project"))
        if opts["args"]:
            ctx.resolve_product(opts["args"][0])
        show(ctx, opts, bool(opts.get("json")))  # (prints once it has read everything)
    except StewardError:
        return None
    return 0


def _fast_models(args: list[str]) -> int | None:
    from steward.cli.logview import print_models

    return _fast_read(args, _MODELS, lambda ctx, opts, js: print_models(ctx, js))


def _fast_log(args: list[str]) -> int | None:
    from steward.cli.logview import print_log

    return _fast_read(args, _LOG, lambda ctx, opts, js: print_log(
        ctx, (opts["args"] or [None])[0], int(opts.get("limit", 20)), js))


_FAST = {"run": _fast_run, "plan": _fast_plan, "models": _fast_models, "log": _fast_log}


def main() -> None:
    import os

    # Steward's own pydantic models need no pydantic plugins, and looking them up scans
    # every installed distribution's metadata (about 50 ms a command). Set
    # PYDANTIC_DISABLE_PLUGINS to an empty value to keep them for Python products.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    # Arrow's default allocator (mimalloc) keeps what it freed for reuse: a build reads
    # a thousand small versions into Arrow, and held about 11 MB more at its peak
    # (benchmarks/cost_bench.py, same CPU). Set the variable to choose another pool.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    # The cyclic collector's default pace (a young pass every 700 allocations, a full one
    # every 100 young) cost a 1,000-product build about a second of passes over a heap
    # of modules, project and plan; ten times fewer passes cost a third of that, the
    # same peak memory (benchmarks/cost_bench.py).
    import gc

    gc.set_threshold(10_000, 10, 10)
    import atexit

    from steward.core.heap import exit_frozen

    atexit.register(exit_frozen)  # (registered first, so it runs last)
    args = sys.argv[1:]
    fast = _FAST.get(args[0]) if args else None
    if fast is not None:
        code = fast(args[1:])
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    from steward.cli.main import main as full

    full()
