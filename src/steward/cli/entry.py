"""The ``steward`` executable: a no-op ``run`` answers here, everything else goes to Typer.

``steward run`` on an unchanged project is the command typed most often, and importing
Typer, Rich, SQLAlchemy and pydantic would cost it more than everything else together.
So a ``run`` whose options this recognises first asks :func:`steward.run.noop.noop_run`;
anything it does not recognise (a selection, ``--full-refresh``, ``--help``, a typo)
goes to the full command line, which parses and reports it.
"""

from __future__ import annotations

import sys

# run options the fast path understands: spelling -> (name, parse its value or None)
_OPTIONS = {"--env": ("env", str), "-e": ("env", str), "--project": ("project", str),
            "-p": ("project", str), "--wait": ("wait", float), "--workers": ("workers", int),
            "--json": ("json", None), "--verbose": ("verbose", None), "-v": ("verbose", None)}


def _run_options(args: list[str]) -> dict[str, object] | None:
    """The options of ``steward run ARGS``, or None when the full parser must see them."""
    out: dict[str, object] = {}
    rest = list(args)
    while rest:
        spelling, eq, value = rest.pop(0).partition("=")
        if spelling not in _OPTIONS:
            return None
        name, parse = _OPTIONS[spelling]
        if parse is None:
            if eq:
                return None
            out[name] = True
            continue
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        try:
            out[name] = parse(value)
        except ValueError:
            return None
    return out


def _fast_run(args: list[str]) -> int | None:
    opts = _run_options(args)
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
    return 0


def main() -> None:
    import os

    # Steward's own pydantic models need no pydantic plugins, and looking them up scans
    # every installed distribution's metadata (about 50 ms a command). Set
    # PYDANTIC_DISABLE_PLUGINS to an empty value to keep them for Python products.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = sys.argv[1:]
    if args[:1] == ["run"]:
        code = _fast_run(args[1:])
        if code is not None:
            sys.stdout.flush()
            sys.exit(code)
    from steward.cli.main import main as full

    full()
