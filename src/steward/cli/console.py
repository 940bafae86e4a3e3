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


Segment = tuple[str, str | None]  # text, and the Rich style it has on a terminal


class PlainConsole:
    """One line per event, for logs and pipes: plain text, written as it comes (Rich's
    rendering cost a tenth of a millisecond a line, and drops the styles here anyway)."""

    def __init__(self, out: Any = None, verbose: bool = False):
        self.out = out or sys.stdout
        self.err = sys.stderr
        self.verbose = verbose
        self.lock = threading.Lock()
        self._gone: set[Any] = set()  # streams whose reader closed them

    def _line(self, segments: list[Segment], err: bool = False) -> None:
        f = self.err if err else self.out
        if f in self._gone:
            return
        text = "".join(t for t, _ in segments) + "\n"
        try:
            try:
                f.write(text)
            except UnicodeEncodeError:  # a stream that cannot say it: escaped, not lost
                enc = getattr(f, "encoding", None) or "ascii"
                f.write(text.encode(enc, "backslashreplace").decode(enc))
            f.flush()
        except OSError:  # the reader went away (`steward run | head`): the run goes on
            self._gone.add(f)

    def run_started(self, run_id: str, env: str, total: int, to_build: int) -> None:
        self._line([(f"run {run_id} into '{env}': {total} selected, {to_build} to build",
                     None)])

    def step_started(self, product: str) -> None:
        pass

    def step_finished(self, product: str, status: str, info: dict[str, Any]) -> None:
        if status == "kept" and not self.verbose and not info.get("notes"):
            return
        line: list[Segment] = [(f"{status:>8}", STYLE.get(status) or None), (f" {product}", None)]
        if status == "built":
            line.append((f"  {_fmt_rows(info.get('rows'))} in {info.get('seconds', 0):.2f}s",
                         None))
        if info.get("error"):
            first, *rest = str(info["error"]).splitlines()
            line.append((f"\n           {first}" + "".join(f"\n           {r}"
                                                           for r in rest[:6]), None))
        for note in info.get("notes") or ():
            line += [("\n           ", None), ("note:", "yellow"), (f" {note}", None)]
        with self.lock:
            self._line(line)

    def run_finished(self, result: Any) -> None:
        for name, why in sorted(result.held_back.items()):
            self._line([("held back", "yellow"), (
                f" {name}: its new version is published, but '{result.env}' keeps the "
                f"previous one ({why})", None)])
        for name, behind in sorted(result.stale.items()):
            self._line([("   stale", "yellow"), (
                f" {name} (not selected) was built from an older version of "
                f"{', '.join(behind)}; 'steward run {name}' rebuilds it", None)])
        c = result.summary()["counts"]
        parts = [f"{v} {k}" for k, v in c.items() if v]
        self._line([(str(result.status), "green" if result.ok else "red"), (
            ": " + ", ".join(parts or ["nothing to do"])
            + f" in {result.duration_s:.2f}s (run {result.run_id})", None)])

    def message(self, text: str, level: str = "info") -> None:
        self._line([(text, {"warn": "yellow", "error": "red"}.get(level))], err=True)


class RichConsole(PlainConsole):
    """A live progress bar on a terminal, with the plain lines above it."""

    def __init__(self, verbose: bool = False):
        super().__init__(verbose=verbose)
        from rich.console import Console as RichOut
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self.rich_out = RichOut(file=self.out, highlight=False, soft_wrap=True)
        self.rich_err = RichOut(file=self.err, highlight=False, soft_wrap=True)

        self.progress = Progress(
            SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
            MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("{task.fields[current]}"),
            console=self.rich_out, transient=True,
        )
        self.task: Any = None
        self.active: set[str] = set()

    def _line(self, segments: list[Segment], err: bool = False) -> None:
        from rich.text import Text

        text = Text.assemble(*((t, s or "") for t, s in segments))
        (self.rich_err if err else self.rich_out).print(text)

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
        self.gone = False  # the reader closed stdout: the run goes on, unwritten

    def _emit(self, **obj: Any) -> None:
        with self.lock:
            if self.gone:
                return
            try:  # (json.dumps escapes what is not ASCII: any stream can write it)
                sys.stdout.write(json.dumps(obj, default=str) + "\n")
                sys.stdout.flush()
            except OSError:
                self.gone = True

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
