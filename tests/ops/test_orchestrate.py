"""The orchestrator adapters: the command a task runs, the exit-code mapping, and a real
run through the subprocess an Airflow or Dagster task would start."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from steward.ops.orchestrate import (
    StewardRunFailed,
    airflow_bash_kwargs,
    outcome,
    run_selection,
    steward_command,
)
from tests.conftest import BIN


def test_command() -> None:
    assert steward_command(["marts.*", "tag:daily"], "prod", "/p", exclude=["a", "b"],
                           full_refresh=True, wait=30) == [
        "steward", "run", "marts.*", "tag:daily", "--exclude", "a", "--exclude", "b",
        "--env", "prod", "--project", "/p", "--full-refresh", "--wait", "30", "--json"]
    assert steward_command(wait=None) == ["steward", "run", "--json"]


def test_exit_codes() -> None:
    assert outcome(0).ok and outcome(0).name == "success"
    assert (outcome(1).name, outcome(1).retry) == ("failed", False)
    assert (outcome(2).name, outcome(2).retry) == ("bad_input", False)
    assert (outcome(3).name, outcome(3).retry) == ("locked", True)
    assert (outcome(4).name, outcome(4).retry) == ("integrity", False)
    assert (outcome(137).name, outcome(137).retry) == ("error", True)


def test_airflow_kwargs() -> None:
    kw = airflow_bash_kwargs("build_marts", ["marts.*"], "prod", "/srv/shop")
    assert kw["task_id"] == "build_marts" and kw["cwd"] == "/srv/shop"
    assert shlex.split(kw["bash_command"])[:3] == ["steward", "run", "marts.*"]


def _exe() -> str:
    exe = BIN / "steward"
    return str(exe) if exe.exists() else sys.executable


def test_run_selection_for_real(starter: Path) -> None:
    doc = run_selection(["+staging.orders"], "dev", str(starter), executable=_exe())
    assert doc["status"] == "success" and doc["env"] == "dev"
    with pytest.raises(StewardRunFailed) as e:
        run_selection(["no_such_product"], "dev", str(starter), executable=_exe())
    assert e.value.outcome.name == "bad_input" and "no_such_product" in str(e.value)
