"""An exported contract passes datacontract-cli: ``lint`` without warnings, and ``test``
against the version's Parquet files (datacontract-cli in its own virtualenv)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from qhelpers import base_files
from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from dcenv import DC_VENV, ensure_datacontract  # noqa: E402

pytestmark = pytest.mark.slow

CHECKED = """\
description: Orders, typed.
tags: [sales]
primary_key: [order_id]
freshness: {column: ordered_at, error_after: 3650d}
columns:
  order_id: {type: BIGINT, nullable: false, checks: [unique]}
  status: {checks: [{accepted_values: {values: [paid, refunded, lost]}}]}
  amount: {checks: [{range: {min: -10, max: 1000}}]}
checks:
  - row_count: {min: 1, max: 100}
  - not_null: {column: order_id}
"""


@pytest.fixture(scope="session")
def datacontract() -> str:
    from filelock import FileLock

    os.makedirs(os.path.dirname(DC_VENV), exist_ok=True)
    with FileLock(DC_VENV + ".lock"):
        try:
            return ensure_datacontract(quiet=True)
        except (subprocess.CalledProcessError, OSError) as e:
            pytest.fail(f"datacontract-cli could not be installed into {DC_VENV}: {e}",
                        pytrace=False)


def test_exported_contract_lints_and_tests_clean(project, tmp_path: Path,
                                                 datacontract: str) -> None:
    root = project(base_files(CHECKED))
    assert Context(root).run().ok
    out = tmp_path / "orders.odcs.yaml"
    res = CliRunner().invoke(app, ["contract", "export", "staging.orders", "-o", str(out),
                                   "--project", str(root)])
    assert res.exit_code == 0, res.output
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1"}
    lint = subprocess.run([datacontract, "lint", str(out)], capture_output=True, text=True,
                          env=env, timeout=600)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert "valid" in lint.stdout and "warning" not in lint.stdout.lower()
    test = subprocess.run([datacontract, "test", str(out)], capture_output=True, text=True,
                          env=env, timeout=600, cwd=tmp_path)
    assert test.returncode == 0, test.stdout + test.stderr
    rows = [line for line in test.stdout.splitlines() if line.startswith("│ ")]
    assert not [r for r in rows if r.startswith("│ failed")], test.stdout
    # datacontract's only warnings: it cannot check column types in Parquet files
    assert all("not supported" in r for r in rows if r.startswith("│ warning")), test.stdout
    passed = " ".join(r for r in rows if r.startswith("│ passed"))
    for check in ("row_count between 1 and 100", "order_id has duplicate_count = 0",
                  "order_id has missing_count = 0", "status has invalid_count = 0",
                  "Quality Check"):
        assert check in passed, (check, test.stdout)

    # the same contract with a stricter rule fails on the data: the rules do run
    doc = yaml.safe_load(out.read_text())
    status = next(p for p in doc["schema"][0]["properties"] if p["name"] == "status")
    status["quality"][0]["arguments"]["validValues"] = ["paid", "refunded"]
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    bad = subprocess.run([datacontract, "test", str(out)], capture_output=True, text=True,
                         env=env, timeout=600, cwd=tmp_path)
    assert bad.returncode != 0
    assert any(line.startswith("│ failed") and "status" in line
               for line in bad.stdout.splitlines()), bad.stdout
