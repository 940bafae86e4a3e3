"""Is a published version still what was recorded? Presence and size, and content hash.

Every command that uses a version checks its files against the manifest recorded at
publication (names and sizes: one ``stat`` per file). A version about to be read as an
input of a build, and every version ``steward verify`` looks at, is also hashed again
and compared with its recorded data hash. A version that fails is *damaged*: it is never
kept, reused or read again, and the product is rebuilt.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from steward.core.records import Version


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
        problem = self.shallow(v)
        if problem is None and v.data_hash:
            files = self.store.data_files(v.path, fresh=self.fresh)
            got = self.content_hash(files)
            if got != v.data_hash:
                problem = ("its data files no longer match their recorded hash "
                           f"({v.data_hash[:12]}…, now {got[:12]}…)")
        with self._lock:
            self._deep[v.id] = problem
        return problem


def store_hash(store: Any) -> Any:
    """The content hash the executor records (the engine's ``data_hash``)."""
    def content(files: list[str]) -> str:
        import xxhash

        h = xxhash.xxh3_128()
        for f in files:
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
        return h.hexdigest()

    return content
