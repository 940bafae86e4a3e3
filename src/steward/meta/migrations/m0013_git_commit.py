"""The git commit of the project with every run, version and audit event.

``runs``: the commit, its state (clean, dirty, none: not a git repository, unknown) and
its committer time (lead time for changes starts there). ``versions`` and
``audit_events``: the same in one word (``<sha>``, ``<sha>+dirty``, ``none``, ...); an
audit event's hash covers it when it is set, so older events hash as before.
"""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    ts = "TIMESTAMP WITH TIME ZONE" if conn.dialect.name == "postgresql" else "DATETIME"
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN git_commit VARCHAR(64)"))
    conn.execute(sa.text("ALTER TABLE runs ADD COLUMN git_state VARCHAR(16)"))
    conn.execute(sa.text(f"ALTER TABLE runs ADD COLUMN git_committed_at {ts}"))
    conn.execute(sa.text("ALTER TABLE versions ADD COLUMN git_commit VARCHAR(80)"))
    conn.execute(sa.text("ALTER TABLE audit_events ADD COLUMN git_commit VARCHAR(80)"))
