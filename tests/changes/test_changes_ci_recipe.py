"""The pull-request recipe of docs/change-management.md, end to end through the CLI."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from chelpers import staging_sql


def sh(cmd: list[str], cwd: Path, ok: bool = True) -> subprocess.CompletedProcess[str]:
    r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120)
    assert (r.returncode == 0) == ok, (cmd, r.stdout, r.stderr)
    return r


def test_pull_request_recipe(built: Path, steward_cmd: list[str]) -> None:
    s = steward_cmd
    # the PR adds a column and changes a filter
    staging_sql(built, extra=", amount * 100 as amount_cents", where="amount > 1")
    # 1. plan, posted as a review summary
    plan = json.loads(sh([*s, "plan", "--env", "pr-123", "--json"], built).stdout)
    assert plan["schema_version"] == 1 and plan["env_exists"] is False
    changed = [c["product"] for c in plan["changes"]]
    assert changed == ["staging.orders"]
    assert plan["changes"][0]["category"] == "breaking"
    # 2. build the PR environment, gated on checks (non-zero exit fails the job)
    sh([*s, "run", "--env", "pr-123"], built)
    # 3. diff each changed product against prod
    for product in changed:
        d = json.loads(sh([*s, "diff", product, "prod", "pr-123", "--json"], built).stdout)
        assert d["mode"] == "keyed"
        assert d["schema"]["added"][0]["name"] == "amount_cents"
    # 4. on merge: promote
    out = sh([*s, "promote", "pr-123", "prod", "--message", "PR #123"], built).stdout
    assert "promoted 2 products" in out
    after = json.loads(sh([*s, "plan", "--json"], built).stdout)
    assert after["summary"]["build"] == 0 and after["changes"] == []


def test_pull_request_with_failing_checks_cannot_be_promoted(built: Path,
                                                             steward_cmd: list[str]) -> None:
    s = steward_cmd
    staging_sql(built, amount="amount - 1000")  # negative amounts fail range(min 0)
    sh([*s, "run", "--env", "pr-7"], built, ok=False)
    r = sh([*s, "promote", "pr-7", "prod"], built, ok=False)
    assert "failed gates" in r.stderr and "Traceback" not in r.stderr
