"""Seconds per phase: the timer's accounting, and the ``phases`` event of a JSON run."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

from steward.context import Context
from steward.core import phases
from steward.meta import profiles as mp
from steward.profile.service import ProfileOnPublish, Profiles
from tests.conftest import steward


def test_nested_phases_are_counted_once_and_threads_add_up():
    phases.reset()
    t0 = time.perf_counter()
    with phases.timed("outer"):
        time.sleep(0.001)
        with phases.timed("inner"):
            time.sleep(0.01)
    whole = time.perf_counter() - t0

    def work() -> None:
        with phases.timed("threads"):
            time.sleep(0.001)

    ts = [threading.Thread(target=work) for _ in range(3)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    got = phases.totals()
    assert got["outer"]["calls"] == 1 and got["inner"]["calls"] == 1
    assert got["threads"]["calls"] == 3
    # the inner block's time is not counted in the outer one as well: the two are
    # disjoint parts of the whole (counted twice, they would add up to more)
    assert got["outer"]["seconds"] + got["inner"]["seconds"] <= whole + 1e-4
    assert got["outer"]["seconds"] > 0 and got["inner"]["seconds"] >= 0.01
    phases.reset()
    assert phases.totals() == {}


def test_a_json_run_ends_with_its_phases(starter: Path):
    code, out, _ = steward(starter, "run", "--json")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert events[-1]["event"] == "phases"
    ph = events[-1]["phases"]
    built = sum(1 for e in events if e["event"] == "step_finished" and e["status"] == "built")
    assert ph["build"]["calls"] == built > 0
    assert {"load", "plan", "metastore", "profile", "pii"} <= set(ph)
    assert all(v["seconds"] >= 0 for v in ph.values())


def test_profiles_are_stored_in_batches_and_flushed(starter: Path):
    ctx = Context(starter)
    assert ctx.run().ok
    current = ctx.current()
    assert current and all(mp.load_profile(ctx.metastore, v.id) for v in current.values())
    # a batching hook holds profiles until its batch is full or it is flushed
    hook = ProfileOnPublish(Profiles(ctx.metastore, ctx.store, ctx.engine), batch=100)
    with ctx.metastore.begin() as conn:
        conn.execute(mp.profiles.delete())
    for v in current.values():
        hook(None, v)
    assert not any(mp.load_profile(ctx.metastore, v.id) for v in current.values())
    hook.flush()
    for v in current.values():
        prof = mp.load_profile(ctx.metastore, v.id)
        assert prof is not None and prof["rows"] == v.row_count
    # metric points are appended once per version, however often it is recorded
    points = len(mp.series(ctx.metastore, next(iter(current))))
    for v in current.values():
        hook(None, v)
    hook.flush()
    assert len(mp.series(ctx.metastore, next(iter(current)))) == points
