"""What the server keeps between requests: the Context, its derived caches, the jobs.

The project is loaded once; a watcher thread loads it again every few seconds (from the
load cache, so cheaply when nothing changed) and swaps in a new Context when the
declarations changed. Everything in the metastore (runs, versions, pointers, audit) is
read live on each request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from steward.server.auth import TokenCache
from steward.server.jobs import Jobs

WATCH_SECONDS = 2.0


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8400
    watch: bool = True
    secure_cookies: bool = False  # set behind HTTPS


@dataclass
class Derived:
    """Values computed from one loaded project and reused until it changes."""

    key: str
    classes: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)


class ServerState:
    def __init__(self, root: str, settings: Settings | None = None):
        from steward.context import Context

        self.settings = settings or Settings()
        self.ctx = Context(root)
        self.ctx.project  # noqa: B018  (load now: a broken project fails at start)
        self.ctx.metastore  # noqa: B018  (and migrate it before the first request)
        self.root = self.ctx.root
        self.jobs = Jobs()
        self.tokens = TokenCache()
        self.derived = Derived(self.ctx.project.load_key)
        self._stop = threading.Event()
        self._users: tuple[float, int] | None = None
        if self.settings.watch:
            threading.Thread(target=self._watch, name="steward-watch", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def _watch(self) -> None:
        while not self._stop.wait(WATCH_SECONDS):
            try:
                self.reload()
            except Exception:  # a project mid-edit: keep serving the last good one
                continue

    def reload(self) -> bool:
        """Load the project again; True when its declarations changed."""
        from steward.context import Context
        from steward.project.loader import load_project

        project = load_project(self.root)
        if project.load_key == self.ctx.project.load_key:
            return False
        ctx = Context(self.root)
        ctx.__dict__["project"] = project
        ctx.__dict__["metastore"] = self.ctx.metastore
        self.ctx = ctx
        self.derived = Derived(project.load_key)
        return True

    def classes(self) -> dict[Any, Any]:
        """(product, column) -> (classifications, via): declared and propagated."""
        d = self.derived
        with d.lock:
            if d.classes is None:
                from steward.catalog.service import lineage

                _, d.classes = lineage(self.ctx.project, self.ctx.metastore,
                                       self.ctx.default_env)
            return d.classes

    def open_mode(self) -> bool:
        """True while no user exists: the server acts as the local user (loopback only;
        a server bound to another address never opens, even if every user is removed)."""
        import time

        if not is_loopback(self.settings.host):
            return False
        now = time.monotonic()
        if self._users is None or now - self._users[0] > 2.0:
            self._users = (now, self.ctx.accounts().count())
        return self._users[1] == 0

    def users_changed(self) -> None:
        self._users = None
        self.tokens.clear()


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    import ipaddress

    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
