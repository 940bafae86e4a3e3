"""Numbered migrations: from empty, and from an older schema with data in it."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from steward.meta.migrations import all_migrations
from steward.meta.store import Metastore


def test_numbers_are_unique_and_increasing():
    numbers = [n for n, _ in all_migrations()]
    assert numbers == sorted(set(numbers)) and numbers[0] == 1


def test_from_empty_applies_all_once(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    ms = Metastore(url)
    assert ms.schema_version() == all_migrations()[-1][0]
    assert Metastore(url).migrate() == []  # reopening applies nothing


def test_from_the_first_schema_keeps_data(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    engine = sa.create_engine(url)
    first = all_migrations()[0][1]
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE steward_schema (version INTEGER PRIMARY KEY, "
                             "applied_at VARCHAR(40) NOT NULL)"))
        first.upgrade(conn)
        conn.execute(sa.text("INSERT INTO steward_schema VALUES (1, 'then')"))
        conn.execute(sa.text("INSERT INTO environments VALUES ('prod', '2026-01-01', NULL)"))
    engine.dispose()
    ms = Metastore(url)
    assert ms.schema_version() == all_migrations()[-1][0]
    assert [e["name"] for e in ms.environments()] == ["prod"]


def test_sqlite_runs_in_wal_mode(tmp_path: Path):
    ms = Metastore(f"sqlite:///{tmp_path / 'meta.db'}")
    with ms.sa_engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
