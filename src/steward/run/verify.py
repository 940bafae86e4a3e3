"""Is a published version still what was recorded? Presence and size, and content hash.

Every command that uses a version checks its files against the manifest recorded at
publication (names and sizes: one ``stat`` per file). A version about to be read as an
input of a build, and every version ``steward verify`` looks at, is also hashed again
and compared with its recorded data hash. A version that fails is *damaged*: it is never
kept, reused or read again, and the product is rebuilt.

A version this process published moments ago (:meth:`Verifier.vouch`) is checked by
``stat`` instead: its files' size, modification and change times and inode
(``project.files.stat_key``) were taken before its content was hashed, and a file
unchanged in all four still holds the bytes that were hashed (the change time cannot be
set back). Any difference, or any file added or removed, falls back to the full check.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from steward.core.records import Version
from steward.project.files import stat_key


@dataclass(frozen=True)
class Damage:
    version: Version
    problem: str

    def message(self) -> str:
        return f"{self.version.product} version {self.version.id}: {self.problem}"


class Verifier:
    """Checks versions against what was recorded; each version is hashed once per run."""

    def __init__(self, store: Any, content_hash: Any = None, fresh: bool = False):
        self.store = store
        self.content_hash = content_hash or store_hash(store)
        self.fresh = fresh  # hash what the store holds now, not a local cached copy
        self._deep: dict[str, str | None] = {}
        self._manifests: dict[str, Any] = {}
        self._files: dict[str, list[str]] = {}  # version id -> its files, once checked
        self._vouched: dict[str, dict[str, tuple[int, int, int, int]]] = {}
        self._lock = threading.Lock()

    def prefetch(self, versions: Any) -> None:
        """List the files of many versions at once (one listing on an object store)."""
        keys = [v.path for v in versions if v.path not in self._manifests]
        if keys:
            self._manifests.update(self.store.manifests(keys))

    def shallow(self, v: Version) -> str | None:
        """What is wrong with ``v``'s files by presence and size, or None."""
        if v.status == "damaged":
            return f"it was found damaged earlier ({(v.error or '').splitlines()[0]})" \
                if v.error else "it was found damaged earlier"
        try:
            listed = self._manifests[v.path] if v.path in self._manifests else \
                self.store.manifests([v.path])[v.path]
        except (OSError, ValueError) as e:
            return f"its files cannot be read ({e})"
        if listed is None:
            return f"its folder is missing from the store ({v.path})"
        found = {e.name: e.size for e in listed}
        if not v.files:
            return None if found else "it has no data files"
        want = dict(v.files)
        missing = sorted(set(want) - set(found))
        if missing:
            return f"data file {missing[0]} is missing" + (
                f" (and {len(missing) - 1} more)" if len(missing) > 1 else "")
        extra = sorted(set(found) - set(want))
        if extra:
            return f"an unexpected data file {extra[0]} was added"
        resized = [n for n in sorted(want) if found[n] != want[n]]
        if resized:
            n = resized[0]
            return f"data file {n} has {found[n]:,} bytes, {want[n]:,} were published"
        return None

    def deep(self, v: Version) -> str | None:
        """:meth:`shallow`, then the content hash against the recorded data hash."""
        with self._lock:
            if v.id in self._deep:
                return self._deep[v.id]
            vouched = self._vouched.pop(v.id, None)
        files = self._unchanged(v, vouched) if vouched is not None else None
        problem = None
        if files is None:
            problem = self.shallow(v)
            if problem is None:
                files = self.store.data_files(v.path, fresh=self.fresh)
                if v.data_hash:
                    got = self.content_hash(files)
                    if got != v.data_hash:
                        problem = ("its data files no longer match their recorded hash "
                                   f"({v.data_hash[:12]}…, now {got[:12]}…)")
        with self._lock:
            self._deep[v.id] = problem
            if problem is None and files is not None:
                self._files[v.id] = files
        return problem

    def files(self, v: Version) -> list[str]:
        """The data files of ``v``: as :meth:`deep` found them, else listed now."""
        with self._lock:
            found = self._files.get(v.id)
        return list(found) if found is not None else self.store.data_files(v.path)

    def vouch(self, version_id: str, stats: dict[str, os.stat_result]) -> None:
        """``version_id`` was just published from files whose ``stat`` (by file name)
        was taken before their content was hashed: :meth:`deep` may check it by
        ``stat`` (a store whose version files are the published ones, not copies)."""
        if not getattr(self.store, "local_files", False) or self.fresh:
            return
        with self._lock:
            self._vouched[version_id] = {n: stat_key(st) for n, st in stats.items()}

    def _unchanged(self, v: Version, vouched: dict[str, tuple[int, int, int, int]]
                   ) -> list[str] | None:
        """``v``'s files when they are the vouched ones, unchanged; else None (check
        it in full)."""
        if v.status == "damaged" or not v.files:
            return None
        try:
            files = self.store.data_files(v.path)
            names = [os.path.basename(f) for f in files]
            if sorted(names) != sorted(vouched):
                return None
            if dict(v.files) != {n: vouched[n][0] for n in names}:  # (stat_key: size first)
                return None
            for f, n in zip(files, names, strict=True):
                if stat_key(os.stat(f)) != vouched[n]:
                    return None
        except OSError:
            return None
        return files


def store_hash(store: Any) -> Any:
    """The content hash the executor records (the engine's ``data_hash``)."""
    def content(files: list[str], known: Mapping[str, bytes] | None = None) -> str:
        """``known``: files' bytes already in memory (and checked unchanged), by path."""
        import xxhash

        h = xxhash.xxh3_128()
        for f in files:
            data = known.get(f) if known else None
            if data is not None:
                h.update(data)
                continue
            # (os.read: no buffered reader around it, whose set-up asks the OS more)
            fd = os.open(f, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            try:
                while chunk := os.read(fd, 1 << 22):
                    h.update(chunk)
            finally:
                os.close(fd)
        return h.hexdigest()

    return content
