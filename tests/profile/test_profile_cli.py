"""The profile, drift, metrics and report commands."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context

runner = CliRunner()


def _run(*args: str) -> str:
    res = runner.invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return res.output


def _two_versions(root: Path) -> tuple[str, str]:
    ctx = Context(root)
    ctx.run()
    first = ctx.current()["staging.orders"].id
    csv = root / "data" / "orders.csv"
    csv.write_text(csv.read_text() + "5,Edsger,1000.00,2026-02-01 08:00:00\n")
    Context(root).run(env="dev")
    return first, Context(root).current("dev")["staging.orders"].id


def test_profile_table_and_json(starter: Path):
    Context(starter).run()
    out = _run("profile", "staging.orders", "-p", str(starter))
    assert "amount" in out and "4 rows" in out and "Ada 50%" in out
    assert any(ch in out for ch in "▁▂▃▄▅▆▇█")  # sparkline histogram
    data = json.loads(_run("profile", "daily_revenue", "--json", "-p", str(starter)))
    assert data["profile"]["columns"]["revenue"]["histogram"]["counts"]


def test_drift_by_env_names_and_version_ids(starter: Path):
    first, second = _two_versions(starter)
    d = json.loads(_run("drift", "staging.orders", "prod", "dev", "--json", "-p", str(starter)))
    assert (d["from"], d["to"]) == (first, second) and d["rows"] == [4, 5]
    assert d["columns"]["amount"]["ks"] > 0
    d2 = json.loads(_run("drift", "staging.orders", first, second, "--json", "-p", str(starter)))
    assert d2["columns"] == d["columns"]
    text = _run("drift", "staging.orders", "prod", "dev", "-p", str(starter))
    assert "4 → 5" in text and "psi" in text


def test_drift_errors_are_one_message(starter: Path):
    Context(starter).run()
    res = runner.invoke(app, ["drift", "staging.orders", "nope", "prod", "-p", str(starter)])
    assert res.exit_code != 0 and "neither a version" in str(res.exception or res.output)


def test_metrics_series(starter: Path):
    _two_versions(starter)
    pts = json.loads(_run("metrics", "staging.orders", "--metric", "row_count", "--json",
                          "-p", str(starter)))
    assert [p["value"] for p in pts] == [4.0, 5.0]
    out = _run("metrics", "staging.orders", "-p", str(starter))
    assert "null_fraction" in out and "build_duration_s" in out


def test_report_writes_a_self_contained_file(starter: Path, tmp_path: Path):
    _two_versions(starter)
    out = tmp_path / "r.html"
    _run("report", "staging.orders", "-o", str(out), "--env", "dev", "-p", str(starter))
    html = out.read_text()
    assert html.count("<svg") >= 5 and "http://" not in html and "https://" not in html
    assert "Drift against the previous version" in html
