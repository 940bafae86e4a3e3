"""What a run keeps through its builds, out of the cyclic collector's sight.

A run holds its project, its plan and every imported module until it ends; the
collector's passes over them find nothing to free and cost the builds' threads time (one
pass over a 1,000-model load alone is 120 ms). :func:`kept` freezes what exists (moves it
to the permanent generation) for the length of a block, and a load made inside one
freezes what it made before the collector resumes (``project.loader``). Blocks nest and
may overlap across threads (a server's runs): everything is unfrozen when the last one
ends.

Freezing also keeps garbage that exists at that moment until the next full collection:
in a process that ran before (a server, the tests), the outermost block collects first,
or engines dropped by earlier runs would keep their database connections open.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0  # blocks open now
_before = False  # a block was opened earlier in this process


@contextmanager
def kept() -> Iterator[None]:
    """Freeze what exists now; unfreeze everything when the last open block ends."""
    global _depth, _before
    with _lock:
        if _depth == 0 and _before:
            gc.collect()
        _depth += 1
        _before = True
        gc.freeze()
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                gc.unfreeze()


def keeping() -> bool:
    """Whether a :func:`kept` block is open (what is made now is kept too)."""
    return _depth > 0
