"""Kill runs, promotions, rollbacks and gc at many points; the invariants always hold.

After every kill -9: each version an environment points at has its files and they match
their hash; every environment pointer matches what the audit trail's replayed moves say;
every version in an environment was built from the versions its inputs have there; the
audit chain verifies; and the next run recovers and succeeds.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest

from steward.context import Context
from tests.conftest import write

pytestmark = pytest.mark.slow

SLOW = """\
import os, time
from steward import product

@product()
def slow(marts__daily_revenue):
    time.sleep(float(os.environ.get("STEWARD_TEST_SLEEP", "0")))
    return marts__daily_revenue
"""

BUDGET_S = 75  # wall-clock bound of the loop (each iteration runs several processes)


def invariants(root: Path, what: str) -> None:
    ctx = Context(root)
    v = ctx.verify(deep=True)
    severe = [f for f in v.findings if f.severe]
    assert not severe, f"after killing {what}: {[f.to_json() for f in severe]}"
    behind = [f for f in v.findings if f.kind == "behind"]
    assert not behind, f"after killing {what}: {[f.to_json() for f in behind]}"
    assert ctx.audit_trail().verify().ok, f"after killing {what}"
    for env in ("prod", "dev"):
        for name, ver in ctx.current(env).items():
            assert ver.status == "published", (what, env, name, ver.status)


def kill_after(cmd: list[str], root: Path, delay: float, env: dict[str, str]) -> int | None:
    """Start ``cmd``, kill -9 it after ``delay`` seconds (if still running)."""
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.01)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=60)


# (command, the named point it dies at): every window between a file and its record
POINTS = [
    ("run", "store.after_rename"),
    ("run", "run.after_publish"),
    ("run", "run.before_commit"),
    ("run", "moves.in_txn"),
    ("run", "run.after_commit"),
    ("run", "audit.before_head"),
    ("promote", "moves.in_txn"),
    ("promote", "audit.before_head"),
    ("rollback", "moves.in_txn"),
    ("gc", "gc.after_rows"),
    ("gc", "gc.after_folder"),
]


def test_killed_at_each_named_point_the_invariants_hold(starter: Path, steward_cmd):
    write(starter, "models/marts/slow.py", SLOW)
    staging = starter / "models/staging/orders.sql"
    base = staging.read_text()
    env = dict(os.environ)

    def steward(*args: str, fault: str | None = None) -> subprocess.CompletedProcess:
        e = {**env, "STEWARD_FAULT": fault} if fault else env
        return subprocess.run([*steward_cmd, *args], cwd=starter, env=e,
                              capture_output=True, text=True, timeout=120)

    assert steward("run").returncode == 0
    assert steward("env", "create", "dev", "--from", "prod").returncode == 0
    for i, (op, point) in enumerate(POINTS, start=1):
        staging.write_text(base.replace("amount > 0", f"amount > {i % 7 + 1}"))
        if op in ("promote", "rollback", "gc"):
            assert steward("run", "--env", "dev").returncode == 0
        args = {"run": ["run", "--env", "dev"], "promote": ["promote", "dev", "prod"],
                "rollback": ["rollback", "staging.orders", "--env", "dev", "--downstream"],
                "gc": ["gc", "--keep-last", "1", "--keep-days", "0"]}[op]
        p = steward(*args, fault=point)
        assert p.returncode == -signal.SIGKILL, f"{op} never reached {point}: {p.stderr}"
        invariants(starter, f"{op} at {point}")
        assert steward("run", "--env", "dev").returncode == 0
        assert steward("run").returncode == 0
        invariants(starter, f"the runs after {op} at {point}")
    # the collections killed mid-way left folders behind; the next one takes them
    assert steward("gc", "--keep-last", "1", "--keep-days", "0").returncode == 0
    assert not [f for f in Context(starter).verify().findings if f.kind == "orphan"]


def test_kill_anything_anywhere_and_the_invariants_hold(starter: Path, steward_cmd):
    rng = random.Random(20261202)
    env = {**os.environ, "STEWARD_TEST_SLEEP": "0.4"}
    write(starter, "models/marts/slow.py", SLOW)
    staging = starter / "models/staging/orders.sql"
    base = staging.read_text()

    def settle() -> None:
        p = subprocess.run([*steward_cmd, "run"], cwd=starter, env=env, capture_output=True,
                           text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr

    settle()
    assert subprocess.run([*steward_cmd, "env", "create", "dev", "--from", "prod"],
                          cwd=starter, capture_output=True, timeout=60).returncode == 0
    started = time.monotonic()
    kills = 0
    i = 0
    while time.monotonic() - started < BUDGET_S:
        i += 1
        staging.write_text(base.replace("amount > 0", f"amount > {i % 7}"))
        op = ["run", "run-dev", "promote", "rollback", "gc"][i % 5]
        cmd = {
            "run": [*steward_cmd, "run"],
            "run-dev": [*steward_cmd, "run", "--env", "dev"],
            "promote": [*steward_cmd, "promote", "dev", "prod"],
            "rollback": [*steward_cmd, "rollback", "staging.orders", "--env", "dev",
                         "--downstream"],
            "gc": [*steward_cmd, "gc", "--keep-last", "1", "--keep-days", "0"],
        }[op]
        if op in ("promote", "rollback"):
            # something to promote or roll back: a fresh build in dev first
            subprocess.run([*steward_cmd, "run", "--env", "dev"], cwd=starter, env=env,
                           capture_output=True, timeout=120)
        delay = rng.uniform(0.05, 1.6)
        code = kill_after(cmd, starter, delay, env)
        kills += code == -signal.SIGKILL
        invariants(starter, f"{op} after {delay:.2f}s (iteration {i})")
        settle()  # the next run recovers
        invariants(starter, f"the run after {op} (iteration {i})")
    assert kills >= 5, f"only {kills} of {i} commands were killed mid-way"
    ctx = Context(starter)
    events = {e.action for e in ctx.audit_trail().log(limit=None)}
    assert {"run", "env.create"} <= events
