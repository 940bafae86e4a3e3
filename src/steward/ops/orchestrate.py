"""Running Steward selections from an orchestrator (Airflow, Dagster) that already runs
the team's pipelines. Neither is a dependency: these functions build the command a task
runs and say what its exit code means; docs/operations.md shows them in a DAG and a job.

Exit codes of ``steward run``: 0 every product built or reused; 1 a run that failed (a
build error or a blocking check: the data needs a fix, a retry will not help); 2 bad
input (a project or selection error: fix the code); 3 the project is locked by another
run (retry later); 4 an integrity problem (``steward verify``); 130 cancelled.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

OUTCOMES = {0: ("success", False), 1: ("failed", False), 2: ("bad_input", False),
            3: ("locked", True), 4: ("integrity", False), 130: ("cancelled", True)}


@dataclass(frozen=True)
class Outcome:
    code: int
    name: str
    retry: bool  # would running it again later help?

    @property
    def ok(self) -> bool:
        return self.code == 0


def outcome(code: int) -> Outcome:
    """What ``steward run``'s exit ``code`` means to an orchestrator."""
    name, retry = OUTCOMES.get(code, ("error", True))
    return Outcome(code, name, retry)


def steward_command(select: Sequence[str] = (), env: str | None = None,
                    project_dir: str | None = None, exclude: Sequence[str] = (),
                    full_refresh: bool = False, wait: float | None = 600,
                    executable: str = "steward") -> list[str]:
    """The ``steward run`` command line of one task (JSON output, waiting for the lock)."""
    cmd = [executable, "run", *select]
    for x in exclude:
        cmd += ["--exclude", x]
    if env:
        cmd += ["--env", env]
    if project_dir:
        cmd += ["--project", project_dir]
    if full_refresh:
        cmd.append("--full-refresh")
    if wait:
        cmd += ["--wait", f"{wait:g}"]
    cmd.append("--json")
    return cmd


def airflow_bash_kwargs(task_id: str, select: Sequence[str] = (), env: str | None = None,
                        project_dir: str | None = None, **options: Any) -> dict[str, Any]:
    """Keyword arguments of an Airflow ``BashOperator`` running a selection: a bad input
    is not retried (exit 2 fails at once), a locked project is (exit 3)."""
    import shlex

    return {"task_id": task_id,
            "bash_command": shlex.join(steward_command(select, env, project_dir, **options)),
            "cwd": project_dir, "append_env": True}


class StewardRunFailed(Exception):
    def __init__(self, result: Outcome, output: str):
        super().__init__(f"steward run {result.name} (exit {result.code}): "
                         f"{output.strip()[-500:]}")
        self.outcome = result


def run_selection(select: Sequence[str] = (), env: str | None = None,
                  project_dir: str | None = None, **options: Any) -> dict[str, Any]:
    """Run a selection in a subprocess (a Dagster op's body, an Airflow PythonOperator's
    callable): the run's last event (run_finished: status, counts) as a dict, or
    :class:`StewardRunFailed` with its outcome."""
    cmd = steward_command(select, env, project_dir, **options)
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=project_dir)
    result = outcome(p.returncode)
    if not result.ok:
        raise StewardRunFailed(result, p.stderr or p.stdout)
    # --json prints one event a line; the run's summary is its run_finished event (a
    # phases event follows it)
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            event = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("event") == "run_finished":
            return event
    return {"output": p.stdout}
