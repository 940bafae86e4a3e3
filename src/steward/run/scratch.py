"""A build's scratch folder, as the executor publishes it: what the build wrote there
and how many bytes it holds, asking the filesystem as little as possible (each call
lets another thread take the interpreter, and getting it back is what costs)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from steward.engine.base import BuildResult
from steward.project.files import stat_key
from steward.store.base import DATA_DIR


def tree_size(folder: str, known: Mapping[str, int] = {}) -> int:  # noqa: B006
    """Bytes of the files under ``folder`` (``known``: sizes already taken, by path)."""
    total = 0
    stack = [folder]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for e in entries:
                if e.is_dir(follow_symlinks=False):
                    stack.append(e.path)
                else:
                    size = known.get(e.path)
                    total += e.stat(follow_symlinks=False).st_size if size is None else size
    return total


def written(result: BuildResult, scratch: str) -> list[str] | None:
    """The data files a build says it wrote, when all are in ``scratch``'s data folder
    (else None: list the folder)."""
    if not result.files or result.new_files:
        return None
    folder = os.path.join(scratch, DATA_DIR)
    files = sorted(result.files)
    if any(os.path.dirname(f) != folder or not f.endswith(".parquet") for f in files):
        return None
    return files


def unchanged_bytes(raw: Any, stats: Mapping[str, os.stat_result]) -> dict[str, bytes] | None:
    """The bytes an engine read back (``arrowread.Raw``) by path, when the file is among
    ``stats`` (by name, taken now) and unchanged since: what a hook that rewrote the data
    (quarantine) did not touch."""
    if raw is None:
        return None
    st = stats.get(os.path.basename(raw.path))
    if st is None or stat_key(st) != raw.key:
        return None
    return {raw.path: raw.data}
