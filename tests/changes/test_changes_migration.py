"""Migration 0004 applies to an empty metastore and to one from the previous release."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from steward.meta.store import Metastore

MY_TABLES = {"pointer_moves", "fingerprint_code", "env_specs"}


def test_m0004_from_empty_and_from_previous(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'meta.db'}"
    ms = Metastore(url)
    assert set(sa.inspect(ms.sa_engine).get_table_names()) >= MY_TABLES
    # the previous release: everything but 0004 (and later) applied
    with ms.sa_engine.begin() as conn:
        for name in MY_TABLES:
            conn.exec_driver_sql(f"DROP TABLE {name}")
        conn.exec_driver_sql("DELETE FROM steward_schema WHERE version = 4")
    ms.sa_engine.dispose()
    again = Metastore(url)
    assert set(sa.inspect(again.sa_engine).get_table_names()) >= MY_TABLES
    assert 4 in {r[0] for r in again.sa_engine.connect().exec_driver_sql(
        "SELECT version FROM steward_schema")}
