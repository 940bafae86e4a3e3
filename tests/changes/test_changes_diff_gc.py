"""Keyed diff, full-row fallback, garbage collection and its safety."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from chelpers import edit, fresh, staging_sql

from steward.core.errors import LockError
from steward.run.envops import create_env, diff
from steward.run.gc import gc


def test_keyed_diff_between_envs(built: Path) -> None:
    ctx = fresh(built)
    create_env(ctx, "dev", "prod")
    staging_sql(built, amount="case when order_id = 2 then amount + 1 else amount end",
                where="order_id <> 4", extra=", 'x' as tag")
    assert fresh(built).run(env="dev").ok
    r = diff(fresh(built), "staging.orders", "prod", "dev")
    assert r.mode == "keyed" and r.key == ["order_id"]
    assert (r.added, r.removed, r.changed, r.unchanged) == (0, 1, 1, 2)
    assert r.column_changes == {"customer": 0, "amount": 1, "order_date": 0}
    assert r.schema["added"] == [{"name": "tag", "type": "VARCHAR"}]
    assert r.sample["changed"][0]["key"] == {"order_id": 2}
    assert r.sample["removed"] == [{"order_id": 4}]


def test_diff_without_primary_key_falls_back(built: Path) -> None:
    yml = built / "models/marts/daily_revenue.yml"
    yml.write_text(yml.read_text().replace("primary_key: [order_date]\n", ""))
    ctx = fresh(built)
    old = ctx.current()["marts.daily_revenue"].id
    staging_sql(built, where="amount > 10")
    assert fresh(built).run().ok
    r = diff(fresh(built), "marts.daily_revenue", old, "prod")
    assert r.mode == "full-row" and "no primary key" in r.notes[0]
    assert r.removed >= 1 and r.changed == 0


def test_diff_version_of_other_product_is_refused(built: Path) -> None:
    from steward.core.errors import PlanError

    ctx = fresh(built)
    with pytest.raises(PlanError, match="not of staging.orders"):
        diff(ctx, "staging.orders", "prod", ctx.current()["marts.daily_revenue"].id)


def test_gc_never_deletes_pointed_versions(built: Path) -> None:
    ctx = fresh(built)
    create_env(ctx, "old", "prod")
    for i in range(3):
        staging_sql(built, amount=f"amount + {i + 1}")
        assert fresh(built).run().ok
    ctx = fresh(built)
    pointed = {v.id for e in ("prod", "old") for v in ctx.current(e).values()}
    dry = gc(ctx, dry_run=True, keep_last=0, keep_days=0)
    assert dry.versions and dry.bytes > 0
    assert not pointed & {v.id for v in dry.versions}
    # dry run deletes nothing (paths are store keys)
    assert all(os.path.exists(ctx.store.path(p)) for p in dry.paths)
    real = gc(ctx, keep_last=0, keep_days=0)
    assert {v.id for v in real.versions} == {v.id for v in dry.versions}
    assert real.paths and not any(os.path.exists(ctx.store.path(p)) for p in real.paths)
    for e in ("prod", "old"):  # every environment still reads
        assert ctx.sql("select count(*) as n from staging.orders", env=e).to_pylist()[0]["n"]


def test_gc_respects_retention_defaults(built: Path) -> None:
    for i in range(3):
        staging_sql(built, amount=f"amount + {i + 1}")
        assert fresh(built).run().ok
    # defaults: keep_last 5, keep_days 30 -> everything is young, nothing goes
    assert gc(fresh(built), dry_run=True).versions == []
    yml = built / "steward.yaml"
    yml.write_text(yml.read_text() + "  retention: {keep_last: 1, keep_days: 0}\n")
    assert gc(fresh(built), dry_run=True).versions


def test_gc_during_a_run_deletes_nothing(built: Path) -> None:
    gate = built / "go.flag"
    started = built / "started.flag"
    edit(built, "gen.py", f"""
import time, os
import pyarrow as pa
def make():
    open({str(started)!r}, "w").write("started")
    while not os.path.exists({str(gate)!r}):
        time.sleep(0.02)
    return pa.table({{"x": [1, 2, 3]}})
""")
    edit(built, "sources/slow.yml",
         "sources:\n  raw.slow:\n    kind: python\n    callable: gen.py:make\n")
    staging_sql(built, amount="amount + 5")  # leaves an unpointed old version behind
    ctx = fresh(built)
    before = {v.id for v in ctx.metastore.versions()}
    t = threading.Thread(target=lambda: fresh(built).run(wait=5))
    t.start()
    try:
        deadline = time.monotonic() + 30
        while not started.exists():  # the run holds the lock and calls the source
            assert time.monotonic() < deadline
            time.sleep(0.02)
        with pytest.raises(LockError):
            gc(fresh(built), keep_last=0, keep_days=0)
        assert before <= {v.id for v in ctx.metastore.versions()}
    finally:
        gate.write_text("go")
        t.join(timeout=120)
    assert fresh(built).current()["raw.slow"].row_count == 3
    assert gc(fresh(built), keep_last=0, keep_days=0).versions  # afterwards it works
