"""A cache of the loaded project, keyed by the size and mtime of every file it read.

Loading a 1,000-product project parses 2,000 files and validates 1,000 specs; a no-op
``steward run`` should not pay for that again. The key lists every file under the
folders the loader walks (any file added, removed or touched changes it); source data
files are not in the key: they are re-hashed through the stat cache on every load.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import sys
from typing import TYPE_CHECKING, Any

from steward.project.files import Listing, stat_key

if TYPE_CHECKING:
    from steward.core.model import Project

_FORMAT = 8  # 2: the key pickled ahead of the value; 3: specs kept as plain facts; 4: memo
# entries of models name their spec's key; 5: specs validated with their check arguments
# and column types (project/checkargs.py), and the sidecar warnings; 6: signed, stat keys
# with ctime and inode; 7: typed Project.warnings and glossary_ref instead of extra;
# 8: keyed on all of Steward's code (steward.core.codekey)


@functools.cache
def _version() -> str:
    """Cache format, Python version and Steward's own code (``steward.core.codekey``):
    an edit to any module, not only those whose classes are pickled, makes every cache
    stale."""
    from steward.core.codekey import code_digest

    return f"{_FORMAT}:{sys.version_info[:2]}:{code_digest()}"


def digest(root: str, folders: list[str], listing: Listing | None = None) -> str:
    """The key: stat data of steward.yaml, glossary.yaml and every file in ``folders``."""
    import xxhash

    h = xxhash.xxh3_128()
    h.update(_version().encode())
    for name in ("steward.yaml", "glossary.yaml"):
        _add(h, os.path.join(root, name), name, listing)
    names = env_names(root)
    if names:  # ${VAR} in steward.yaml or sources: the values are part of the project
        h.update(json.dumps([os.environ.get(n) for n in names]).encode())
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


def _env_path(root: str) -> str:
    return os.path.join(root, ".steward", "cache", "env.json")


def env_names(root: str) -> list[str]:
    """The environment variables the last load of the project read (``${VAR}``)."""
    try:
        with open(_env_path(root)) as f:
            names = json.load(f)
    except (OSError, ValueError):
        return []
    return [str(n) for n in names] if isinstance(names, list) else []


def write_env_names(root: str, names: list[str]) -> None:
    path = _env_path(root)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(names, f)
    os.replace(tmp, path)


def _add(h: Any, path: str, rel: str, listing: Listing | None) -> None:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        h.update(f"{rel}:-\n".encode())
        return
    key = stat_key(st)
    h.update(f"{rel}:{key[0]}:{key[1]}:{key[2]}:{key[3]}\n".encode())
    if listing is not None:
        listing.files[path] = key


# Unpickling runs code, so a cache file is signed with a key kept outside the project
# (a cache restored from an untrusted CI cache, or copied from another machine, is
# ignored, never unpickled): blake2b keyed with $STEWARD_CACHE_KEY, or with a random key
# created once in the user's config folder (mode 0600).
_MAGIC = b"STWDC1"
_MAC = 32


@functools.cache
def _secret() -> bytes | None:
    env = os.environ.get("STEWARD_CACHE_KEY")
    if env:
        return env.encode()
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"),
                                                               ".config")
    path = os.path.join(base, "steward", "cache.key")
    try:
        with open(path, "rb") as f:
            key = f.read()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(path + f".{os.getpid()}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
        os.replace(path + f".{os.getpid()}", path)
        with open(path, "rb") as f:
            return f.read()
    except OSError:
        return None  # nowhere to keep a key: no cache, only slower loads


def _mac(data: bytes) -> bytes | None:
    import hashlib

    secret = _secret()
    if secret is None:
        return None
    return hashlib.blake2b(data, key=secret[:64], digest_size=_MAC).digest()


def _load(path: str, key: str) -> Any:
    """The value pickled at ``path`` under ``key``; None when absent, stale, unsigned or
    signed with another key.

    Layout: magic, the key's MAC, its length and pickle, then the value's MAC and
    pickle. A stale file is never unpickled whole; nothing is unpickled unsigned.
    """
    import hmac

    try:
        with open(path, "rb") as f:
            if f.read(len(_MAGIC)) != _MAGIC:
                return None
            kmac = f.read(_MAC)
            klen = int.from_bytes(f.read(4), "big")
            kraw = f.read(klen)
            want = _mac(kraw)
            if want is None or not hmac.compare_digest(kmac, want):
                return None
            if pickle.loads(kraw) != key:
                return None
            vmac = f.read(_MAC)
            vraw = f.read()
        want = _mac(vraw)
        if want is None or not hmac.compare_digest(vmac, want):
            return None
        return pickle.loads(vraw)
    except (OSError, EOFError, pickle.UnpicklingError, AttributeError, ImportError,
            TypeError, ValueError):
        return None


def _dump(path: str, key: str, value: Any) -> None:
    kraw = pickle.dumps(key, protocol=pickle.HIGHEST_PROTOCOL)
    vraw = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    kmac, vmac = _mac(kraw), _mac(vraw)
    if kmac is None or vmac is None:
        return
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "wb") as f:
        f.write(_MAGIC + kmac + len(kraw).to_bytes(4, "big") + kraw + vmac)
        f.write(vraw)
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
