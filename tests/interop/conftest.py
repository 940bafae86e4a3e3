"""dbt-core and dbt-duckdb 1.11, installed once into their own virtualenv
(benchmarks/_work/dbt-venv, shared with the benchmarks)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from dbtenv import DBT_VENV, ensure_dbt  # noqa: E402


@pytest.fixture(scope="session")
def dbt_exe() -> str:
    from filelock import FileLock

    os.makedirs(os.path.dirname(DBT_VENV), exist_ok=True)
    with FileLock(DBT_VENV + ".lock"):  # (test workers share one install)
        try:
            return ensure_dbt(quiet=True)
        except (subprocess.CalledProcessError, OSError) as e:
            pytest.fail(f"dbt-core/dbt-duckdb 1.11 could not be installed into {DBT_VENV}: {e}."
                        " The dbt comparison needs them (pip must reach the package index).",
                        pytrace=False)
