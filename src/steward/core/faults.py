"""Named points where a test can kill the process, to prove what a crash there leaves.

``STEWARD_FAULT=<point>`` (optionally ``<point>:<n>``, the n-th time it is reached) makes
the process kill itself with SIGKILL at that point: no cleanup, no ``finally``, exactly
what a power cut or ``kill -9`` does. Unset, a point costs one dictionary lookup.
"""

from __future__ import annotations

import os

_hits: dict[str, int] = {}


def point(name: str) -> None:
    want = os.environ.get("STEWARD_FAULT")
    if not want:
        return
    target, _, nth = want.partition(":")
    if target != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] >= int(nth or 1):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
