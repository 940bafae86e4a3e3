"""Migration 0003 and the profile / metric store."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from steward.meta import profiles as mp
from steward.meta.migrations import m0001_initial
from steward.meta.store import Metastore


def _tables(url: str) -> set[str]:
    return set(sa.inspect(sa.create_engine(url)).get_table_names())


def test_migration_from_empty(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/m.db"
    Metastore(url)
    assert {"profiles", "metrics"} <= _tables(url)


def test_migration_from_the_core_schema(tmp_path: Path):
    url = f"sqlite:///{tmp_path}/m.db"
    eng = sa.create_engine(url)
    with eng.begin() as conn:  # a metastore as the core release left it
        conn.execute(sa.text("CREATE TABLE steward_schema (version INTEGER PRIMARY KEY, "
                             "applied_at VARCHAR(40) NOT NULL)"))
        m0001_initial.upgrade(conn)
        conn.execute(sa.text("INSERT INTO steward_schema VALUES (1, 'then')"))
    assert "profiles" not in _tables(url)
    ms = Metastore(url)
    assert {"profiles", "metrics"} <= _tables(url) and ms.schema_version() >= 3


def test_profiles_and_series_round_trip(tmp_path: Path):
    ms = Metastore(f"sqlite:///{tmp_path}/m.db")
    mp.save_profile(ms, "a.b", "v1", {"rows": 3, "columns": {}})
    mp.save_profile(ms, "a.b", "v1", {"rows": 4, "columns": {}})  # replaced, not duplicated
    assert mp.load_profile(ms, "v1")["rows"] == 4 and mp.load_profile(ms, "nope") is None
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    pts = [mp.MetricPoint("a.b", f"v{i}", "row_count", None, float(i), t0 + timedelta(hours=i))
           for i in range(5)]
    pts.append(mp.MetricPoint("a.b", "v4", "null_fraction", "x", float("nan"), t0))
    assert mp.append_metrics(ms, pts) == 6
    series = mp.series(ms, "a.b", "row_count", "")
    assert [p.value for p in series] == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert [p.value for p in mp.series(ms, "a.b", "row_count", "", limit=2)] == [3.0, 4.0]
    assert [p.value for p in mp.series(ms, "a.b", "row_count", "", exclude_version="v4")][-1] \
        == 3.0
    assert mp.series(ms, "a.b", "null_fraction", "x")[0].value is None  # NaN stored as NULL
    assert ("row_count", None, 5) in mp.metric_names(ms, "a.b")
