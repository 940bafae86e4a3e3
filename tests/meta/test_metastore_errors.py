"""A metastore that cannot be opened or is damaged: one message, never a traceback."""

from __future__ import annotations

import importlib.util
import sqlite3
from pathlib import Path

import pytest

from steward.context import Context
from tests.conftest import published_state, steward, write


def _set_metastore(root: Path, url: str) -> None:
    write(root, "steward.yaml", f"name: starter\nmetastore: {url}\n")


def test_missing_driver_names_the_package_and_hides_the_password(starter: Path):
    _set_metastore(starter, "postgresql://bob:s3cret@localhost:1/shop")
    code, out, err = steward(starter, "ls")
    assert code == 2, out + err
    assert "Traceback" not in err and "s3cret" not in err
    assert "steward.yaml:2: cannot open the metastore postgresql://bob:***@localhost:1/shop" \
           in err
    if importlib.util.find_spec("psycopg") is None:
        assert "the driver for postgresql is not installed (no module 'psycopg')" in err
        assert "pip install 'datasteward[postgres]'" in err
    else:  # the driver is there: nothing listens on port 1
        assert "cannot connect" in err


def test_unknown_database_kind_and_malformed_url(starter: Path):
    _set_metastore(starter, "postgress://bob:s3cret@localhost/shop")
    code, _, err = steward(starter, "ls")
    assert code == 2 and "Traceback" not in err and "s3cret" not in err
    assert "steward.yaml:2: cannot open the metastore postgress://bob:***@localhost/shop: " \
           "unknown database kind 'postgress'" in err
    assert "did you mean 'postgresql'?" in err
    _set_metastore(starter, "not a url")
    code, _, err = steward(starter, "ls")
    assert code == 2 and "Traceback" not in err
    assert "steward.yaml:2: cannot open the metastore 'not a url': not a database URL" in err
    assert "sqlite:///.steward/meta.db" in err


def test_unreachable_metastore(starter: Path):
    _set_metastore(starter, "sqlite:///data")  # a folder, not a database file
    code, _, err = steward(starter, "ls")
    assert code == 2 and "Traceback" not in err
    assert "steward.yaml:2: cannot open the metastore sqlite:///data: cannot connect" in err


def test_a_dropped_audit_table_is_a_damaged_metastore(starter: Path):
    assert Context(starter).run().ok
    con = sqlite3.connect(starter / ".steward" / "meta.db")
    con.execute("DROP TABLE audit_events")
    con.commit()
    con.close()
    write(starter, "models/marts/one.sql", "select 1 as x\n")  # something to do
    before = published_state(starter)
    for args in (["run"], ["audit", "verify"], ["ls"]):
        code, out, err = steward(starter, *args)
        assert code == 1, (args, out + err)
        assert "Traceback" not in err
        assert "the metastore .steward/meta.db is damaged: table audit_events is missing" in err
        assert "restore .steward/meta.db from a backup" in err
    assert published_state(starter) == before


@pytest.mark.parametrize("table", ["versions", "pii_scans"])
def test_any_missing_table_is_named(starter: Path, table: str):
    assert Context(starter).run().ok
    con = sqlite3.connect(starter / ".steward" / "meta.db")
    con.execute(f"DROP TABLE {table}")
    con.commit()
    con.close()
    code, _, err = steward(starter, "ls")
    assert code == 1 and f"table {table} is missing" in err


def test_every_table_the_migrations_create_is_known(tmp_path: Path):
    from steward.meta.store import TABLES, Metastore

    ms = Metastore(f"sqlite:///{tmp_path / 'm.db'}")
    con = sqlite3.connect(tmp_path / "m.db")
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert names - {"steward_schema"} == set(TABLES)
    assert ms.schema_version() > 0
    # ... with the columns the one MetaData of meta/tables.py declares
    from steward.meta.tables import md

    for name, table in md.tables.items():
        have = [r[1] for r in con.execute(f"PRAGMA table_info({name})")]
        assert sorted(have) == sorted(c.name for c in table.columns), name
