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

from steward.meta.reads import connect, latest_migration, pointers_digest, sqlite_file

__all__ = ["EnvState", "env_state", "record_run", "sqlite_file"]

@dataclass(frozen=True)
class EnvState:
    """An environment's pointers: product -> (version id, row count)."""

    pointers: dict[str, tuple[str, int | None]]

    def digest(self) -> str:
        return pointers_digest({p: v for p, (v, _) in self.pointers.items()})


def env_state(path: str, env: str) -> EnvState | None:
    """The pointers of ``env``; None when the fast path must not answer.

    It must not when the schema is older or newer than this code, or when a run is
    marked running (a killed run: the full path recovers from it first).
    """
    try:
        con = connect(path)
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
               finished: datetime, steps: Sequence[tuple[str, str, str | None, int | None]],
               summary: dict[str, Any], git: Any = None) -> None:
    """Insert one finished run and its steps (product, status, version, rows) at once;
    ``git``: the project's ``project.git.GitState``."""
    commit, state, at = ((git.commit, git.state, git.committed_at) if git is not None
                         else (None, None, None))
    con = connect(path)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute(
            "INSERT INTO runs (id, env, status, started_at, finished_at, selection, actor, "
            "pid, summary_json, git_commit, git_state, git_committed_at) "
            "VALUES (?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)",
            (run_id, env, summary["status"], _stamp(started), _stamp(finished), actor,
             os.getpid(), json.dumps(summary), commit, state,
             _stamp(at) if at is not None else None))
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


def files_intact(path: str, store_root: str, env: str) -> bool:
    """Every data file of every version ``env`` points at is there with its recorded size.

    (What the full path checks before it keeps a version; a version recorded without a
    manifest needs its folder and at least one data file.)
    """
    try:
        con = connect(path)
    except sqlite3.Error:
        return False
    try:
        rows = con.execute(
            "SELECT v.path, v.files_json, v.status FROM env_pointers p "
            "JOIN versions v ON v.id = p.version_id WHERE p.env = ?", (env,)).fetchall()
    except sqlite3.Error:
        return False
    finally:
        con.close()
    for key, files_json, status in rows:
        if status != "published":
            return False
        folder = key if os.path.isabs(key) else os.path.join(store_root, *key.split("/"))
        data = os.path.join(folder, "data")
        if not files_json:
            try:
                if not any(f.endswith(".parquet") for f in os.listdir(data)):
                    return False
            except OSError:
                return False
            continue
        try:
            want = json.loads(files_json)
            have = {e.name: e.stat().st_size for e in os.scandir(data) if e.is_file()
                    and e.name.endswith(".parquet")}
        except (OSError, ValueError):
            return False
        if have != {str(n): int(s) for n, s in want}:
            return False
    return True
