"""The metastore on a real PostgreSQL server (tests/pg.py starts a throwaway cluster)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from steward.cli.scaffold import scaffold
from steward.context import Context
from steward.meta.reads import latest_migration
from steward.meta.store import TABLES, Metastore
from tests.conftest import steward, steward_process, write

SLOW = """\
import os, time
from steward import product

@product()
def slow(staging__orders):
    open(os.environ["STEWARD_TEST_MARK"], "w").write("started")
    deadline = time.monotonic() + 120  # until the test lets it finish
    while not os.path.exists(os.environ["STEWARD_TEST_RELEASE"]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return staging__orders
"""


def test_every_migration_runs_on_postgresql(pg_url: str):
    ms = Metastore(pg_url)
    assert ms.sa_engine.dialect.name == "postgresql"
    assert ms.schema_version() == latest_migration()
    names = set(sa.inspect(ms.sa_engine).get_table_names())
    assert set(TABLES) <= names
    assert Metastore(pg_url).migrate() == []  # applied once


def test_processes_opening_a_new_metastore_at_once_take_turns(pg_url: str):
    code = ("import sys; from steward.meta.store import Metastore; "
            "print(Metastore(sys.argv[1]).schema_version())")
    procs = [subprocess.Popen([sys.executable, "-c", code, pg_url], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [e for _, e in outs]
    assert {o.strip() for o, _ in outs} == {str(latest_migration())}


def _project(root: Path, url: str, store: Path | None = None) -> Path:
    scaffold(root, "starter")
    text = (root / "steward.yaml").read_text()
    extra = f"metastore: {url}\n" + (f"store: {store}\n" if store else "")
    (root / "steward.yaml").write_text(text.replace("environments:", extra + "environments:"))
    return root


def test_an_unreachable_server_and_wrong_credentials(pg: Any, tmp_path: Path):
    root = _project(tmp_path / "p", "postgresql+psycopg://steward:hunter2@127.0.0.1:1/shop")
    code, out, err = steward(root, "run")
    line = next(i for i, ln in enumerate((root / "steward.yaml").read_text().splitlines(), 1)
                if ln.startswith("metastore:"))
    assert code == 2 and "Traceback" not in err
    assert (f"steward.yaml:{line}: cannot open the metastore "
            "postgresql+psycopg://steward:***@127.0.0.1:1/shop: cannot connect") in err
    assert "hunter2" not in out + err
    assert "check the host, port, database and user" in err
    assert not (root / ".steward" / "store").exists() or \
        not any((root / ".steward" / "store").iterdir())
    # the right server, the wrong password
    url = pg.url(pg.create_database(), password="wrong-pw")
    (root / "steward.yaml").write_text((root / "steward.yaml").read_text().replace(
        "postgresql+psycopg://steward:hunter2@127.0.0.1:1/shop", url))
    code, out, err = steward(root, "ls")
    assert code == 2 and "Traceback" not in err
    assert "password authentication failed" in err and "wrong-pw" not in out + err
    assert "check the user and password" in err


def test_two_machines_sharing_a_metastore_never_interleave(pg_url: str, tmp_path: Path):
    """Two checkouts (two machines) of one project, one PostgreSQL metastore, one store:
    the second runner refuses while the first holds the lock, or waits for it with
    --wait; the pointers end where the audit trail says."""
    store = tmp_path / "shared-store"
    a = _project(tmp_path / "a", pg_url, store)
    write(a, "models/marts/slow.py", SLOW)
    b = tmp_path / "b"
    shutil.copytree(a, b)
    write(b, "models/marts/extra.sql", "select count(*) as n from staging.orders\n")
    mark = tmp_path / "mark"
    release = tmp_path / "release"
    env = {**os.environ, "STEWARD_TEST_MARK": str(mark), "STEWARD_TEST_RELEASE": str(release)}
    exe = [sys.executable, "-m", "steward.cli.main"]
    first = subprocess.Popen([*exe, "run"], cwd=a, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not mark.exists():
        assert first.poll() is None, first.communicate()
        assert time.monotonic() < deadline, "the first run never reached its slow product"
        time.sleep(0.05)
    refused = subprocess.run([*exe, "run"], cwd=b, env=env, capture_output=True, text=True,
                             timeout=120)
    assert refused.returncode == 3, refused.stderr
    assert "the lock is held in the metastore" in refused.stderr
    assert "run --env prod" in refused.stderr and "nothing was changed" in refused.stderr
    waiting = subprocess.Popen([*exe, "run", "--wait", "120"], cwd=b, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(1)
    assert first.poll() is None and waiting.poll() is None  # the first still holds it
    release.write_text("go")
    out_a, err_a = first.communicate(timeout=120)
    assert first.returncode == 0, err_a
    out_b, err_b = waiting.communicate(timeout=180)
    assert waiting.returncode == 0, err_b
    ctx = Context(b)
    runs = sorted(ctx.metastore.runs(), key=lambda r: r.started_at)
    done = [r for r in runs if r.status != "running"]
    # the runs did not overlap: the second started its work after the first finished
    assert len(done) == 2 and done[0].finished_at <= done[1].started_at
    assert set(ctx.current()) == {"raw.orders", "staging.orders", "marts.daily_revenue",
                                  "marts.slow", "marts.extra"}
    code, out, err = steward(a, "audit", "verify")
    assert code == 0, out + err
    code, out, err = steward(b, "verify")
    assert code == 0, out + err
    # both checkouts see the same state
    assert {n: v.id for n, v in Context(a).current().items()} == \
        {n: v.id for n, v in ctx.current().items()}
    assert json.loads(steward(a, "ls", "--json")[1])


def test_the_sqlite_fast_paths_step_aside(pg_url: str, tmp_path: Path):
    root = _project(tmp_path / "p", pg_url)
    code, out, err = steward(root, "run")
    assert code == 0, err
    noop = root / ".steward" / "cache" / "noop.json"
    assert not noop.exists() or "prod" not in json.loads(noop.read_text()).get("envs", {})
    imported, code, out, err = steward_process(root, "run")
    assert code == 0 and "sqlalchemy" in imported, err  # the full path answered
    ctx = Context(root)
    last = ctx.metastore.runs(limit=1)[0]
    assert {s.status for s in ctx.metastore.steps(last.id)} == {"kept"}
    assert not (root / ".steward" / "meta.db").exists()
    imported, code, out, _ = steward_process(root, "plan", "--json")
    assert code == 0 and imported == ["sqlalchemy"]  # plan: the driver, nothing else heavy
    assert json.loads(out)["summary"]["keep"] == 3
