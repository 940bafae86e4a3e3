"""One writer per project: a file lock, with a message that says who holds it."""

from __future__ import annotations

import json
import os
import time
from types import TracebackType

from filelock import FileLock, Timeout

from steward.core.errors import LockError


class ProjectLock:
    def __init__(self, state_dir: str, purpose: str, wait: float = 0.0):
        os.makedirs(state_dir, exist_ok=True)
        self.path = os.path.join(state_dir, "run.lock")
        self.info_path = os.path.join(state_dir, "run.lock.json")
        self.lock = FileLock(self.path)
        self.purpose = purpose
        self.wait = wait

    def __enter__(self) -> ProjectLock:
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
        self.lock.release()
