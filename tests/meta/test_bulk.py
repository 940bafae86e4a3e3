"""Rows inserted with their parameters prepared by column read back as the general
insert writes them, on SQLite and on PostgreSQL."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from steward.meta.bulk import insert_many
from steward.meta.store import Metastore
from steward.meta.tables import metrics


def _rows(n: int) -> list[dict[str, object]]:
    at = datetime(2026, 12, 3, 10, 20, 30, 123456, tzinfo=UTC)
    return [{"product": f"p{i % 7}", "version_id": f"v{i}", "metric": "null_fraction",
             "column": "" if i % 3 else "caf\u00e9 \"x\"", "at": at + timedelta(seconds=i % 2),
             "value": None if i % 5 == 0 else i / 3}
            for i in range(n)]


def _read(ms: Metastore) -> list[tuple[object, ...]]:
    with ms.sa_engine.connect() as conn:
        return [tuple(r) for r in conn.execute(
            sa.select(metrics.c.product, metrics.c.version_id, metrics.c.metric,
                      metrics.c.column, metrics.c.value, metrics.c.at)
            .order_by(metrics.c.version_id, metrics.c.id))]


@pytest.mark.parametrize("where", ["sqlite", "postgres"])
def test_insert_many_writes_what_the_general_insert_writes(where: str, tmp_path: Path,
                                                           request: pytest.FixtureRequest):
    if where == "sqlite":
        urls = [f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db")]
    else:  # two new databases of the test cluster
        pg = request.getfixturevalue("pg")
        urls = [str(pg.url(pg.create_database())) for _ in range(2)]
    fast, slow = Metastore(urls[0]), Metastore(urls[1])
    rows = _rows(500)
    with fast.begin() as conn:
        insert_many(conn, metrics, rows)
    with slow.begin() as conn:
        conn.execute(metrics.insert(), rows)
    got, want = _read(fast), _read(slow)
    assert len(got) == 500 and got == want
    # values as written: NULLs, quotes and non-ASCII, the timestamp to the microsecond
    assert any(r[4] is None for r in got) and any(r[3] == "caf\u00e9 \"x\"" for r in got)
    first = next(r for r in got if r[1] == "v1")
    assert math.isclose(first[4], 1 / 3)  # type: ignore[arg-type]
    assert first[5].replace(tzinfo=None) == datetime(2026, 12, 3, 10, 20, 31, 123456)  # type: ignore[union-attr]



def test_a_column_sqlalchemy_fills_itself_takes_the_general_path(tmp_path: Path):
    """A Python-side default adds a parameter the rows do not carry: the general insert
    runs (and fills it), the values equal but not the same are bound each as itself."""
    md = sa.MetaData()
    t = sa.Table("t", md, sa.Column("a", sa.Integer), sa.Column("b", sa.String, default="x"))
    flags = sa.Table("f", md, sa.Column("v", sa.Boolean), sa.Column("n", sa.Integer))
    engine = sa.create_engine(f"sqlite:///{tmp_path / 't.db'}")
    md.create_all(engine)
    with engine.begin() as conn:
        insert_many(conn, t, [{"a": 1}, {"a": 2}])
        insert_many(conn, flags, [{"v": True, "n": 1}, {"v": 1, "n": True}])
        assert conn.execute(sa.select(t.c.a, t.c.b).order_by(t.c.a)).all() == [(1, "x"),
                                                                               (2, "x")]
        assert conn.execute(sa.select(flags.c.v, flags.c.n)).all() == [(True, 1), (True, 1)]
