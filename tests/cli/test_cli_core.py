"""The CLI as a user types it, in real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import write


def sh(cmd: list[str], cwd: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([*cmd, *args], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env={**__import__("os").environ, "COLUMNS": "200"})
    if ok:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_help_does_not_import_heavy_libraries():
    code = ("import sys; from steward.cli.main import app; "
            "heavy = [m for m in ('duckdb', 'pyarrow', 'sqlalchemy', 'sqlglot', 'pandas', "
            "'polars') if m in sys.modules]; print(','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_init_run_ls_show_sql_log_runs(tmp_path: Path, steward_cmd):
    sh(steward_cmd, tmp_path, "init", "shop")
    root = tmp_path / "shop"
    out = sh(steward_cmd, root, "run").stdout
    assert "built raw.orders" in out and "success: 3 built" in out
    assert "3 kept" in sh(steward_cmd, root, "run").stdout
    ls = json.loads(sh(steward_cmd, root, "ls", "--json").stdout)
    assert {r["name"]: r["rows"] for r in ls} == {
        "marts.daily_revenue": 3, "raw.orders": 4, "staging.orders": 4}
    show = json.loads(sh(steward_cmd, root, "show", "staging.orders", "--json").stdout)
    assert show["version"]["rows"] == 4 and show["inputs"] == ["raw.orders"]
    assert [c["name"] for c in show["version"]["schema"]][:2] == ["order_id", "customer"]
    assert "Orders with positive amounts" in sh(steward_cmd, root, "show", "staging.orders").stdout
    rows = json.loads(sh(steward_cmd, root, "sql", "select sum(orders) as n from daily_revenue",
                         "--json").stdout)
    assert rows == [{"n": 4}]
    log = json.loads(sh(steward_cmd, root, "log", "marts.daily_revenue", "--json").stdout)
    assert len(log) == 1 and log[0]["environments"] == ["prod"]
    runs = json.loads(sh(steward_cmd, root, "runs", "--json").stdout)
    assert [r["status"] for r in runs] == ["success", "success"]
    steps = json.loads(sh(steward_cmd, root, "runs", runs[-1]["id"], "--json").stdout)
    assert {s["status"] for s in steps} == {"built"}


def test_run_json_events(starter: Path, steward_cmd):
    lines = [json.loads(x) for x in sh(steward_cmd, starter, "run", "--json").stdout.splitlines()]
    # the run's events, then where its time went (the phases event comes last)
    assert lines[-1]["event"] == "phases" and "build" in lines[-1]["phases"]
    lines = lines[:-1]
    assert lines[0]["event"] == "run_started" and lines[-1]["event"] == "run_finished"
    finished = [x for x in lines if x["event"] == "step_finished"]
    assert {x["product"]: x["status"] for x in finished} == {
        "raw.orders": "built", "staging.orders": "built", "marts.daily_revenue": "built"}
    assert lines[-1]["counts"]["built"] == 3


def test_config_error_exit_code_2_lists_every_problem(starter: Path, steward_cmd):
    write(starter, "steward.yaml", "name: s\nengin: {type: duckdb}\n")
    write(starter, "models/marts/daily_revenue.sql", "select * from nowhere\n")
    proc = sh(steward_cmd, starter, "run", ok=False)
    assert proc.returncode == 2
    assert "steward.yaml:2: unknown key 'engin'" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_failed_run_exits_non_zero_with_a_summary(starter: Path, steward_cmd):
    write(starter, "models/marts/daily_revenue.sql", "select missing_col from staging.orders")
    write(starter, "models/marts/daily_revenue.yml", "description: broken\n")
    proc = sh(steward_cmd, starter, "run", ok=False)
    assert proc.returncode == 1
    assert "failed marts.daily_revenue" in proc.stdout and "missing_col" in proc.stdout
    assert "failed: 2 built, 1 failed" in proc.stdout


def test_unknown_product_and_no_project_are_clear(tmp_path: Path, steward_cmd):
    proc = sh(steward_cmd, tmp_path, "ls", ok=False)
    assert proc.returncode == 2
    assert "no steward.yaml" in proc.stderr and "steward init" in proc.stderr
    sh(steward_cmd, tmp_path, "init", "p")
    proc = sh(steward_cmd, tmp_path / "p", "show", "staging.ordrs", ok=False)
    assert proc.returncode == 1 and "did you mean 'staging.orders'" in proc.stderr


def test_counts_are_pluralised(starter: Path, steward_cmd):
    write(starter, "models/marts/one.sql", "select 1 as x\n")
    out = sh(steward_cmd, starter, "run").stdout
    assert "built marts.one  1 row in" in out
    assert "built staging.orders  4 rows in" in out
    show = sh(steward_cmd, starter, "show", "marts.one").stdout
    assert "(1 row, " in show
    card = sh(steward_cmd, starter, "catalog", "show", "marts.one").stdout
    assert " 1 row " in card
    for text in (out, show, card):
        assert "1 rows" not in text and "row(s)" not in text
    checks = sh(steward_cmd, starter, "check", "show", "staging.orders").stdout
    assert "all 4 rows pass" in checks and "row(s)" not in checks
