"""Published versions are immutable and verified; state survives moves, copies and
hostile edits (the integrity issue, items 8-16)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from steward.context import Context
from steward.core.errors import BuildError, LockError, PlanError, SelectionError
from tests.conftest import metastore_connection, write


def step(result, product):
    return next(s for s in result.steps if s.product == product)


def sh(cmd: list[str], root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*cmd, *args], cwd=root, capture_output=True, text=True,
                          timeout=120)


def meta(root: Path) -> Any:
    return metastore_connection(root)


# -- 8. steward sql only reads -----------------------------------------------------------
@pytest.mark.parametrize("query", [
    "COPY (select 1 as order_id) TO '{victim}' (FORMAT parquet)",
    "ATTACH '{root}/.steward/envs.duckdb' AS e",
    "select 1; select 2",
    "select * from read_text('/etc/hostname')",
    "select * from read_csv('{root}/data/orders.csv')",
    "create table t as select 1",
    "install httpfs",
    "set enable_external_access = true",
])
def test_sql_refuses_writes_and_reads_outside_the_store(starter: Path, query: str):
    ctx = Context(starter)
    assert ctx.run().ok
    v = ctx.current()["staging.orders"]
    victim = ctx.store.data_files(v.path)[0]
    before = Path(victim).read_bytes()
    with pytest.raises(BuildError):
        Context(starter).sql(query.format(victim=victim, root=starter))
    assert Path(victim).read_bytes() == before
    assert Context(starter).verify().ok


def test_sql_reads_products_as_views_and_describe_works(starter: Path):
    ctx = Context(starter)
    assert ctx.run().ok
    assert ctx.sql("select count(*) as n from staging.orders").to_pylist() == [{"n": 4}]
    assert ctx.sql("select count(*) as n from daily_revenue").to_pylist() == [{"n": 3}]
    with pytest.raises(BuildError, match="'orders' is ambiguous: write one of raw.orders, "
                                         "staging.orders"):
        ctx.sql("select * from orders")
    cols = [r["column_name"] for r in ctx.sql("describe raw.orders").to_pylist()]
    assert cols == ["order_id", "customer", "amount", "ordered_at"]


def test_sql_output_is_the_one_audited_write(starter: Path, tmp_path: Path):
    ctx = Context(starter)
    assert ctx.run().ok
    n = ctx.sql_export("select * from staging.orders", str(tmp_path / "out.parquet"))
    assert n == 4 and (tmp_path / "out.parquet").exists()
    [ev] = ctx.audit_trail().log(action="sql.export")
    assert ev.after["rows"] == 4 and "staging.orders" in ev.reason


# -- 9. versions are verified ---------------------------------------------------------------
def test_garbage_in_a_published_file_is_found_and_never_read_as_an_input(starter: Path,
                                                                          steward_cmd):
    ctx = Context(starter)
    assert ctx.run().ok
    v = ctx.current()["staging.orders"]
    f = ctx.store.data_files(v.path)[0]
    with open(f, "r+b") as fh:  # same size, other bytes
        fh.seek(8)
        fh.write(b"garbage!")
    p = sh(steward_cmd, starter, "verify")
    assert p.returncode == 4 and "no longer match their recorded hash" in p.stdout
    # a downstream rebuild reads staging: the input is hashed first and refused
    write(starter, "models/marts/daily_revenue.sql",
          (starter / "models/marts/daily_revenue.sql").read_text() + "\n-- v2\nlimit 100")
    r = Context(starter).run()
    assert step(r, "marts.daily_revenue").status == "failed"
    assert "is damaged" in step(r, "marts.daily_revenue").error
    # now marked damaged: the next run rebuilds staging, then the mart
    r = Context(starter).run()
    assert r.ok and step(r, "staging.orders").status == "built"
    assert Context(starter).verify().ok


def test_a_deleted_version_folder_is_rebuilt_not_kept(starter: Path):
    ctx = Context(starter)
    assert ctx.run().ok
    shutil.rmtree(ctx.store.path(ctx.current()["raw.orders"].path))
    states = Context(starter).version_states(Context(starter).current())
    assert states["raw.orders"].startswith("damaged")
    r = Context(starter).run()
    assert r.ok and step(r, "raw.orders").status == "built"
    assert Context(starter).sql("select count(*) as n from raw.orders").to_pylist() == [
        {"n": 4}]


def test_a_pointer_edited_outside_steward_is_refused_and_repaired(starter: Path, steward_cmd):
    ctx = Context(starter)
    assert ctx.run().ok
    write(starter, "models/staging/orders.sql",
          (starter / "models/staging/orders.sql").read_text().replace("> 0", "> 10"))
    assert Context(starter).run().ok
    good = {n: v.id for n, v in Context(starter).current().items()}
    old = [v.id for v in Context(starter).metastore.versions("staging.orders")
           if v.id != good["staging.orders"]][0]
    with meta(starter) as con:
        con.execute("update env_pointers set version_id = ? where product = 'staging.orders'",
                    (old,))
    p = sh(steward_cmd, starter, "run")
    assert p.returncode == 4 and "changed outside Steward" in p.stderr
    p = sh(steward_cmd, starter, "audit", "verify")
    assert p.returncode == 4 and "differ from what the audit trail records" in p.stdout
    p = sh(steward_cmd, starter, "verify", "--repair")
    assert "pointers restored" in p.stdout
    assert {n: v.id for n, v in Context(starter).current().items()} == good
    assert sh(steward_cmd, starter, "run").returncode == 0
    assert sh(steward_cmd, starter, "audit", "verify").returncode == 0


# -- 10. quarantine keeps every row -------------------------------------------------------
def _quarantine(root: Path) -> None:
    text = (root / "sources/raw.yml").read_text()
    write(root, "sources/raw.yml", text.replace("    path: data/orders.csv\n",
                                                "    path: data/orders.csv\n"
                                                "    on_error: quarantine\n"))


def test_an_over_long_line_is_quarantined_not_lost(starter: Path):
    _quarantine(starter)
    lines = (starter / "data/orders.csv").read_text().splitlines()
    lines[2] = "2," + "G" * (40 * 1024 * 1024) + ",99.00,2026-01-02 11:30:00"  # 40 MB
    (starter / "data/orders.csv").write_text("\n".join(lines) + "\n")
    ctx = Context(starter)
    r = ctx.run()
    assert r.ok
    v = ctx.current()["raw.orders"]
    import pyarrow.parquet as pq

    q = pq.read_table(os.path.join(ctx.store.path(v.path), "quarantine",
                                   "rejected_rows.parquet")).to_pylist()
    assert v.row_count + len(q) == 4
    assert [(x["line"], x["error_type"]) for x in q] == [(3, "LINE SIZE OVER MAXIMUM")]
    assert "line size" in q[0]["error_message"].replace("_", " ").lower()


def test_ndjson_sources_quarantine_bad_lines_and_bad_values(tmp_path: Path):
    root = tmp_path / "j"
    write(root, "steward.yaml", "name: j\n")
    (root / "data").mkdir(parents=True)
    (root / "data/e.ndjson").write_text(
        '{"id": 1, "amount": "1.5"}\n{"id": 2, "amount": \n{"id": 3, "amount": "abc"}\n'
        '[1, 2]\n{"id": 5, "amount": "2"}\n')
    write(root, "sources/raw.yml", """\
        sources:
          raw.e:
            path: data/e.ndjson
            on_error: quarantine
            columns: {id: {type: INTEGER}, amount: {type: DOUBLE}}
        """)
    ctx = Context(root)
    r = ctx.run()
    assert r.ok, [s.error for s in r.steps]
    v = ctx.current()["raw.e"]
    import pyarrow.parquet as pq

    q = pq.read_table(os.path.join(ctx.store.path(v.path), "quarantine",
                                   "rejected_rows.parquet")).to_pylist()
    assert v.row_count == 2 and len(q) == 3
    assert sorted(x["error_type"] for x in q) == ["CAST", "INVALID JSON", "NOT AN OBJECT"]
    assert [x["column_name"] for x in q if x["error_type"] == "CAST"] == ["amount"]


# -- 11. killed runs and gc leave a trace; gc collects what it left --------------------
def test_recovery_is_an_audit_event(starter: Path):
    ctx = Context(starter)
    assert ctx.run().ok
    ctx.metastore.start_run("r-killed", "prod", None, "tester")
    assert Context(starter).run().ok
    [ev] = Context(starter).audit_trail().log(action="recover")
    assert ev.after["aborted"] == ["r-killed"]


def test_gc_collects_orphan_folders_and_counts_what_it_deleted(starter: Path):
    for amount in ("amount + 1", "amount + 2"):
        write(starter, "models/staging/orders.sql",
              f"select order_id, customer, {amount} as amount, cast(ordered_at as date) "
              "as order_date from raw.orders")
        assert Context(starter).run().ok
    ctx = Context(starter)
    # an orphan: a folder no version row names (a gc killed after deleting the rows)
    orphan = os.path.join(ctx.store.root, "staging.orders", "v20260101T000000.000-abcdef")
    shutil.copytree(ctx.store.path(ctx.current()["staging.orders"].path), orphan)
    from steward.run.gc import gc

    r = gc(Context(starter), keep_last=0, keep_days=0)
    assert "staging.orders/v20260101T000000.000-abcdef" in r.orphans
    assert not os.path.exists(orphan)
    assert all(not os.path.exists(ctx.store.path(p)) for p in r.paths)
    actions = [e.action for e in Context(starter).audit_trail().log(limit=None)]
    assert actions.index("gc") < actions.index("gc.start")  # (newest first)
    assert Context(starter).verify().ok


def test_gc_on_a_read_only_store_is_refused(starter: Path, monkeypatch: pytest.MonkeyPatch):
    write(starter, "models/staging/orders.sql",
          (starter / "models/staging/orders.sql").read_text().replace("> 0", "> 1"))
    assert Context(starter).run().ok
    assert Context(starter).run().ok
    write(starter, "models/staging/orders.sql",
          (starter / "models/staging/orders.sql").read_text().replace("> 1", "> 2"))
    assert Context(starter).run().ok
    from steward.run import gc as gcmod
    from steward.store.local import LocalStore

    monkeypatch.setattr(LocalStore, "writable", lambda self: False)
    before = {v.id for v in Context(starter).metastore.versions()}
    with pytest.raises(gcmod.GcError, match="read-only: nothing was deleted"):
        gcmod.gc(Context(starter), keep_last=0, keep_days=0)
    assert {v.id for v in Context(starter).metastore.versions()} == before


# -- 12. an emptied metastore or a cut audit trail is refused -------------------------------
@pytest.mark.sqlite_only
def test_a_truncated_metastore_is_refused(starter: Path, steward_cmd):
    assert Context(starter).run().ok
    open(starter / ".steward/meta.db", "w").close()
    for f in ("meta.db-wal", "meta.db-shm"):
        (starter / ".steward" / f).unlink(missing_ok=True)
    p = sh(steward_cmd, starter, "run")
    assert p.returncode == 4 and "is empty (0 bytes)" in p.stderr
    assert os.path.getsize(starter / ".steward/meta.db") == 0
    p = sh(steward_cmd, starter, "audit", "verify")
    assert p.returncode == 4


@pytest.mark.sqlite_only
def test_a_new_metastore_over_a_store_with_versions_is_refused(starter: Path, steward_cmd):
    assert Context(starter).run().ok
    for f in ("meta.db", "meta.db-wal", "meta.db-shm"):
        (starter / ".steward" / f).unlink(missing_ok=True)
    p = sh(steward_cmd, starter, "ls")
    assert p.returncode == 4 and "would orphan them" in p.stderr
    assert not (starter / ".steward/meta.db").exists()


def test_deleting_the_last_audit_events_is_detected(starter: Path, steward_cmd):
    assert Context(starter).run().ok
    write(starter, "models/staging/orders.sql",
          (starter / "models/staging/orders.sql").read_text().replace("> 0", "> 1"))
    assert Context(starter).run().ok
    with meta(starter) as con:
        (top,) = con.execute("select max(seq) from audit_events").fetchone()
        con.execute("delete from audit_events where seq >= ?", (top - 1,))
        con.execute("delete from audit_checkpoints")
    p = sh(steward_cmd, starter, "audit", "verify")
    assert p.returncode == 4 and "are missing" in p.stdout
    # nothing is appended on a cut trail
    p = sh(steward_cmd, starter, "env", "create", "dev")
    assert p.returncode == 4 and "no longer reaches event" in p.stderr


# -- 13. moved and copied projects ------------------------------------------------------
@pytest.mark.sqlite_only
def test_a_moved_and_a_copied_project_keep_working_apart(starter: Path, steward_cmd,
                                                          tmp_path: Path):
    assert sh(steward_cmd, starter, "run").returncode == 0
    moved = tmp_path / "moved"
    shutil.move(str(starter), moved)
    p = sh(steward_cmd, moved, "sql", "select count(*) as n from marts.daily_revenue", "--json")
    assert p.returncode == 0 and json.loads(p.stdout) == [{"n": 3}]
    assert sh(steward_cmd, moved, "run").returncode == 0
    assert sh(steward_cmd, moved, "check").returncode == 0
    copy = tmp_path / "copy"
    subprocess.run(["cp", "-a", str(moved), str(copy)], check=True)
    runs_before = meta(moved).execute("select count(*) from runs").fetchone()[0]
    assert sh(steward_cmd, copy, "run").returncode == 0
    assert sh(steward_cmd, copy, "run").returncode == 0  # the no-op fast path, too
    assert meta(moved).execute("select count(*) from runs").fetchone()[0] == runs_before
    write(copy, "models/staging/orders.sql",
          (copy / "models/staging/orders.sql").read_text().replace("> 0", "> 1"))
    assert sh(steward_cmd, copy, "run").returncode == 0
    assert sh(steward_cmd, copy, "gc", "--keep-last", "0", "--keep-days", "0").returncode == 0
    # the original still reads every version it had
    assert sh(steward_cmd, moved, "verify").returncode == 0
    for key in meta(moved).execute("select path from versions where status='published'"):
        assert not os.path.isabs(key[0])


# -- 14. caches are plain data, signed ---------------------------------------------------
def test_a_planted_cache_is_never_run_nor_believed(starter: Path, tmp_path: Path):
    assert Context(starter).run().ok
    import pickle

    from steward.project import cache

    boom = tmp_path / "boom"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {boom}",))

    for name in ("project.msgpack", "models.msgpack", "project.pickle", "models.pickle"):
        path = starter / ".steward/cache" / name
        with open(path, "wb") as f:
            pickle.dump(Evil(), f)
            pickle.dump(Evil(), f)
    ctx = Context(starter)
    assert ctx.run().ok
    assert not boom.exists()
    # a cache made on another machine (another signing key) that says other SQL than
    # the model's file is not believed
    loaded = ctx.project
    key = str(loaded.load_key)
    orders = loaded.products["staging.orders"]
    forged = loaded.evolve(products={**loaded.products,
                                     "staging.orders": orders.evolve(code="select 666")})
    path = starter / ".steward/cache/project.msgpack"
    cache._secret.cache_clear()
    os.environ["STEWARD_CACHE_KEY"] = "another machine's key, thirty-two bytes"
    try:
        cache.write(str(path), key, forged)
    finally:
        del os.environ["STEWARD_CACHE_KEY"]
        cache._secret.cache_clear()
    assert path.exists() and cache.read(str(path), key) is None
    assert "666" not in Context(starter).project.products["staging.orders"].code


# -- 15. protected environments and the lock --------------------------------------------
def test_rollback_refuses_a_protected_environment(starter: Path):
    yml = starter / "steward.yaml"
    yml.write_text(yml.read_text().replace("  default: prod\n",
                                           "  default: prod\n  protected: [prod]\n"))
    from steward.run.envops import create_env, promote, rollback

    ctx = Context(starter)
    create_env(ctx, "dev", None)
    assert Context(starter).run(env="dev").ok
    promote(Context(starter), "dev", "prod")
    write(starter, "models/staging/orders.sql",
          (starter / "models/staging/orders.sql").read_text().replace("> 0", "> 1"))
    assert Context(starter).run(env="dev").ok
    promote(Context(starter), "dev", "prod")
    with pytest.raises(PlanError, match="protected"):
        rollback(Context(starter), "staging.orders", env="prod")


def test_rollback_waits_for_a_running_run(starter: Path):
    assert Context(starter).run().ok
    write(starter, "models/staging/orders.sql",
          (starter / "models/staging/orders.sql").read_text().replace("> 0", "> 1"))
    assert Context(starter).run().ok
    from steward.run.envops import rollback
    from steward.run.lock import ProjectLock

    held = threading.Event()
    release = threading.Event()

    def hold():
        with ProjectLock(str(starter / ".steward"), "a run",
                         metastore_url=Context(starter).metastore_url):
            held.set()
            release.wait(30)

    t = threading.Thread(target=hold)
    t.start()
    try:
        held.wait(30)
        with pytest.raises(LockError):
            rollback(Context(starter), "staging.orders")
    finally:
        release.set()
        t.join(timeout=120)
    result, _ = rollback(Context(starter), "staging.orders")
    assert result.moves


# -- 16. environment names ----------------------------------------------------------------
@pytest.mark.parametrize("name", ["prod ", "PROD", "../../x", "a;b", "a\nb", "", "-x"])
def test_invalid_environment_names_are_refused(starter: Path, name: str):
    with pytest.raises(SelectionError, match="invalid environment name"):
        Context(starter).run(env=name)
    from steward.run.envops import create_env

    with pytest.raises(SelectionError):
        create_env(Context(starter), name, None)


def test_valid_environment_names(starter: Path):
    for name in ("dev", "pr-42", "feature_x", "2026q4"):
        assert Context(starter).run(env=name).ok
