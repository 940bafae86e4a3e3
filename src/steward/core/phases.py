"""Where a command's time goes: seconds per phase, summed over threads.

``with timed("build"): ...`` adds the block's wall time to the phase ``build``. Phases
nest on a thread: an inner phase's time is taken out of the outer one (lineage computed
while emitting OpenLineage counts as ``lineage``, not twice), so the phases of one thread
add up to the time spent inside any of them. Work done on several threads at once (the
builds of one wave) adds up across threads: a phase's total is busy time, which can
exceed the run's wall time. The cost is about a microsecond per block.

``steward run --json`` ends with a ``phases`` event of :func:`totals`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_totals: dict[str, float] = {}
_counts: dict[str, int] = {}
_local = threading.local()

# the phase of a run's hooks, by class name (anything else is reported under its name)
HOOK_PHASES = {"QualityGate": "checks", "ProfileGate": "profile", "ProfileOnPublish": "profile",
               "PiiGate": "pii", "ModelGate": "model_gate", "SkewCheck": "profile"}


def _add(phase: str, seconds: float, calls: int = 0) -> None:
    with _lock:
        _totals[phase] = _totals.get(phase, 0.0) + seconds
        if calls:
            _counts[phase] = _counts.get(phase, 0) + calls


@contextmanager
def timed(phase: str) -> Iterator[None]:
    """Count the block's time under ``phase`` (exclusive of phases nested in it)."""
    stack: list[list[object]] | None = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    now = time.perf_counter()
    if stack:
        outer = stack[-1]
        _add(str(outer[0]), now - float(outer[1]))  # type: ignore[arg-type]
    stack.append([phase, now])
    try:
        yield
    finally:
        end = time.perf_counter()
        _, start = stack.pop()
        _add(phase, end - float(start), 1)  # type: ignore[arg-type]
        if stack:
            stack[-1][1] = end


def hook_phase(hook: object) -> str:
    return HOOK_PHASES.get(type(hook).__name__, type(hook).__name__)


def totals() -> dict[str, dict[str, float | int]]:
    """Phase -> ``{"seconds", "calls"}``, largest first."""
    with _lock:
        items = sorted(_totals.items(), key=lambda kv: -kv[1])
        return {k: {"seconds": round(v, 4), "calls": _counts.get(k, 0)} for k, v in items}


def reset() -> None:
    with _lock:
        _totals.clear()
        _counts.clear()
