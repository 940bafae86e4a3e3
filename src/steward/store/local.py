"""A store on the local filesystem."""

from __future__ import annotations

import glob
import os
import shutil
import uuid

DATA_DIR = "data"


class LocalStore:
    def __init__(self, location: str, project_root: str):
        path = location.removeprefix("file://")
        self.root = path if os.path.isabs(path) else os.path.join(project_root, path)
        self.scratch_root = os.path.join(self.root, ".scratch")
        # A killed process cannot lose written pages (the OS holds them); fsync guards
        # only against power loss and costs milliseconds per file, so it is opt-in.
        self.fsync = os.environ.get("STEWARD_FSYNC", "") not in ("", "0")

    def new_scratch(self) -> str:
        path = os.path.join(self.scratch_root, uuid.uuid4().hex)
        os.makedirs(os.path.join(path, DATA_DIR))
        return path

    def version_path(self, product: str, version_id: str) -> str:
        return os.path.join(self.root, product, version_id)

    def publish(self, scratch: str, product: str, version_id: str) -> str:
        final = self.version_path(product, version_id)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        if self.fsync:
            _fsync_tree(scratch)
        os.rename(scratch, final)  # atomic on one filesystem
        return final

    def data_files(self, path: str) -> list[str]:
        return sorted(glob.glob(os.path.join(path, DATA_DIR, "*.parquet")))

    def size(self, path: str) -> int:
        total = 0
        for d, _, files in os.walk(path):
            for f in files:
                total += os.path.getsize(os.path.join(d, f))
        return total

    def delete(self, path: str) -> None:
        if not os.path.abspath(path).startswith(os.path.abspath(self.root)):
            raise ValueError(f"refusing to delete {path}: outside the store")
        shutil.rmtree(path, ignore_errors=True)

    def clean_scratch(self) -> int:
        if not os.path.isdir(self.scratch_root):
            return 0
        n = 0
        for name in os.listdir(self.scratch_root):
            shutil.rmtree(os.path.join(self.scratch_root, name), ignore_errors=True)
            n += 1
        return n


def _fsync_tree(path: str) -> None:
    for d, _, files in os.walk(path):
        for f in files:
            fd = os.open(os.path.join(d, f), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
