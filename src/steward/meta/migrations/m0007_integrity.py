"""Integrity: store keys instead of local paths, file manifests, check fingerprints.

- ``versions.path`` becomes the version's store key (``<product>/<version id>``), so a
  project folder can be moved or copied; a path that does not end in a product and a
  version id is left as it was (the store still accepts an absolute path).
- ``versions.files_json``: the data files as published, ``[[name, size], ...]``: what
  every command checks cheaply before it uses a version.
- ``versions.check_fp``: what the version's checks were last evaluated with (their
  declaration and the data of the products they read).
- ``environments.audit_seq``: the audit event that last moved the environment's
  pointers; its digest of the pointers is compared with the table before each run.
- ``pointer_moves`` gets a row for each version a past run pointed at: runs now write
  their moves there, so a pointer's history is read from one table.
"""

from __future__ import annotations

import re

import sqlalchemy as sa

_VERSION_ID = re.compile(r"^v\d{8}T\d{6}\.\d{3}-[0-9a-f]+$")


def upgrade(conn: sa.Connection) -> None:
    conn.execute(sa.text("ALTER TABLE versions ADD COLUMN files_json TEXT"))
    conn.execute(sa.text("ALTER TABLE versions ADD COLUMN check_fp VARCHAR(64)"))
    conn.execute(sa.text("ALTER TABLE environments ADD COLUMN audit_seq BIGINT"))
    rows = conn.execute(sa.text("SELECT id, path FROM versions")).all()
    updates = []
    for vid, path in rows:
        key = store_key(path)
        if key is not None and key != path:
            updates.append({"id": vid, "path": key})
    if updates:
        conn.execute(sa.text("UPDATE versions SET path = :path WHERE id = :id"), updates)
    backfill_run_moves(conn)


def store_key(path: str | None) -> str | None:
    """``.../<product>/<version id>`` -> ``<product>/<version id>``; None if not of that form."""
    if not path:
        return None
    parts = [p for p in re.split(r"[\\/]+", path) if p]
    if len(parts) >= 2 and _VERSION_ID.match(parts[-1]):
        return f"{parts[-2]}/{parts[-1]}"
    return None


def backfill_run_moves(conn: sa.Connection) -> None:
    """Earlier runs moved pointers without a ``pointer_moves`` row: add one per step that
    built or reused a version, so a pointer's history is read from one table."""
    conn.execute(sa.text(
        "INSERT INTO pointer_moves (batch, at, env, product, from_version, to_version, "
        "action, source_env, actor, message) "
        "SELECT r.id, s.started_at, r.env, s.product, NULL, s.version_id, 'run', NULL, "
        "r.actor, 'recorded before runs wrote their moves' "
        "FROM run_steps s JOIN runs r ON r.id = s.run_id "
        "WHERE s.status IN ('built', 'reused') AND s.version_id IS NOT NULL "
        "AND s.started_at IS NOT NULL"))
