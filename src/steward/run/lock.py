"""One writer per project: a file lock, with a message that says who holds it.

With a PostgreSQL metastore, runners on several machines share the project's state, so
the lock is a PostgreSQL advisory lock instead (:mod:`steward.meta.pglock`).
"""

from __future__ import annotations

import json
import os
import time
from types import TracebackType
from typing import Any

from filelock import FileLock, Timeout

from steward.core.errors import LockError


class ProjectLock:
    """``metastore_url``: the project's metastore; a PostgreSQL one holds the lock."""

    def __init__(self, state_dir: str, purpose: str, wait: float = 0.0,
                 metastore_url: str | None = None):
        self.shared: Any = None
        if metastore_url and metastore_url.startswith(("postgresql", "postgres:")):
            from steward.meta.pglock import AdvisoryLock

            self.shared = AdvisoryLock(metastore_url, purpose)
        os.makedirs(state_dir, exist_ok=True)
        self.path = os.path.join(state_dir, "run.lock")
        self.info_path = os.path.join(state_dir, "run.lock.json")
        self.lock = FileLock(self.path)
        self.purpose = purpose
        self.wait = wait

    def __enter__(self) -> ProjectLock:
        if self.shared is not None:
            if not self.shared.acquire(self.wait):
                holder = self.shared.holder()
                self.shared.release()
                raise LockError(
                    "another Steward process is working on this project (the lock is held "
                    "in the metastore" + (f": {holder}" if holder else "") + "); nothing was "
                    "changed. Wait for it to finish, or pass --wait SECONDS")
            return self
        try:
            self.lock.acquire(timeout=self.wait if self.wait > 0 else 0.05)
        except Timeout:
            holder = self._holder()
            raise LockError(
                "another Steward process is working on this project"
                + (f" ({holder})" if holder else "")
                + "; nothing was changed. Wait for it to finish, or pass --wait SECONDS"
            ) from None
        with open(self.info_path, "w") as f:
            json.dump({"pid": os.getpid(), "purpose": self.purpose, "since": time.time()}, f)
        return self

    def _holder(self) -> str:
        try:
            with open(self.info_path) as f:
                info = json.load(f)
        except (OSError, ValueError):
            return ""
        age = time.time() - float(info.get("since", time.time()))
        return f"pid {info.get('pid')}, '{info.get('purpose')}', for {age:.0f}s"

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.shared is not None:
            self.shared.release()
            return
        self.lock.release()
