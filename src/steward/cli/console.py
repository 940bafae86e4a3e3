"""Three ways to watch a run: a Rich progress display, plain lines, or JSON lines."""

from __future__ import annotations

import json
import sys
import threading
from typing import Any

# rich is imported by the consoles that print with it: the JSON console (and the no-op
# fast path that uses it) starts without it

STYLE = {"built": "green", "reused": "cyan", "kept": "dim", "failed": "bold red",
         "skipped": "yellow", "blocked": "yellow", "cancelled": "yellow"}


def _fmt_rows(n: Any) -> str:
    if not isinstance(n, int):
        return "- rows"
    return f"{n:,} row" if n == 1 else f"{n:,} rows"


class PlainConsole:
    """One line per event, for logs and pipes."""

    def __init__(self, out: Any = None, verbose: bool = False):
        from rich.console import Console as RichOut

        self.out = RichOut(file=out or sys.stdout, highlight=False, soft_wrap=True)
        self.err = RichOut(file=sys.stderr, highlight=False, soft_wrap=True)
        self.verbose = verbose
        self.lock = threading.Lock()

    def run_started(self, run_id: str, env: str, total: int, to_build: int) -> None:
        self.out.print(f"run {run_id} into '{env}': {total} selected, {to_build} to build")

    def step_started(self, product: str) -> None:
        pass

    def step_finished(self, product: str, status: str, info: dict[str, Any]) -> None:
        if status == "kept" and not self.verbose and not info.get("notes"):
            return
        with self.lock:
            line = f"[{STYLE.get(status, '')}]{status:>8}[/] {product}"
            if status == "built":
                line += f"  {_fmt_rows(info.get('rows'))} in {info.get('seconds', 0):.2f}s"
            from rich.markup import escape

            if info.get("error"):
                first, *rest = escape(str(info["error"])).splitlines()
                line += f"\n           {first}" + "".join(f"\n           {r}" for r in rest[:6])
            for note in info.get("notes") or ():
                line += f"\n           [yellow]note:[/] {escape(note)}"
            self.out.print(line)

    def run_finished(self, result: Any) -> None:
        from rich.markup import escape

        for name, why in sorted(result.held_back.items()):
            self.out.print(f"[yellow]held back[/] {name}: its new version is published, but "
                           f"'{result.env}' keeps the previous one ({escape(why)})")
        for name, behind in sorted(result.stale.items()):
            self.out.print(f"[yellow]   stale[/] {name} (not selected) was built from an "
                           f"older version of {', '.join(behind)}; "
                           f"'steward run {name}' rebuilds it")
        c = result.summary()["counts"]
        color = "green" if result.ok else "red"
        parts = [f"{v} {k}" for k, v in c.items() if v]
        self.out.print(f"[{color}]{result.status}[/]: " + ", ".join(parts or ["nothing to do"])
                       + f" in {result.duration_s:.2f}s (run {result.run_id})")

    def message(self, text: str, level: str = "info") -> None:
        from rich.markup import escape

        color = {"warn": "yellow", "error": "red"}.get(level)
        self.err.print(f"[{color}]{escape(text)}[/]" if color else escape(text))


class RichConsole(PlainConsole):
    """A live progress bar on a terminal, with the plain lines above it."""

    def __init__(self, verbose: bool = False):
        super().__init__(verbose=verbose)
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[current]}"),
            console=self.out, transient=True,
        )
        self.task: Any = None
        self.active: set[str] = set()

    def run_started(self, run_id: str, env: str, total: int, to_build: int) -> None:
        super().run_started(run_id, env, total, to_build)
        self.progress.start()
        self.task = self.progress.add_task(f"building into {env}", total=total, current="")

    def step_started(self, product: str) -> None:
        with self.lock:
            self.active.add(product)
        self._refresh()

    def step_finished(self, product: str, status: str, info: dict[str, Any]) -> None:
        super().step_finished(product, status, info)
        with self.lock:
            self.active.discard(product)
        if self.task is not None:
            self.progress.advance(self.task)
        self._refresh()

    def _refresh(self) -> None:
        if self.task is not None:
            names = sorted(self.active)
            text = ", ".join(names[:3]) + (f" +{len(names) - 3}" if len(names) > 3 else "")
            self.progress.update(self.task, current=text)

    def run_finished(self, result: Any) -> None:
        self.progress.stop()
        super().run_finished(result)


class JsonConsole:
    """JSON lines on stdout: one object per event."""

    def __init__(self) -> None:
        self.lock = threading.Lock()

    def _emit(self, **obj: Any) -> None:
        with self.lock:
            sys.stdout.write(json.dumps(obj, default=str) + "\n")
            sys.stdout.flush()

    def run_started(self, run_id: str, env: str, total: int, to_build: int) -> None:
        self._emit(event="run_started", run_id=run_id, env=env, total=total, to_build=to_build)

    def step_started(self, product: str) -> None:
        self._emit(event="step_started", product=product)

    def step_finished(self, product: str, status: str, info: dict[str, Any]) -> None:
        self._emit(event="step_finished", product=product, status=status, **info)

    def run_finished(self, result: Any) -> None:
        self._emit(event="run_finished", **result.summary())

    def phases(self, totals: dict[str, Any]) -> None:
        self._emit(event="phases", phases=totals)

    def message(self, text: str, level: str = "info") -> None:
        self._emit(event="message", level=level, text=text)


def make_console(json_mode: bool, verbose: bool = False) -> Any:
    if json_mode:
        return JsonConsole()
    if sys.stdout.isatty():
        return RichConsole(verbose)
    return PlainConsole(verbose=verbose)
