"""The project's files: listing models and sidecars; resolving source paths (globs,
``pkg://``) and hashing them with a stat cache."""

from __future__ import annotations

import glob
import importlib.util
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import xxhash

from steward.core.errors import Problem
from steward.project.paths import STATE_DIR

_CHUNK = 1 << 22
_SIDECARS = (".yml", ".yaml")


class Listing:
    """The files of the folders the project cache key walked: path -> stat key
    (size, mtime_ns, ctime_ns, inode: an edit that keeps the size and restores the
    modification time still changes the ctime).

    ``steward.project.cache.digest`` fills it while it computes the key; the loader then
    finds models and sidecars and keys its memo from it instead of walking and stating
    them again, so what it reads is what the key describes. A question about a folder
    it did not walk (or an empty listing) goes to the disk.
    """

    def __init__(self) -> None:
        self.files: dict[str, tuple[int, int, int, int]] = {}
        self.bases: set[str] = set()

    def files_under(self, base: str, exts: tuple[str, ...]) -> list[str]:
        """The files under ``base`` ending with ``exts``, sorted, skipping folders that
        start with ``.`` or ``_``."""
        if base not in self.bases or os.path.normpath(base) != base:
            return _walk(base, exts)
        prefix = base + os.sep
        return sorted(p for p in self.files
                      if p.endswith(exts) and p.startswith(prefix)
                      and not any(d.startswith((".", "_"))
                                  for d in p[len(prefix):].split(os.sep)[:-1]))

    def sidecar_of(self, path: str) -> str | None:
        """The model's ``.yml`` (or ``.yaml``) beside it, if there is one."""
        stem = os.path.splitext(path)[0]
        if path in self.files:  # its folder was listed whole
            return next((stem + e for e in _SIDECARS if stem + e in self.files), None)
        return next((stem + e for e in _SIDECARS if os.path.exists(stem + e)), None)

    def model_key(self, path: str, sidecar: str | None, domain: str | None,
                  root: str = "") -> tuple[Any, ...] | None:
        """A model's memo key: the stat data of its file and sidecar, and its domain
        (paths relative to ``root``: a cache holds no absolute path)."""
        st = self.files.get(path) or _stat(path)
        side = (self.files.get(sidecar) or _stat(sidecar)) if sidecar else None
        if st is None or (sidecar and side is None):
            return None
        return (_relative(path, root), *st, sidecar and _relative(sidecar, root),
                *(side or ()), domain)


def _relative(path: str, root: str) -> str:
    return path[len(root) + 1:] if root and path.startswith(root + os.sep) else path


def stat_key(st: os.stat_result) -> tuple[int, int, int, int]:
    """What says a file is unchanged: size, mtime, ctime and inode (``touch -r`` after a
    same-size edit restores the mtime, never the ctime)."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino


def read_text(path: str, rel: str) -> tuple[str | None, Problem | None]:
    """A project file's text, or the problem that stops it being read.

    Project files are UTF-8. A byte that is not is reported at its line and byte offset,
    not as a decoding traceback.
    """
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        return None, Problem(rel, None, f"cannot read the file: {e.strerror or e}")
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        return None, utf8_problem(data, e, rel)


def utf8_problem(data: bytes, e: UnicodeDecodeError, rel: str) -> Problem:
    """Where ``data`` stops being UTF-8, as a located problem."""
    line = data.count(b"\n", 0, e.start) + 1
    column = e.start - (data.rfind(b"\n", 0, e.start) + 1) + 1
    return Problem(
        rel, line,
        f"not valid UTF-8: byte 0x{data[e.start]:02x} at byte offset {e.start} "
        f"(column {column})",
        "save the file as UTF-8: Steward reads steward.yaml, YAML, SQL and Python files "
        "as UTF-8",
    )


def _stat(path: str) -> tuple[int, int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return stat_key(st)


def _walk(base: str, exts: tuple[str, ...]) -> list[str]:
    if not os.path.isdir(base):
        return []
    out: list[str] = []
    for d, dirs, files in os.walk(base):
        dirs[:] = sorted(x for x in dirs if not x.startswith((".", "_")))
        out.extend(os.path.join(d, f) for f in files if f.endswith(exts))
    return sorted(out)


def resolve_paths(pattern: str, root: str) -> list[str]:
    """Absolute, sorted paths a source's ``path`` names; empty when nothing matches.

    ``pkg://package/sub/path`` resolves inside an installed Python package without
    importing it.
    """
    if pattern.startswith("pkg://"):
        pkg, _, rel = pattern[len("pkg://"):].partition("/")
        spec = importlib.util.find_spec(pkg)
        if spec is None or not spec.submodule_search_locations:
            return []
        base = list(spec.submodule_search_locations)[0]
        pattern = os.path.join(base, rel)
    elif not os.path.isabs(pattern):
        pattern = os.path.join(root, pattern)
    if any(ch in pattern for ch in "*?["):
        return sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    return [pattern] if os.path.isfile(pattern) else []


class StatCache:
    """Content hashes of files, keyed by their stat key (size, mtime, ctime, inode): an
    unchanged file is never re-read. Paths inside the project are kept relative to it,
    so a moved or copied project never trusts the original's entries. With ``rehash``
    every file is read again (``steward run --rehash``)."""

    FORMAT = 2

    def __init__(self, path: str | None, root: str | None = None, rehash: bool = False):
        self.path = path
        self.root = os.path.abspath(root) if root else (
            os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(path))))
            if path else "")
        self.rehash = rehash
        self.entries: dict[str, list[object]] = {}
        self.dirty = False
        if path and os.path.exists(path):
            try:
                with open(path) as f:
                    data = json.load(f)
                if isinstance(data, dict) and data.get("format") == self.FORMAT:
                    self.entries = data.get("entries") or {}
            except (OSError, ValueError):
                self.entries = {}

    def _key(self, path: str) -> str:
        path = os.path.abspath(path)
        return _relative(path, self.root)

    def hash_file(self, path: str) -> str:
        st = os.stat(path)
        key = self._key(path)
        hit = self.entries.get(key)
        sk = list(stat_key(st))
        if hit and not self.rehash and hit[:4] == sk:
            return str(hit[4])
        h = xxhash.xxh3_128()
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                h.update(chunk)
        digest = h.hexdigest()
        self.entries[key] = [*sk, digest]
        self.dirty = True
        return digest

    def hash_files(self, paths: list[str]) -> str:
        h = xxhash.xxh3_128()
        for p in paths:
            h.update(os.path.basename(p).encode())
            h.update(self.hash_file(p).encode())
        return h.hexdigest()

    def save(self) -> None:
        if not (self.path and self.dirty):
            return
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump({"format": self.FORMAT, "entries": self.entries}, f)
        os.replace(tmp, self.path)
        self.dirty = False


def callable_file(target: str, root: str) -> str | None:
    """The file defining ``module:function`` or ``path.py:function``, without importing it."""
    mod, _, _fn = target.partition(":")
    if mod.endswith(".py"):
        path = mod if os.path.isabs(mod) else os.path.join(root, mod)
        return path if os.path.isfile(path) else None
    try:
        spec = importlib.util.find_spec(mod)
    except (ImportError, ValueError):
        return None
    return spec.origin if spec and spec.origin and os.path.isfile(spec.origin) else None


def rehash_sources(products: Mapping[str, Any], root: str, rehash: bool = False
                   ) -> dict[str, str] | None:
    """The content hash of every source product, through the stat cache.

    None when a source's files can no longer be found: the full load reports it in place.
    """
    stat_cache = StatCache(os.path.join(root, STATE_DIR, "cache", "stat.json"), root, rehash)
    out: dict[str, str] = {}
    for name, p in products.items():
        if p.kind == "file":
            try:
                paths = resolve_paths(p.spec_dump["path"], root)
            except (ImportError, ValueError):
                return None
            if not paths:
                return None
            out[name] = stat_cache.hash_files(paths)
        elif p.kind == "python_source":
            file = callable_file(p.spec_dump["callable"], root)
            if file is None:
                return None
            out[name] = stat_cache.hash_file(file)
    stat_cache.save()
    return out
