"""Every row of one metastore copied into another, empty one: how a project's history
(versions, environments, runs, checks, profiles, the audit trail) moves from the embedded
SQLite file to a team's PostgreSQL, or back, without a rebuild.

The tables are reflected from both databases (both are at the same schema version: the
same migrations created them), rows are inserted parents first, all in one transaction on
the destination: a copy killed half-way leaves the destination empty.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from steward.meta.store import Metastore

SCHEMA_TABLE = "steward_schema"  # written by the destination's own migrations
CHUNK = 2000


def _tables(ms: Metastore) -> list[sa.Table]:
    md = sa.MetaData()
    md.reflect(ms.sa_engine)
    return [t for t in md.sorted_tables if t.name != SCHEMA_TABLE]


def tables_with_rows(ms: Metastore) -> list[str]:
    """The tables of ``ms`` that hold at least one row (the schema table aside)."""
    out = []
    with ms.sa_engine.connect() as conn:
        for t in _tables(ms):
            if conn.execute(sa.select(sa.literal(1)).select_from(t).limit(1)).first():
                out.append(t.name)
    return out


def row_counts(ms: Metastore) -> dict[str, int]:
    with ms.sa_engine.connect() as conn:
        return {t.name: int(conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
                            or 0) for t in _tables(ms)}


def _utc(value: Any) -> Any:
    """Datetimes as aware UTC: SQLite hands back naive UTC, PostgreSQL the session's zone."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def copy_rows(src: Metastore, dst: Metastore,
              on_table: Callable[[str, int], None] | None = None) -> dict[str, int]:
    """Insert every row of ``src`` into ``dst`` (which must hold none); returns the count
    per table. One transaction on ``dst``."""
    if src.schema_version() != dst.schema_version():
        from steward.core.errors import StewardError

        raise StewardError(
            f"the two metastores are at different schema versions ({src.schema_version()} "
            f"and {dst.schema_version()}); open both with this version of Steward first")
    theirs = {t.name: t for t in _tables(dst)}
    copied: dict[str, int] = {}
    with src.sa_engine.connect() as s, dst.sa_engine.begin() as d:
        for t in _tables(src):
            target = theirs.get(t.name)
            if target is None:
                continue  # (a table the destination's migrations do not make: not Steward's)
            names = [c.name for c in t.columns if c.name in target.columns]
            n = 0
            result = s.execution_options(stream_results=True).execute(
                sa.select(*[t.c[c] for c in names]))
            while rows := result.fetchmany(CHUNK):
                d.execute(target.insert(), [{c: _utc(v) for c, v in zip(names, r, strict=True)}
                                            for r in rows])
                n += len(rows)
            copied[t.name] = n
            if on_table is not None:
                on_table(t.name, n)
        if dst.sa_engine.dialect.name == "postgresql":
            _advance_sequences(d, theirs.values())
    return copied


def _advance_sequences(conn: sa.Connection, tables: Any) -> None:
    """Serial keys copied as they were: each sequence continues after the largest one."""
    for t in tables:
        for c in t.primary_key.columns:
            if not isinstance(c.type, sa.Integer):
                continue
            seq = conn.execute(sa.text("SELECT pg_get_serial_sequence(:t, :c)"),
                               {"t": t.name, "c": c.name}).scalar()
            if seq:
                conn.execute(sa.text(
                    f"SELECT setval(:s, COALESCE((SELECT max({c.name}) FROM {t.name}), 0) + 1, "
                    "false)"), {"s": seq})
