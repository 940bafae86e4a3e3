"""The project lock held in a PostgreSQL metastore: a session advisory lock.

Runners on several machines share one metastore and one store; a file lock on one
machine cannot keep them apart. The lock is taken on a connection of its own, held
until it is released or the process ends (PostgreSQL frees a session's advisory locks
when its connection closes, so a killed runner never leaves it held), and its holder
names itself in ``application_name`` so a refused process can say who holds it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from typing import Any

import sqlalchemy as sa

# pg_advisory_lock(key1, key2): key1 marks Steward's locks, key2 says which one
STEWARD_KEY = 0x53544557  # "STEW"
PROJECT_LOCK = 1
MIGRATIONS_LOCK = 2
POLL_S = 0.1


class AdvisoryLock:
    """``pg_try_advisory_lock`` on a dedicated connection, polled until ``wait`` passes."""

    def __init__(self, url: str, purpose: str, key: int = PROJECT_LOCK):
        self.url = url
        self.key = key
        name = f"steward: {purpose} (pid {os.getpid()} on {socket.gethostname()})"
        self._name = name[:63]  # PostgreSQL keeps at most 63 bytes of it
        self._engine: sa.Engine | None = None
        self._conn: sa.Connection | None = None

    def acquire(self, wait: float) -> bool:
        """True once held; False if another session still holds it after ``wait`` s.

        A failure to connect raises :class:`steward.core.errors.MetastoreUnavailable`.
        """
        from steward.meta.store import _unavailable

        try:
            self._engine = sa.create_engine(
                self.url, poolclass=sa.pool.NullPool,
                connect_args={"application_name": self._name, "connect_timeout": 10})
            self._conn = self._engine.connect().execution_options(
                isolation_level="AUTOCOMMIT")
        except Exception as e:
            self._dispose()
            raise _unavailable(self.url, e) from None
        deadline = time.monotonic() + max(wait, 0.0)
        while True:
            got = self._conn.execute(sa.text("SELECT pg_try_advisory_lock(:a, :b)"),
                                     {"a": STEWARD_KEY, "b": self.key}).scalar()
            if got:
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(POLL_S)

    def holder(self) -> str:
        """Who holds the lock, as its session named itself ('' if unknown)."""
        if self._conn is None:
            return ""
        row: Any = self._conn.execute(sa.text(
            "SELECT a.application_name, a.client_addr, "
            "extract(epoch FROM now() - a.backend_start) "
            "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.classid = :a AND l.objid = :b "
            "AND l.objsubid = 2 AND l.granted"), {"a": STEWARD_KEY, "b": self.key}).first()
        if row is None:
            return ""
        name, addr, age = row
        where = f" from {addr}" if addr else ""
        return f"{(name or 'a session').removeprefix('steward: ')}{where}, " \
               f"for {float(age or 0):.0f}s"

    def release(self) -> None:
        if self._conn is not None:
            # (a lost connection released it already)
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self._conn.execute(sa.text("SELECT pg_advisory_unlock(:a, :b)"),
                                   {"a": STEWARD_KEY, "b": self.key})
        self._dispose()

    def _dispose(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
