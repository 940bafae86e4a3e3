"""An environment shows what its code and inputs say: never stale data as current.

Each test reproduces one way the promise used to break (the integrity issue, items 1-7).
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from steward.context import Context
from tests.conftest import write

MART_YML = "models/marts/daily_revenue.yml"
STAGING = "models/staging/orders.sql"


def step(result, product):
    return next(s for s in result.steps if s.product == product)


def mart_rows(root: Path) -> list[dict]:
    return Context(root).sql("select order_date, orders, revenue from marts.daily_revenue "
                             "order by order_date").to_pylist()


def staging_rows(root: Path) -> int:
    return Context(root).sql("select count(*) as n from staging.orders").to_pylist()[0]["n"]


def assert_consistent(root: Path, env: str = "prod") -> None:
    """Every product's version was built from the versions its inputs have in ``env``."""
    ctx = Context(root)
    cur = ctx.current(env)
    for name, v in cur.items():
        for i in ctx.project.products[name].inputs:
            built_from = ctx.metastore.version(v.inputs[i])
            assert built_from.data_hash == cur[i].data_hash, (
                f"{name} in {env} was built from {i}@{built_from.id}, "
                f"but {env} points {i} at {cur[i].id}")


# -- 1. reuse decided from what a version was built from ---------------------------------
def test_relaxed_check_after_a_refused_mart_rebuilds_it_from_the_new_staging(starter: Path):
    write(starter, MART_YML, (starter / MART_YML).read_text()
          + "checks: [{sum: {column: revenue, min: 150}}]\n")
    assert Context(starter).run().ok
    write(starter, STAGING, (starter / STAGING).read_text().replace("amount > 0",
                                                                   "amount > 50"))
    r = Context(starter).run()
    assert step(r, "staging.orders").status == "built"
    assert step(r, "marts.daily_revenue").status == "failed"
    # the mart failed: the new staging is held back, prod stays consistent
    assert "staging.orders" in r.held_back
    assert staging_rows(starter) == 4
    assert_consistent(starter)
    write(starter, MART_YML, (starter / MART_YML).read_text().replace("min: 150", "min: 0"))
    plan = Context(starter).plan_build()
    assert plan.steps["marts.daily_revenue"].action == "build"
    r = Context(starter).run()
    assert r.ok and step(r, "marts.daily_revenue").status == "built"
    assert staging_rows(starter) == 1
    assert sum(row["orders"] for row in mart_rows(starter)) == 1
    assert_consistent(starter)


def test_run_of_one_product_then_a_full_run_rebuilds_what_is_behind(starter: Path):
    assert Context(starter).run().ok
    write(starter, STAGING, (starter / STAGING).read_text().replace("amount > 0",
                                                                   "amount > 50"))
    r = Context(starter).run(["staging.orders"])
    assert r.ok and r.stale == {"marts.daily_revenue": ["staging.orders"]}
    states = Context(starter).version_states(Context(starter).current())
    assert states["marts.daily_revenue"].startswith("behind")
    r = Context(starter).run()
    assert step(r, "marts.daily_revenue").status == "built"
    assert sum(row["orders"] for row in mart_rows(starter)) == 1
    assert_consistent(starter)


SLOW = """\
import os, time
from steward import product

@product()
def slow(marts__daily_revenue):
    open(os.environ["STEWARD_TEST_MARK"], "w").write("started")
    time.sleep(float(os.environ.get("STEWARD_TEST_SLEEP", "0")))
    return marts__daily_revenue
"""


def _kill_when_started(root: Path, steward_cmd: list[str], mark: Path) -> None:
    env = {**os.environ, "STEWARD_TEST_MARK": str(mark), "STEWARD_TEST_SLEEP": "60"}
    proc = subprocess.Popen([*steward_cmd, "run"], cwd=root, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not mark.exists():
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read()
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)


def test_a_killed_run_moves_nothing_and_the_next_run_rebuilds_consistently(
        starter: Path, steward_cmd: list[str], tmp_path: Path):
    write(starter, "models/marts/slow.py", SLOW)
    os.environ["STEWARD_TEST_MARK"] = str(tmp_path / "first")
    try:
        assert Context(starter).run().ok
    finally:
        os.environ.pop("STEWARD_TEST_MARK")
    before = {n: v.id for n, v in Context(starter).current().items()}
    write(starter, STAGING, (starter / STAGING).read_text().replace("amount > 0",
                                                                   "amount > 50"))
    _kill_when_started(starter, steward_cmd, tmp_path / "mark")
    mid = Context(starter)
    # staging and the mart were published by the killed run, yet prod moved not at all
    published = {v.product for v in mid.metastore.versions(status="published")
                 if v.id not in before.values()}
    assert {"staging.orders", "marts.daily_revenue"} <= published
    assert {n: v.id for n, v in mid.current().items()} == before
    os.environ["STEWARD_TEST_MARK"] = str(tmp_path / "again")
    try:
        r = Context(starter).run()
    finally:
        os.environ.pop("STEWARD_TEST_MARK")
    assert r.ok
    # the killed run's versions are reused; the slow product is built from them
    assert step(r, "staging.orders").status == "reused"
    assert step(r, "marts.slow").status == "built"
    assert staging_rows(starter) == 1
    assert_consistent(starter)


# -- 2. one consistent step per run ------------------------------------------------------
def test_pointers_move_together_at_the_end_of_a_run(starter: Path):
    assert Context(starter).run().ok
    write(starter, STAGING, (starter / STAGING).read_text().replace("amount > 0",
                                                                   "amount > 10"))
    r = Context(starter).run()
    ctx = Context(starter)
    runs_moves = [e for e in ctx.audit_trail().log(limit=None) if e.action == "run"]
    last = runs_moves[0]
    assert set(last.after["pointers"]) == {"staging.orders", "marts.daily_revenue"}
    assert last.after["run"] == r.run_id
    assert ctx.audit_trail().verify().ok


# -- 3. checks that read another product are ordered after it ---------------------------
def test_relationships_target_is_built_before_the_check_reads_it(tmp_path: Path):
    root = tmp_path / "rel"
    write(root, "steward.yaml", "name: rel\ndefaults: {owner: t@example.com}\n")
    write(root, "data/customers.csv", "id,name\n1,Ada\n2,Grace\n")
    write(root, "data/orders.csv", "id,customer_id\n10,1\n11,2\n")
    write(root, "sources/raw.yml", """\
        sources:
          raw.customers: {path: data/customers.csv}
          raw.orders: {path: data/orders.csv}
        """)
    # 'a_orders' sorts before 'z_customers': only the check's dependency orders them
    write(root, "models/s/a_orders.sql", "select * from raw.orders")
    write(root, "models/s/a_orders.yml", """\
        columns:
          customer_id:
            checks: [{relationships: {to: s.z_customers, field: id}}]
        checks:
          - sql:
              query: >-
                select * from {{ this }}
                where customer_id not in (select id from s.z_customers)
        """)
    write(root, "models/s/z_customers.sql",
          "select *, (select count(*) from range(200000)) as pad from raw.customers")
    ctx = Context(root)
    assert set(ctx.project.products["s.a_orders"].check_inputs) == {"s.z_customers"}
    r = ctx.run()
    assert r.ok, [s.error for s in r.steps]
    # a new customer table whose ids no longer match: the check reads the new version
    write(root, "data/customers.csv", "id,name\n1,Ada\n3,Linus\n")
    r = Context(root).run()
    assert step(r, "s.a_orders").status == "failed"
    assert "checks evaluated again" in step(r, "s.a_orders").error
    # the customers that broke orders' check are held back
    assert "s.z_customers" in r.held_back


def test_a_check_reading_a_product_built_from_it_is_a_load_error(tmp_path: Path):
    from steward.core.errors import ConfigError

    root = tmp_path / "cyc"
    write(root, "steward.yaml", "name: cyc\n")
    write(root, "data/a.csv", "id\n1\n")
    write(root, "sources/raw.yml", "sources:\n  raw.a: {path: data/a.csv}\n")
    write(root, "models/s/a.sql", "select * from raw.a")
    write(root, "models/s/a.yml",
          "columns:\n  id:\n    checks: [{relationships: {to: s.b, field: id}}]\n")
    write(root, "models/s/b.sql", "select * from s.a")
    with pytest.raises(ConfigError, match="a check of s.a reads a product built from it"):
        Context(root).project  # noqa: B018


# -- 4. new and changed checks run on kept data -----------------------------------------
def test_a_new_failing_check_on_kept_data_fails_the_run(starter: Path, steward_cmd):
    assert Context(starter).run().ok
    yml = starter / "models/staging/orders.yml"
    write(starter, "models/staging/orders.yml", yml.read_text()
          + "\nchecks: [{row_count: {min: 100}}]\n")
    plan = Context(starter).plan_build()
    assert plan.steps["staging.orders"].action == "keep"
    assert plan.steps["staging.orders"].recheck is True
    p = subprocess.run([*steward_cmd, "run"], cwd=starter, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "row_count" in p.stdout and "evaluated again" in p.stdout
    # fixed: the next run checks again, passes, and records what it checked with
    write(starter, "models/staging/orders.yml", yml.read_text().replace("min: 100", "min: 1"))
    r = Context(starter).run()
    assert r.ok and step(r, "staging.orders").status == "kept"
    assert Context(starter).plan_build().steps["staging.orders"].recheck is False


# -- 5. Python sources are fingerprinted by what they return -----------------------------
def test_python_source_whose_data_changed_is_rebuilt_with_its_downstream(tmp_path: Path):
    root = tmp_path / "py"
    data = tmp_path / "upstream.txt"
    data.write_text("1,2,3")
    write(root, "steward.yaml", "name: py\ndefaults: {owner: t@example.com}\n")
    write(root, "gen.py", f"""\
        import pyarrow as pa
        def make():
            return pa.table({{"x": [int(v) for v in open({str(data)!r}).read().split(",")]}})
        """)
    write(root, "sources/raw.yml", "sources:\n  raw.gen: {kind: python, callable: gen.py:make}\n")
    write(root, "models/m/total.sql", "select sum(x) as s from raw.gen")
    assert Context(root).run().ok
    r = Context(root).run()
    assert step(r, "raw.gen").status == "kept"
    assert any("output is unchanged" in n for n in r.notes.get("raw.gen", []))
    data.write_text("1,2,3,4")  # the callable's upstream changed; its code did not
    r = Context(root).run()
    assert step(r, "raw.gen").status == "built" and step(r, "m.total").status == "built"
    assert Context(root).sql("select s from m.total").to_pylist() == [{"s": 10}]


# -- 6. a same-size edit with its mtime restored is seen -------------------------------
def test_same_size_edit_with_restored_mtime_is_rebuilt(starter: Path):
    assert Context(starter).run().ok
    csv = starter / "data/orders.csv"
    st = os.stat(csv)
    csv.write_text(csv.read_text().replace("42.00", "43.00"))  # same size
    os.utime(csv, ns=(st.st_atime_ns, st.st_mtime_ns))  # touch -r
    assert os.stat(csv).st_size == st.st_size
    r = Context(starter).run()
    assert step(r, "raw.orders").status == "built"
    assert 43.0 in [row["revenue"] for row in mart_rows(starter)]


def test_rehash_reads_every_source_again(starter: Path, monkeypatch: pytest.MonkeyPatch):
    assert Context(starter).run().ok
    from steward.project import files

    read: list[str] = []
    real_open = open

    def spy(path, *a, **k):
        if str(path).endswith("orders.csv"):
            read.append(str(path))
        return real_open(path, *a, **k)

    monkeypatch.setattr("builtins.open", spy)
    Context(starter).project  # noqa: B018  (the stat cache answers)
    assert not read
    ctx = Context(starter)
    assert ctx.run(rehash=True).ok
    assert read, "--rehash read the source again"
    assert files.StatCache  # (the module the spy watches)


# -- 7. two products with the same SQL ----------------------------------------------------
def test_two_products_with_byte_identical_sql_both_build(starter: Path):
    sql = (starter / "models/marts/daily_revenue.sql").read_text()
    write(starter, "models/marts/daily_revenue_copy.sql", sql)
    r = Context(starter).run()
    assert r.ok, [s.error for s in r.steps]
    cur = Context(starter).current()
    a, b = cur["marts.daily_revenue"], cur["marts.daily_revenue_copy"]
    assert a.id != b.id and a.fingerprint != b.fingerprint
    assert a.product == "marts.daily_revenue" and b.product == "marts.daily_revenue_copy"
