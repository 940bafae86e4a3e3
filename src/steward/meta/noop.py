"""The metastore side of the no-op fast path, on the standard library's ``sqlite3``.

Importing SQLAlchemy alone takes longer than a no-op ``steward run`` may. These few
statements read and write the same tables as :class:`steward.meta.store.Metastore`
(``steward_schema``, ``runs``, ``run_steps``, ``env_pointers``, ``versions``), in the
formats SQLAlchemy uses on SQLite; a test compares what both write for the same run.
Only SQLite metastores take this path.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

_MIGRATIONS = os.path.join(os.path.dirname(__file__), "migrations")


def sqlite_file(url: str) -> str | None:
    """The database file of a ``sqlite:///`` URL, or None for anything else."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///"):].split("?", 1)[0]
    return path if path and path != ":memory:" else None


def latest_migration() -> int:
    """The number of the newest migration this code knows (``mNNNN_*.py``)."""
    numbers = [int(f[1:5]) for f in os.listdir(_MIGRATIONS)
               if f.startswith("m") and f.endswith(".py") and f[1:5].isdigit()]
    return max(numbers, default=0)


@dataclass(frozen=True)
class EnvState:
    """An environment's pointers: product -> (version id, row count)."""

    pointers: dict[str, tuple[str, int | None]]

    def digest(self) -> str:
        import xxhash

        h = xxhash.xxh3_128()
        for product in sorted(self.pointers):
            h.update(f"{product}\t{self.pointers[product][0]}\n".encode())
        return h.hexdigest()


def _connect(path: str) -> sqlite3.Connection:
    con = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=30,
                          isolation_level=None)
    con.execute("PRAGMA busy_timeout=30000")
    return con


def env_state(path: str, env: str) -> EnvState | None:
    """The pointers of ``env``; None when the fast path must not answer.

    It must not when the schema is older or newer than this code, or when a run is
    marked running (a killed run: the full path recovers from it first).
    """
    try:
        con = _connect(path)
    except sqlite3.Error:
        return None
    try:
        (schema,) = con.execute("SELECT max(version) FROM steward_schema").fetchone()
        if schema != latest_migration():
            return None
        if con.execute("SELECT 1 FROM runs WHERE status = 'running' LIMIT 1").fetchone():
            return None
        rows = con.execute(
            "SELECT p.product, p.version_id, v.row_count FROM env_pointers p "
            "LEFT JOIN versions v ON v.id = p.version_id WHERE p.env = ?", (env,)).fetchall()
    except sqlite3.Error:
        return None
    finally:
        con.close()
    return EnvState({p: (v, n) for p, v, n in rows})


def _stamp(d: datetime) -> str:
    # SQLAlchemy's DateTime on SQLite: naive ISO text with microseconds
    return d.strftime("%Y-%m-%d %H:%M:%S.%f")


def record_run(path: str, run_id: str, env: str, actor: str | None, started: datetime,
               finished: datetime, steps: Sequence[tuple[str, str, str, int | None]],
               summary: dict[str, Any]) -> None:
    """Insert one finished run and its steps (product, status, version, rows) at once."""
    con = _connect(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO runs (id, env, status, started_at, finished_at, selection, actor, "
            "pid, summary_json) VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?)",
            (run_id, env, summary["status"], _stamp(started), _stamp(finished), actor,
             os.getpid(), json.dumps(summary)))
        at = _stamp(started)
        con.executemany(
            "INSERT INTO run_steps (run_id, product, status, version_id, started_at, "
            "duration_s, rows, error) VALUES (?, ?, ?, ?, ?, 0.0, ?, NULL)",
            [(run_id, product, status, version, at, rows)
             for product, status, version, rows in steps])
        con.execute("COMMIT")
    except BaseException:
        if con.in_transaction:
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
