"""datacontract-cli in a virtualenv of its own (benchmarks/_work/datacontract-venv,
git-ignored), created once: its dependencies (ibis, soda...) stay out of the dev
environment. The ODCS tests run ``datacontract lint`` and ``datacontract test`` from it.
"""

from __future__ import annotations

import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
WORK = os.path.join(HERE, "_work")
DC_VENV = os.path.join(WORK, "datacontract-venv")
DC_REQUIREMENTS = ["datacontract-cli[duckdb]>=1.2,<1.3"]
DATACONTRACT = os.path.join(DC_VENV, "bin", "datacontract")


def ensure_datacontract(quiet: bool = False) -> str:
    """The datacontract executable, installed on first use."""
    if not os.path.exists(DATACONTRACT):
        if not quiet:
            print(f"installing {', '.join(DC_REQUIREMENTS)} into {DC_VENV} ...", flush=True)
        os.makedirs(WORK, exist_ok=True)
        subprocess.check_call([sys.executable, "-m", "venv", DC_VENV])
        subprocess.check_call([os.path.join(DC_VENV, "bin", "python"), "-m", "pip", "install",
                               "--quiet", "--disable-pip-version-check", *DC_REQUIREMENTS])
    return DATACONTRACT
