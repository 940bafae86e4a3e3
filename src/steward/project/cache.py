"""A cache of the loaded project, keyed by the size and mtime of every file it read.

Loading a 1,000-product project parses 2,000 files and validates 1,000 specs; a no-op
``steward run`` should not pay for that again. The key lists every file under the
folders the loader walks (any file added, removed or touched changes it); source data
files are not in the key: they are re-hashed through the stat cache on every load.
"""

from __future__ import annotations

import functools
import os
import pickle
import sys
from typing import TYPE_CHECKING, Any

from steward.project.files import Listing

if TYPE_CHECKING:
    from steward.core.model import Project

_FORMAT = 5  # 2: the key pickled ahead of the value; 3: specs kept as plain facts; 4: memo
# entries of models name their spec's key; 5: specs validated with their check arguments
# and column types (project/checkargs.py), and the sidecar warnings, so older caches go


# the modules whose classes the caches pickle: an edit to one makes every cache stale
_PICKLED = ("spec.py", "checks.py", "base.py", "model.py", "glossary.py")


@functools.cache
def _version() -> str:
    """Cache format, Steward and Python versions, and the pickled modules' stat data
    (taken once per process)."""
    from steward import __version__

    core = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "core")
    stats = []
    for name in _PICKLED:
        try:
            st = os.stat(os.path.join(core, name))
            stats.append(f"{st.st_size}.{st.st_mtime_ns}")
        except OSError:
            stats.append("-")
    return f"{_FORMAT}:{__version__}:{sys.version_info[:2]}:{','.join(stats)}"


def digest(root: str, folders: list[str], listing: Listing | None = None) -> str:
    """The key: stat data of steward.yaml, glossary.yaml and every file in ``folders``."""
    import xxhash

    h = xxhash.xxh3_128()
    h.update(_version().encode())
    for name in ("steward.yaml", "glossary.yaml"):
        _add(h, os.path.join(root, name), name, listing)
    for folder in folders:
        base = os.path.join(root, folder)
        if listing is not None:
            listing.bases.add(base)
        for d, dirs, files in os.walk(base):
            dirs.sort()
            for f in sorted(files):
                path = os.path.join(d, f)
                _add(h, path, path[len(root) + 1:], listing)  # (os.walk joins onto root)
    return h.hexdigest()


def _add(h: Any, path: str, rel: str, listing: Listing | None) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        h.update(f"{rel}:-\n".encode())
        return
    h.update(f"{rel}:{st.st_size}:{st.st_mtime_ns}\n".encode())
    if listing is not None:
        listing.files[path] = (st.st_size, st.st_mtime_ns)


def _load(path: str, key: str) -> Any:
    """The value pickled at ``path`` under ``key``; None when absent, stale or unreadable.

    The key is its own pickle ahead of the value: a stale file is never unpickled whole.
    """
    try:
        with open(path, "rb") as f:
            if pickle.load(f) != key:
                return None
            return pickle.load(f)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
            TypeError, ValueError):
        return None


def _dump(path: str, key: str, value: Any) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        pickle.dump(key, f, protocol=pickle.HIGHEST_PROTOCOL)
        pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(tmp, path)


def read(path: str, key: str) -> Project | None:
    return _load(path, key)  # type: ignore[no-any-return]


def write(path: str, key: str, project: Project) -> None:
    _dump(path, key, project)


def read_memo(path: str) -> dict[Any, Any] | None:
    """The per-file memo of the last load (see ``steward.project.loader``), if current."""
    memo = _load(path, _version())
    return memo if isinstance(memo, dict) else None


def write_memo(path: str, memo: dict[Any, Any]) -> None:
    _dump(path, _version(), memo)
