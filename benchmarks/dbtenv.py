"""dbt-core and dbt-duckdb 1.11 in a virtualenv of their own, created once.

dbt-core 1.11 pins pathspec < 0.13 while mypy needs pathspec >= 1.0: dbt gets a venv of
its own (benchmarks/_work/dbt-venv, git-ignored) so it never breaks the dev environment.
The benchmarks and the dbt import tests share it.
"""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "_work")
DBT_VENV = os.path.join(WORK, "dbt-venv")
DBT_REQUIREMENTS = ["dbt-core>=1.11,<1.12", "dbt-duckdb>=1.11,<1.12"]
DBT = os.path.join(DBT_VENV, "bin", "dbt")
DBT_PYTHON = os.path.join(DBT_VENV, "bin", "python")


def ensure_dbt(explicit: str | None = None, quiet: bool = False) -> str:
    """The dbt executable: ``explicit``, else the one in benchmarks/_work/dbt-venv."""
    if explicit:
        return explicit
    if not os.path.exists(DBT):
        if not quiet:
            print(f"installing {', '.join(DBT_REQUIREMENTS)} into {DBT_VENV} ...", flush=True)
        os.makedirs(WORK, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "venv", DBT_VENV])
        subprocess.check_call([DBT_PYTHON, "-m", "pip", "install", "--quiet",
                               "--disable-pip-version-check", *DBT_REQUIREMENTS])
    return DBT
