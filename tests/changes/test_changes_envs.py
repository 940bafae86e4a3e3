"""Environments: create (zero copy), promote, rollback, races, views."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from chelpers import fresh, staging_sql

from steward.context import Context
from steward.core.errors import LockError, NotFound, PlanError
from steward.meta.envs import moves_log
from steward.run.envops import create_env, promote, rollback, write_views


def _store_bytes(root: Path) -> int:
    total = 0
    for d, _, files in os.walk(root / ".steward" / "store"):
        total += sum(os.path.getsize(os.path.join(d, f)) for f in files)
    return total


def test_create_env_copies_pointers_not_data(built: Path) -> None:
    ctx = fresh(built)
    size = _store_bytes(built)
    assert create_env(ctx, "dev", "prod") == 3
    assert _store_bytes(built) == size
    assert {n: v.id for n, v in ctx.current("dev").items()} == \
        {n: v.id for n, v in ctx.current("prod").items()}
    with pytest.raises(PlanError, match="exists already"):
        create_env(ctx, "dev", "prod")


def test_promote_moves_changed_products_with_history(built: Path) -> None:
    staging_sql(built, amount="amount + 1")
    ctx = fresh(built)
    assert ctx.run(env="dev").ok
    dev = ctx.current("dev")
    r = promote(ctx, "dev", "prod", message="ship it")
    assert set(r.moves) == {"staging.orders", "marts.daily_revenue"}
    prod = fresh(built).current("prod")
    assert prod["staging.orders"].id == dev["staging.orders"].id
    log = [m for m in moves_log(ctx.metastore, "prod") if m["action"] == "promote"]
    assert {m["message"] for m in log} == {"ship it"} and log[0]["actor"] == "tester"
    assert len({m["batch"] for m in log}) == 1


def test_promote_from_missing_env_fails(built: Path) -> None:
    with pytest.raises(NotFound, match="no environment 'nope'"):
        promote(fresh(built), "nope", "prod")


def test_promote_refuses_failed_gates(built: Path) -> None:
    ctx = fresh(built)
    create_env(ctx, "dev", "prod")
    yml = built / "models/staging/orders.yml"
    yml.write_text(yml.read_text().replace("{range: {min: 0}}", "{range: {min: 0, max: 50}}"))
    staging_sql(built, amount="amount * 10")
    assert not fresh(built).run(env="dev").ok
    with pytest.raises(PlanError, match="failed gates"):
        promote(fresh(built), "dev", "prod")
    # prod untouched
    assert fresh(built).current("prod")["staging.orders"].id == \
        ctx.current("prod")["staging.orders"].id


def test_promote_refuses_when_behind(built: Path) -> None:
    ctx = fresh(built)
    create_env(ctx, "dev", "prod")
    create_env(ctx, "hotfix", "prod")
    staging_sql(built, amount="amount + 2")
    assert fresh(built).run(env="hotfix").ok
    promote(fresh(built), "hotfix", "prod")
    # dev never changed staging.orders, but prod moved since dev was created
    with pytest.raises(PlanError, match="behind"):
        promote(fresh(built), "dev", "prod")


def test_two_promotions_racing(built: Path) -> None:
    ctx = fresh(built)
    create_env(ctx, "a", "prod")
    create_env(ctx, "b", "prod")
    staging_sql(built, amount="amount + 1")
    assert fresh(built).run(env="a").ok
    staging_sql(built, amount="amount + 2")
    assert fresh(built).run(env="b").ok
    want = {e: {n: v.id for n, v in fresh(built).current(e).items()} for e in ("a", "b")}
    barrier = threading.Barrier(2)
    outcome: dict[str, object] = {}

    def go(env: str) -> None:
        c = Context(built)  # its own engine and SQLite connections, like another process
        barrier.wait(timeout=60)
        try:
            outcome[env] = promote(c, env, "prod")
        except (PlanError, LockError) as e:  # it found prod changed, or locked
            outcome[env] = e

    threads = [threading.Thread(target=go, args=(e,)) for e in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    failed = [e for e, r in outcome.items() if isinstance(r, PlanError | LockError)]
    assert len(failed) == 1, outcome
    winner = "a" if failed == ["b"] else "b"
    prod = {n: v.id for n, v in fresh(built).current("prod").items()}
    assert prod == want[winner]  # all of the winner's versions, none of the loser's


def test_rollback_previous_and_bad_target(built: Path) -> None:
    ctx = fresh(built)
    first = ctx.current()["staging.orders"]
    staging_sql(built, amount="amount + 1")
    assert fresh(built).run().ok
    with pytest.raises(PlanError, match="is a version of marts.daily_revenue"):
        rollback(fresh(built), "staging.orders",
                 to=fresh(built).current()["marts.daily_revenue"].id)
    result, notes = rollback(fresh(built), "staging.orders", message="bad numbers")
    assert result.moves["staging.orders"][1] == first.id
    assert notes and "marts.daily_revenue" in notes[0]


def test_rollback_downstream_consistently(built: Path) -> None:
    ctx = fresh(built)
    before = {n: v.id for n, v in ctx.current().items()}
    staging_sql(built, amount="amount + 1")
    assert fresh(built).run().ok
    result, _ = rollback(fresh(built), "staging.orders", downstream=True)
    assert set(result.moves) == {"staging.orders", "marts.daily_revenue"}
    assert {n: v.id for n, v in fresh(built).current().items()} == before


def test_env_views_readable_from_duckdb(built: Path) -> None:
    import duckdb

    ctx = fresh(built)
    create_env(ctx, "dev", "prod")
    path, n = write_views(ctx)
    assert n == 6
    con = duckdb.connect(path, read_only=True)
    rows = con.execute("select count(*) from dev.staging__orders").fetchone()[0]
    assert rows == 4
    assert con.execute("select sum(orders) from prod.marts__daily_revenue").fetchone()[0] == 4


def test_env_views_use_a_storage_format_duckdb_1_reads_and_stay_current(built: Path) -> None:
    import struct

    import duckdb

    ctx = fresh(built)
    path, _ = write_views(ctx)
    with open(path, "rb") as f:
        head = f.read(20)
    # the file header's storage version: 64 is what DuckDB 1.0 and later read
    assert head[8:12] == b"DUCK" and struct.unpack("<Q", head[12:20])[0] == 64
    staging_sql(built, where="amount > 10")
    assert fresh(built).run().ok  # a run that moves pointers rewrites the views
    con = duckdb.connect(path, read_only=True)
    assert con.execute("select count(*) from prod.staging__orders").fetchone()[0] == \
        fresh(built).sql("select count(*) as n from staging.orders").to_pylist()[0]["n"] < 4
