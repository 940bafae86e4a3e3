"""A store on the local filesystem."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterable

from steward.core.ids import random_hex
from steward.store.base import DATA_DIR, FileEntry

SCRATCH = ".scratch"
META = ".steward-store"  # small files Steward keeps at the store's root


class LocalStore:
    kind = "local"
    # the files data_files lists are the published ones (a rename moves a build's own
    # files into place), not copies: see Verifier.vouch
    local_files = True

    def __init__(self, location: str, project_root: str):
        path = location.removeprefix("file://")
        self.root = os.path.normpath(path if os.path.isabs(path)
                                     else os.path.join(project_root, path))
        self.scratch_root = os.path.join(self.root, SCRATCH)
        # A killed process cannot lose written pages (the OS holds them); fsync guards
        # only against power loss and costs milliseconds per file, so it is opt-in.
        self.fsync = os.environ.get("STEWARD_FSYNC", "") not in ("", "0")

    # -- keys ---------------------------------------------------------------------
    def version_key(self, product: str, version_id: str) -> str:
        return f"{product}/{version_id}"

    def path(self, key: str) -> str:
        if os.path.isabs(key):  # a key written before keys were relative
            return key
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"invalid store key {key!r}")
        return os.path.join(self.root, *key.split("/"))

    def local(self, key: str, fresh: bool = False) -> str:
        """A local path of ``key``: the store's own folder."""
        return self.path(key)

    def local_root(self) -> str:
        return self.root

    def side(self, key: str, run: str) -> tuple[str, str]:
        """(the folder to write into, its key) for what a later check run keeps beside
        version ``key``; nothing to upload (:meth:`commit_side` is a no-op here)."""
        side_key = f".checks/{key}/{run}"
        return self.path(side_key), side_key

    def commit_side(self, local: str, side_key: str) -> None:
        return None

    def writable(self) -> bool:
        return not os.path.isdir(self.root) or os.access(self.root, os.W_OK | os.X_OK)

    def refresh(self) -> None:
        return None

    # -- writing ------------------------------------------------------------------
    def new_scratch(self) -> str:
        path = os.path.join(self.scratch_root, random_hex(32))
        try:  # (two mkdirs: makedirs would first look at every parent)
            os.mkdir(path)
        except FileNotFoundError:
            os.makedirs(path)
        os.mkdir(os.path.join(path, DATA_DIR))
        return path

    def publish(self, scratch: str, product: str, version_id: str) -> str:
        key = self.version_key(product, version_id)
        final = self.path(key)
        try:
            os.mkdir(os.path.dirname(final))
        except FileExistsError:
            pass
        except FileNotFoundError:
            os.makedirs(os.path.dirname(final), exist_ok=True)
        if self.fsync:
            _fsync_tree(scratch)
        os.rename(scratch, final)  # atomic on one filesystem
        return key

    # -- reading ------------------------------------------------------------------
    def manifests(self, keys: Iterable[str]) -> dict[str, list[FileEntry] | None]:
        """Each version's data files, or None when its folder is missing."""
        return {k: (self.manifest(k) if self.exists(k) else None) for k in keys}

    def data_files(self, key: str, fresh: bool = False) -> list[str]:
        """The version's ``data/*.parquet`` files, sorted (what ``glob`` would list,
        without its pattern machinery: this is asked several times per build)."""
        folder = os.path.join(self.path(key), DATA_DIR)
        try:
            names = os.listdir(folder)
        except OSError:  # no folder (or an unreadable one): no files, as glob says
            return []
        return sorted(os.path.join(folder, n) for n in names
                      if n.endswith(".parquet") and not n.startswith("."))

    def manifest(self, key: str) -> list[FileEntry]:
        return [FileEntry(os.path.basename(f), os.path.getsize(f)) for f in self.data_files(key)]

    def exists(self, key: str) -> bool:
        return os.path.isdir(self.path(key))

    def size(self, key: str) -> int:
        total = 0
        for d, _, files in os.walk(self.path(key)):
            for f in files:
                with contextlib.suppress(OSError):
                    total += os.path.getsize(os.path.join(d, f))
        return total

    def version_folders(self) -> list[str]:
        out: list[str] = []
        if not os.path.isdir(self.root):
            return out
        for product in sorted(os.listdir(self.root)):
            pdir = os.path.join(self.root, product)
            if product.startswith(".") or not os.path.isdir(pdir):
                continue
            for vid in sorted(os.listdir(pdir)):
                if os.path.isdir(os.path.join(pdir, vid)):
                    out.append(f"{product}/{vid}")
        return out

    def side_runs(self, key: str) -> list[str]:
        path = os.path.join(self.root, ".checks", *key.split("/"))
        return sorted(os.listdir(path)) if os.path.isdir(path) else []

    # -- deleting -----------------------------------------------------------------
    def delete(self, key: str) -> None:
        path = os.path.realpath(self.path(key))
        root = os.path.realpath(self.root)
        if not path.startswith(root + os.sep):
            raise ValueError(f"refusing to delete {path}: outside the store {root}")
        if not os.path.exists(path):
            return
        shutil.rmtree(path)  # raises on a read-only store: the caller counts what went
        parent = os.path.dirname(path)
        with contextlib.suppress(OSError):
            os.rmdir(parent)  # the product's folder, once empty

    def delete_side(self, key: str) -> None:
        """Delete what later check runs kept beside a version (``.checks/<key>``)."""
        path = os.path.join(self.root, ".checks", *key.split("/"))
        if os.path.isdir(path):
            shutil.rmtree(path)

    def clean_scratch(self) -> int:
        if not os.path.isdir(self.scratch_root):
            return 0
        n = 0
        for name in os.listdir(self.scratch_root):
            shutil.rmtree(os.path.join(self.scratch_root, name), ignore_errors=True)
            n += 1
        return n

    # -- small files at the root ----------------------------------------------------
    def read_meta(self, name: str) -> bytes | None:
        try:
            with open(os.path.join(self.root, META, name), "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def write_meta(self, name: str, data: bytes) -> None:
        folder = os.path.join(self.root, META)
        os.makedirs(folder, exist_ok=True)
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
        with open(tmp, "wb") as f:
            f.write(data)
            if self.fsync:
                f.flush()
                os.fsync(f.fileno())
        os.replace(tmp, os.path.join(folder, name))


def _fsync_tree(path: str) -> None:
    for d, _, files in os.walk(path):
        for f in files:
            fd = os.open(os.path.join(d, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
