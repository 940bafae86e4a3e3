"""The change-management commands through the CLI, and alias versions under gc."""

from __future__ import annotations

import json
import os
from pathlib import Path

from chelpers import fresh, staging_sql
from typer.testing import CliRunner

from steward.cli.main import app
from steward.run.gc import gc


def cli(root: Path, *args: str, code: int = 0) -> str:
    r = CliRunner().invoke(app, [*args, "-p", str(root)])
    assert r.exit_code == code, r.output
    return r.output


def test_env_commands(built: Path) -> None:
    assert "no data copied" in cli(built, "env", "create", "dev", "--from", "prod")
    envs = json.loads(cli(built, "env", "ls", "--json"))
    assert {e["name"]: e["products"] for e in envs} == {"dev": 3, "prod": 3}
    cli(built, "env", "views")
    assert (built / ".steward" / "envs.duckdb").exists()


def test_rollback_and_gc_commands(built: Path) -> None:
    first = fresh(built).current()["staging.orders"].id
    staging_sql(built, amount="amount + 1")
    assert fresh(built).run().ok
    out = json.loads(cli(built, "rollback", "staging.orders", "--downstream", "-m", "bad",
                         "--json"))
    assert out["moved"]["staging.orders"]["to"] == first
    dry = json.loads(cli(built, "gc", "--dry-run", "--keep-last", "0", "--keep-days", "0",
                         "--json"))
    assert dry["dry_run"] is True and len(dry["versions"]) == 2
    log = json.loads(cli(built, "log", "staging.orders", "--json"))
    assert [e["environments"] for e in log if e["version"] == first] == [["prod"]]


def test_promote_unknown_env_is_one_clear_message(built: Path) -> None:
    import subprocess
    import sys

    exe = Path(sys.executable).parent / "steward"
    r = subprocess.run([str(exe), "promote", "nope", "prod"], cwd=built, capture_output=True,
                       text=True)
    assert r.returncode == 1 and "no environment 'nope'" in r.stderr
    assert "Traceback" not in r.stderr


def test_gc_keeps_files_shared_with_an_alias_version(built: Path) -> None:
    ctx = fresh(built)
    mart = ctx.current()["marts.daily_revenue"]
    staging_sql(built, extra=", 1 as one")  # non-breaking: the mart gets an alias version
    assert fresh(built).run().ok
    alias = fresh(built).current()["marts.daily_revenue"]
    assert alias.id != mart.id and alias.path == mart.path
    result = gc(fresh(built), keep_last=0, keep_days=0)
    assert mart.id in {v.id for v in result.versions}  # the unpointed row goes...
    # ...but its files stay: the alias reads them
    assert os.path.isdir(fresh(built).store.path(mart.path))
    assert fresh(built).sql("select count(*) n from marts.daily_revenue").to_pylist()[0]["n"]
