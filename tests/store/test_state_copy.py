"""`steward state copy`: a project's history moves from the embedded default to a team's
PostgreSQL metastore and S3 bucket (and back) with nothing rebuilt and the audit trail
still verifying; a copy killed half-way leaves nothing the destination would serve."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
from pathlib import Path

import pytest

from steward.cli.scaffold import scaffold
from steward.context import Context
from tests.conftest import steward, write


def _history(root: Path) -> None:
    """Two environments, two versions of a product, a promotion, a rollback."""
    assert Context(root).run().ok
    write(root, "models/staging/orders.sql",
          (root / "models/staging/orders.sql").read_text().replace("> 0", "> 10"))
    assert Context(root).run(env="dev").ok
    code, out, err = steward(root, "promote", "dev", "prod")
    assert code == 0, out + err
    code, out, err = steward(root, "rollback", "staging.orders", "--env", "prod")
    assert code == 0, out + err


def _state(root: Path, env: dict[str, str] | None = None) -> dict[str, object]:
    """What a user sees of the history: environments and their versions, every version of
    every product, the audit trail's length."""
    seen: dict[str, object] = {}
    for e in ("prod", "dev"):
        code, out, err = steward(root, "ls", "--env", e, "--json", env=env)
        assert code == 0, out + err
        seen[e] = sorted((p["name"], p["version"]) for p in json.loads(out))
    code, out, err = steward(root, "log", "staging.orders", "--json", env=env)
    assert code == 0, out + err
    seen["log"] = sorted(v["version"] for v in json.loads(out))
    return seen


@pytest.fixture
def laptop(tmp_path: Path) -> Path:
    root = tmp_path / "laptop"
    scaffold(root, "starter")  # the embedded default: .steward/meta.db and .steward/store
    _history(root)
    return root


def test_copy_to_postgres_and_s3_keeps_history_and_builds_nothing(
        laptop: Path, pg_url: str, bucket: str, s3_env: dict[str, str]):
    before = _state(laptop)
    code, out, err = steward(laptop, "state", "copy", "--metastore", pg_url,
                             "--store", f"s3://{bucket}/shop", "--deep", env=s3_env)
    assert code == 0, out + err
    assert "verified" in out

    # the copy is the project's state once steward.yaml names it
    with (laptop / "steward.yaml").open("a") as f:
        f.write(f"metastore: ${{TEAM_DB}}\nstore: s3://{bucket}/shop\n")
    env = {**s3_env, "TEAM_DB": pg_url}
    import shutil

    shutil.rmtree(laptop / ".steward")  # nothing of the laptop's state is needed any more
    assert _state(laptop, env) == before
    code, out, err = steward(laptop, "run", "--json", env=env)
    assert code == 0, out + err
    events = [json.loads(line) for line in out.splitlines()]
    counts = next(e["counts"] for e in events if e["event"] == "run_finished")
    assert counts["built"] == 0 and counts["failed"] == 0, counts  # (reuses, never builds)
    for verb in (("verify",), ("audit", "verify")):
        code, out, err = steward(laptop, *verb, env=env)
        assert code == 0, out + err
    code, out, err = steward(laptop, "audit", "log", "--json", env=env)
    actions = [e["action"] for e in json.loads(out)]
    assert actions.count("state.copied") == 1 and "promote" in actions, actions


def test_copy_back_to_local_and_the_source_records_it(laptop: Path, tmp_path: Path):
    dest = tmp_path / "elsewhere"
    code, out, err = steward(laptop, "state", "copy", "--metastore",
                             f"sqlite:///{dest}/meta.db", "--store", str(dest / "store"),
                             "--json")
    assert code == 0, out + err
    doc = json.loads(out)
    assert doc["verify"]["ok"] and doc["versions"] >= 4 and not doc["missing"]
    # same rows on both sides, table by table (the source gained one audit event since)
    src = sqlite3.connect(laptop / ".steward" / "meta.db")
    dst = sqlite3.connect(dest / "meta.db")
    for table in ("versions", "env_pointers", "runs", "run_steps", "pointer_moves",
                  "profiles", "check_results"):
        q = f"SELECT * FROM {table} ORDER BY 1, 2"
        assert src.execute(q).fetchall() == dst.execute(q).fetchall(), table
    last = src.execute("SELECT action, after_json FROM audit_events ORDER BY seq DESC"
                       ).fetchone()
    assert last[0] == "state.copied" and str(dest) in last[1]

    # a second copy into the same place is refused, and changes nothing there
    n = dst.execute("SELECT count(*) FROM audit_events").fetchone()[0]
    code, out, err = steward(laptop, "state", "copy", "--metastore",
                             f"sqlite:///{dest}/meta.db", "--store", str(dest / "store2"))
    assert code != 0 and "already holds Steward state" in err
    assert dst.execute("SELECT count(*) FROM audit_events").fetchone()[0] == n


@pytest.mark.parametrize("point", ["state_copy.version:2", "audit.before_head"])
def test_copy_killed_half_way_leaves_the_destination_empty_and_can_run_again(
        laptop: Path, tmp_path: Path, steward_cmd: list[str], point: str):
    dest = tmp_path / "team"
    args = ("state", "copy", "--metastore", f"sqlite:///{dest}/meta.db",
            "--store", str(dest / "store"))
    p = subprocess.run([*steward_cmd, *args], cwd=laptop, capture_output=True, text=True,
                       env={**os.environ, "STEWARD_FAULT": point}, timeout=120)
    assert p.returncode == -signal.SIGKILL, p.stdout + p.stderr
    if point.startswith("audit"):
        # killed after the rows committed (appending the copy's own audit event): the
        # destination is whole; a second copy is refused, saying so, and changes nothing
        code, out, err = steward(laptop, *args)
        assert code != 0 and "interrupted after its rows committed" in err
        return
    con = sqlite3.connect(dest / "meta.db")
    assert con.execute("SELECT count(*) FROM versions").fetchone()[0] == 0
    con.close()
    # the project itself is untouched and not locked
    code, out, err = steward(laptop, "verify")
    assert code == 0, out + err
    code, out, err = steward(laptop, *args)
    assert code == 0, out + err
    assert "verified" in out


def test_a_version_folder_and_its_check_sides_copy_between_local_and_s3(
        tmp_path: Path, bucket: str):
    from steward.store import open_store
    from steward.store.copy import copy_version

    local = open_store(str(tmp_path / "a"), str(tmp_path))
    scratch = local.new_scratch()
    (Path(scratch) / "data" / "part-0.parquet").write_bytes(b"PAR1 rows PAR1")
    (Path(scratch) / "manifest.json").write_text("{}")
    key = local.publish(scratch, "shop.orders", "v20260101T000000.000-abcdef")
    side, side_key = local.side(key, "c1")
    os.makedirs(side)
    (Path(side) / "failing.parquet").write_bytes(b"sample")
    local.commit_side(side, side_key)

    s3 = open_store(f"s3://{bucket}/team", str(tmp_path))
    back = open_store(str(tmp_path / "b"), str(tmp_path))
    assert copy_version(local, s3, key) == len(b"PAR1 rows PAR1") + 2
    assert copy_version(s3, back, key) == len(b"PAR1 rows PAR1") + 2
    for store in (s3, back):
        assert store.version_folders() == [key]
        assert [f.name for f in store.manifest(key)] == ["part-0.parquet"]
        assert store.side_runs(key) == ["c1"]
    assert (Path(back.local(f".checks/{key}/c1")) / "failing.parquet").read_bytes() == b"sample"
    # copying again (after an interrupted copy) replaces, never mixes
    assert copy_version(local, back, key) == len(b"PAR1 rows PAR1") + 2
