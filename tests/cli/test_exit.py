"""A command's process ends without a last collection over what it still holds, and
loses nothing by it: its output, its run's record and its OpenLineage events are whole,
and its connections are closed (a SQLite metastore's write-ahead log folded into
``meta.db``, which alone then holds the state: a copy of that file loses nothing)."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

from steward.context import Context

# An exit handler registered before the command's own: exit handlers run last in,
# first out, so this one sees the process as the interpreter's last collections will.
PROBE = """
import atexit, gc, sys
atexit.register(lambda: sys.stderr.write("FROZEN=%d\\n" % gc.get_freeze_count()))
sys.argv = ["steward", "run", "--json"]
from steward.cli.entry import main
main()
"""


def test_a_run_exits_with_its_heap_frozen_and_everything_written(starter: Path) -> None:
    p = subprocess.run([sys.executable, "-c", PROBE], cwd=starter, capture_output=True,
                       text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    frozen = [int(line.split("=")[1]) for line in p.stderr.splitlines()
              if line.startswith("FROZEN=")]
    # the run unfreezes what it kept when it ends: what is frozen now, the exit froze
    assert frozen and frozen[0] > 10_000
    events = [json.loads(line) for line in p.stdout.splitlines()]
    assert [e["event"] for e in events][-2:] == ["run_finished", "phases"]
    assert events[-2]["status"] == "success"
    state = starter / ".steward"
    assert not (state / "meta.db-wal").exists()  # folded in when the last connection closed
    copy = starter.parent / "copy"
    copy.mkdir()
    shutil.copy(state / "meta.db", copy / "meta.db")  # the database file alone
    con = sqlite3.connect(copy / "meta.db")
    assert con.execute("SELECT status FROM runs").fetchall() == [("success",)]
    con.close()
    assert set(Context(starter).current()) == {"raw.orders", "staging.orders",
                                               "marts.daily_revenue"}
    lines = (starter / ".steward" / "openlineage" / "events.ndjson").read_text().splitlines()
    ol = [json.loads(line) for line in lines]  # every line whole
    assert ol[-1]["eventType"] == "COMPLETE" and ol[-1]["job"]["name"] == "steward.run"
