"""Steward's own code as one key: what every cache of derived state is keyed on.

A cache written by one version of Steward's code is never read by another: the project
cache and the load memo (``steward.project.cache``) and the no-op record
(``steward.run.noop``) all include :func:`code_digest`. It hashes Steward's version and
the stat data (size, mtime) of every module of the package — an edit anywhere (a check
kind's module, say, from which the cached specs' models are built) makes each cache
stale. Taken once per process.
"""

from __future__ import annotations

import functools
import os


@functools.cache
def code_digest() -> str:
    """Steward's version and the stat data of its modules, hashed (xxh3-128)."""
    import xxhash

    from steward import __version__

    h = xxhash.xxh3_128(__version__.encode())
    base = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for d, dirs, files in os.walk(base):
        dirs[:] = sorted(x for x in dirs if x != "__pycache__")
        for f in sorted(files):
            if f.endswith(".py"):
                st = os.stat(os.path.join(d, f))
                h.update(f"{d}/{f}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    return h.hexdigest()
