"""The store on a real S3-compatible server: the same promises as on a local folder."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from steward.context import Context
from tests.conftest import steward, write
from tests.store.conftest import s3_client


def objects(bucket: str, prefix: str = "shop") -> list[str]:
    return sorted(p.split("/", 2)[2] for p in s3_client().find(f"{bucket}/{prefix}"))


def test_versions_live_in_the_bucket_and_every_command_works(s3_project: Path, bucket: str):
    ctx = Context(s3_project)
    assert ctx.store.kind == "fsspec"
    r = ctx.run()
    assert r.ok
    keys = objects(bucket)
    current = Context(s3_project).current("prod")
    for name, v in current.items():
        assert f"{v.path}/data/part-0.parquet" in keys, (name, keys)
        assert not os.path.isabs(v.path)
    # nothing but the read-through cache and scratch is local
    assert not (s3_project / ".steward" / "store").exists()

    assert Context(s3_project).run().ok  # no-op: nothing rebuilt
    assert {n: v.id for n, v in Context(s3_project).current("prod").items()} == \
        {n: v.id for n, v in current.items()}

    code, out, err = steward(s3_project, "sql", "select sum(orders) as n from marts.daily_revenue",
                             "--json")
    assert code == 0, err
    assert '"n": 4' in out or '"n":4' in out.replace(" ", "")
    code, out, err = steward(s3_project, "check")
    assert code == 0, err + out
    code, out, err = steward(s3_project, "verify")
    assert code == 0 and "0 finding" in out, out + err


def test_a_second_machine_reads_the_bucket_without_the_first_ones_cache(s3_project: Path,
                                                                          tmp_path: Path):
    assert Context(s3_project).run().ok
    other = tmp_path / "other"
    shutil.copytree(s3_project, other)
    shutil.rmtree(other / ".steward" / "cache")
    code, out, err = steward(other, "sql", "select count(*) as n from staging.orders", "--json")
    assert code == 0, err
    assert '"n": 4' in out
    code, out, err = steward(other, "verify")
    assert code == 0, out + err


def test_a_later_check_run_writes_beside_the_version_never_into_it(s3_project: Path,
                                                                   bucket: str):
    assert Context(s3_project).run().ok
    before = objects(bucket)
    write(s3_project, "models/marts/daily_revenue.yml",
          (s3_project / "models/marts/daily_revenue.yml").read_text()
          + "checks:\n  - row_count: {min: 100}\n")
    code, out, err = steward(s3_project, "check")
    assert code != 0
    after = objects(bucket)
    current = Context(s3_project).current("prod")
    for v in current.values():
        assert [k for k in after if k.startswith(v.path + "/")] == \
            [k for k in before if k.startswith(v.path + "/")]


def test_a_damaged_object_is_found_by_verify(s3_project: Path, bucket: str):
    assert Context(s3_project).run().ok
    v = Context(s3_project).current("prod")["staging.orders"]
    s3_client().pipe_file(f"{bucket}/shop/{v.path}/data/part-0.parquet", b"garbage")
    shutil.rmtree(s3_project / ".steward" / "cache" / "store")
    code, out, err = steward(s3_project, "verify")
    assert code != 0
    assert "staging.orders" in out + err


def test_kill_during_upload_leaves_no_visible_version_and_gc_cleans(s3_project: Path,
                                                                    bucket: str,
                                                                    s3_env: dict[str, str]):
    assert Context(s3_project).run().ok
    before = {n: v.id for n, v in Context(s3_project).current("prod").items()}
    write(s3_project, "models/staging/orders.sql",
          (s3_project / "models/staging/orders.sql").read_text().replace("> 0", "> 1"))
    env = {**os.environ, **s3_env, "STEWARD_FAULT": "store.mid_upload"}
    p = subprocess.run([sys.executable, "-m", "steward.cli.main", "run"], cwd=s3_project,
                       env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == -9, p.stderr
    # the half-published version is visible nowhere
    assert {n: v.id for n, v in Context(s3_project).current("prod").items()} == before
    leftovers = [k for k in objects(bucket) if k.startswith("staging.orders/")
                 and k.split("/")[1] != before["staging.orders"]]
    assert leftovers, "the killed upload left nothing to clean (the fault point moved?)"

    assert Context(s3_project).run().ok  # recovers, builds again
    code, out, err = steward(s3_project, "gc", "--keep-last", "0", "--keep-days", "0")
    assert code == 0, out + err
    now = Context(s3_project).current("prod")
    kept = {k.split("/")[1] for k in objects(bucket) if not k.startswith(".")}
    assert kept == {v.path.split("/")[1] for v in now.values()}
    code, out, err = steward(s3_project, "verify")
    assert code == 0, out + err


def test_a_missing_bucket_is_one_clear_error(s3_project: Path, s3_env: dict[str, str]):
    text = (s3_project / "steward.yaml").read_text()
    bucket = text.split("s3://")[1].split("/")[0]
    (s3_project / "steward.yaml").write_text(text.replace(bucket, "no-such-bucket"))
    code, out, err = steward(s3_project, "run")
    assert code == 1
    assert "the bucket 'no-such-bucket' does not exist" in err
    assert "Traceback" not in err
    assert not (s3_project / ".steward" / "meta.db").exists() or \
        not Context(s3_project).metastore.versions()


def test_an_unreachable_endpoint_names_it(s3_project: Path):
    from tests.store.conftest import _free_port

    dead = f"http://127.0.0.1:{_free_port()}"
    code, out, err = steward(s3_project, "run", env={"AWS_ENDPOINT_URL": dead})
    assert code == 1
    assert f"the object store at {dead} cannot be reached" in err
    assert "Traceback" not in err


@pytest.fixture(scope="module")
def strict_server() -> object:
    """A server that checks credentials (moto with IAM authentication on)."""
    from tests.store.conftest import start_moto

    proc, url = start_moto({"INITIAL_NO_AUTH_ACTION_COUNT": "0"})
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_wrong_credentials_are_one_clear_error(s3_project: Path, strict_server: str):
    code, out, err = steward(s3_project, "ls", env={"AWS_ENDPOINT_URL": strict_server,
                                                   "AWS_ACCESS_KEY_ID": "nobody"})
    assert code == 1
    assert "access denied" in err and "AWS_ACCESS_KEY_ID" in err
    assert "Traceback" not in err
