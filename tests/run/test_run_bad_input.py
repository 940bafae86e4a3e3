"""Bad input gets one precise message, and every published version stays intact."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from steward.context import Context
from tests.conftest import write


def step(result, product):
    return next(s for s in result.steps if s.product == product)


def test_malformed_csv_row_names_file_and_line(starter: Path):
    with open(starter / "data" / "orders.csv", "a") as f:
        f.write("5,Eve,3.0,2026-01-05 10:00:00,unexpected\n")
    write(starter, "sources/raw.yml", (starter / "sources/raw.yml").read_text().replace(
        "    path: data/orders.csv\n", "    path: data/orders.csv\n    options: {delim: ','}\n"))
    result = Context(starter).run()
    s = step(result, "raw.orders")
    assert s.status == "failed"
    assert "orders.csv:6" in s.error
    assert step(result, "staging.orders").status == "skipped"


def test_value_that_does_not_cast_names_file_line_and_column(starter: Path):
    with open(starter / "data" / "orders.csv", "a") as f:
        f.write("five,Eve,3.0,2026-01-05 10:00:00\n")
    result = Context(starter).run()
    s = step(result, "raw.orders")
    assert s.status == "failed"
    assert "orders.csv:6" in s.error and '"order_id"' in s.error and "five" in s.error


def test_bad_rows_can_be_quarantined(starter: Path):
    with open(starter / "data" / "orders.csv", "a") as f:
        f.write("five,Eve,3.0,2026-01-05 10:00:00\n")
    text = (starter / "sources/raw.yml").read_text()
    write(starter, "sources/raw.yml", text.replace("    path: data/orders.csv\n",
                                                   "    path: data/orders.csv\n"
                                                   "    on_error: quarantine\n"))
    ctx = Context(starter)
    result = ctx.run()
    assert result.ok
    assert ctx.current()["raw.orders"].row_count == 4
    assert any("1 malformed row(s) quarantined" in n for n in result.notes["raw.orders"])
    import duckdb

    qfile = Path(ctx.store.path(ctx.current()["raw.orders"].path)) / "quarantine" / \
        "rejected_rows.parquet"
    [(line, col)] = duckdb.sql(f"select line, column_name from '{qfile}'").fetchall()
    assert (line, col) == (6, "order_id")


SLOW_PRODUCT = """\
import os, time
from steward import product

@product()
def slow(staging__orders):
    open(os.environ["STEWARD_TEST_MARK"], "w").write("started")
    time.sleep(float(os.environ.get("STEWARD_TEST_SLEEP", "0")))
    return staging__orders
"""


def _start_slow_run(starter: Path, steward_cmd: list[str], mark: Path) -> subprocess.Popen:
    write(starter, "models/marts/slow.py", SLOW_PRODUCT)
    env = {**os.environ, "STEWARD_TEST_MARK": str(mark), "STEWARD_TEST_SLEEP": "60"}
    proc = subprocess.Popen([*steward_cmd, "run"], cwd=starter, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(600):
        if mark.exists():
            return proc
        time.sleep(0.05)
    proc.kill()
    raise AssertionError("the slow product never started: " + proc.stderr.read().decode())


def test_kill_9_mid_run_then_the_next_run_recovers(starter: Path, steward_cmd, tmp_path):
    ctx = Context(starter)
    ctx.run()
    before = {n: v.id for n, v in ctx.current().items()}
    write(starter, "models/marts/daily_revenue.sql",
          "select order_date, count(*) as orders, sum(amount) * 1.0 as revenue "
          "from staging.orders group by order_date")
    proc = _start_slow_run(starter, steward_cmd, tmp_path / "mark")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # nothing half-written is visible: published versions are the ones from before, or
    # complete new ones
    mid = Context(starter)
    for name, v in mid.current().items():
        assert v.status == "published"
        assert mid.store.data_files(v.path), f"{name} points at a version without files"
    assert mid.current()["raw.orders"].id == before["raw.orders"]
    building = [v for v in mid.metastore.versions() if v.status == "building"]
    assert building, "the killed run left its in-progress version behind"
    # the next run recovers: marks the dead run aborted, cleans scratch, builds the rest
    write(starter, "models/marts/slow.py", SLOW_PRODUCT.replace("time.sleep", "float"))
    env_mark = tmp_path / "mark2"
    os.environ["STEWARD_TEST_MARK"] = str(env_mark)
    try:
        after = Context(starter)
        result = after.run()
    finally:
        os.environ.pop("STEWARD_TEST_MARK")
    assert result.ok
    runs = after.metastore.runs()
    assert any(r.status == "aborted" for r in runs)
    assert not [v for v in after.metastore.versions() if v.status == "building"]
    scratch = Path(after.store.root) / ".scratch"
    assert not scratch.exists() or not list(scratch.iterdir())
    assert "marts.slow" in after.current()


def test_two_runs_at_once_the_second_refuses_clearly(starter: Path, steward_cmd, tmp_path):
    proc = _start_slow_run(starter, steward_cmd, tmp_path / "mark")
    try:
        second = subprocess.run([*steward_cmd, "run"], cwd=starter, capture_output=True,
                                text=True, timeout=120)
        assert second.returncode == 3
        assert "another Steward process is working on this project" in second.stderr
        assert "nothing was changed" in second.stderr
    finally:
        proc.kill()
        proc.wait(timeout=30)
    ctx = Context(starter)
    # the interrupted first run is recovered by the next one; nothing is corrupted
    write(starter, "models/marts/slow.py", SLOW_PRODUCT.replace("time.sleep", "float"))
    os.environ["STEWARD_TEST_MARK"] = str(tmp_path / "m3")
    try:
        assert ctx.run().ok
    finally:
        os.environ.pop("STEWARD_TEST_MARK")


def test_second_run_can_wait_for_the_first(starter: Path, steward_cmd, tmp_path):
    write(starter, "models/marts/slow.py", SLOW_PRODUCT)
    env = {**os.environ, "STEWARD_TEST_MARK": str(tmp_path / "m"), "STEWARD_TEST_SLEEP": "1"}
    first = subprocess.Popen([*steward_cmd, "run"], cwd=starter, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not (tmp_path / "m").exists():
        assert time.monotonic() < deadline and first.poll() is None, "the first run never started"
        time.sleep(0.05)
    second = subprocess.run([*steward_cmd, "run", "--wait", "120"], cwd=starter, env=env,
                            capture_output=True, text=True, timeout=180)
    assert first.wait(timeout=120) == 0
    assert second.returncode == 0, second.stderr
    assert "kept" in second.stdout or "nothing to do" in second.stdout or "success" in second.stdout


def test_a_model_calling_sys_exit_is_a_failed_step(starter: Path):
    write(starter, "models/marts/quits.py", """\
from steward import product

@product()
def quits(staging__orders):
    import sys
    sys.exit(3)
""")
    result = Context(starter).run()
    s = step(result, "marts.quits")
    assert s.status == "failed" and "called sys.exit(3)" in s.error
    assert step(result, "marts.daily_revenue").status == "built"  # the rest went on
    assert "marts.daily_revenue" in Context(starter).current()


def test_ctrl_c_records_the_run_as_cancelled_and_moves_nothing(starter: Path, steward_cmd,
                                                               tmp_path):
    Context(starter).run()
    before = {n: v.id for n, v in Context(starter).current().items()}
    write(starter, "models/staging/orders.sql",
          (starter / "models/staging/orders.sql").read_text().replace("> 0", "> 1"))
    proc = _start_slow_run(starter, steward_cmd, tmp_path / "mark")
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"interrupted" in err and b"nothing in 'prod' moved" in err
    ctx = Context(starter)
    assert ctx.runs(1)[0].status == "cancelled"
    assert {n: v.id for n, v in ctx.current().items() if n in before} == before
    assert not [v for v in ctx.metastore.versions() if v.status == "building"]
    write(starter, "models/marts/slow.py", SLOW_PRODUCT.replace("time.sleep", "float"))
    os.environ["STEWARD_TEST_MARK"] = str(tmp_path / "m4")
    try:
        assert Context(starter).run().ok
    finally:
        os.environ.pop("STEWARD_TEST_MARK")


def _undeclared_source(root: Path, csv: str, options: str = "") -> None:
    write(root, "steward.yaml", "name: csvs\n")
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data/x.csv").write_bytes(csv.encode("latin-1"))
    write(root, "sources/raw.yml", "sources:\n  raw.x:\n    owner: t@example.com\n"
                                   f"    path: data/x.csv\n{options}")


def test_a_csv_read_as_one_column_warns_about_the_delimiter(tmp_path: Path):
    root = tmp_path / "p"
    _undeclared_source(root, "a,b,c\n1,2,3\n4,5,6\n", "    options: {delim: ';'}\n")
    r = Context(root).run()
    assert [c.name for c in Context(root).current()["raw.x"].schema] == ["a,b,c"]
    [note] = r.notes["raw.x"]
    assert "read as one column 'a,b,c'" in note and "{delim: ','}" in note
    _undeclared_source(root, "a#b#c\n1#2#3\n")  # a delimiter the sniffer does not try
    r = Context(root).run()
    assert any("{delim: '#'}" in n for n in r.notes["raw.x"])
    _undeclared_source(root, "a,b,c\n1,2,3\n")  # read right: nothing to say
    assert not Context(root).run().notes.get("raw.x")


def test_na_markers_in_an_undeclared_numeric_column_are_named(tmp_path: Path):
    root = tmp_path / "p"
    rows = "\n".join(f"{i},{i * 1.5}" for i in range(50))
    _undeclared_source(root, f"id,amount\n{rows}\n50,NA\n51,NA\n")
    r = Context(root).run()
    [note] = [n for n in r.notes.get("raw.x", []) if "'amount'" in n]
    assert "'NA'" in note and "nullstr" in note and "2 of 52 are not numbers" in note


def test_csv_errors_name_the_encoding_the_null_marker_and_the_line_size(starter: Path):
    csv = starter / "data/orders.csv"
    csv.write_bytes(csv.read_bytes() + "5,Andr\xe9,3.0,2026-01-05 10:00:00\n".encode("latin-1"))
    s = step(Context(starter).run(), "raw.orders")
    assert s.status == "failed" and "orders.csv:6: not valid UTF-8" in s.error
    assert "encoding: latin-1" in s.error and "order_id,customer" not in s.error
    csv.write_text(csv.read_text(encoding="latin-1").splitlines()[0] + "\n"
                   "1,Ada,NA,2026-01-02 10:00:00\n")
    s = step(Context(starter).run(), "raw.orders")
    assert "nullstr: 'NA'" in s.error
    csv.write_text("order_id,customer,amount,ordered_at\n1," + "G" * 3_000_000
                   + ",1.0,2026-01-02 10:00:00\n")
    s = step(Context(starter).run(), "raw.orders")
    assert "more than the reader's max_line_size of 2,000,000" in s.error
    assert len(s.error) < 1000  # the 3 MB line is not printed
