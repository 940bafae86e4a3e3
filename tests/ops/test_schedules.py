"""Schedules: cron fires, source triggers, one run per environment at a time (skip or
wait, recorded), catch-up, recovery after a killed server, bad cron expressions."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from steward.context import Context
from steward.meta.ops import add_fire, fires
from steward.ops.schedules import Scheduler, next_after, selection_of
from tests.conftest import steward


def _schedules(root: Path, text: str) -> None:
    p = root / "steward.yaml"
    p.write_text(p.read_text() + "schedules:\n" + text)


def _wait(job: Any) -> None:
    assert job is not None and job.done.wait(60)


def test_cron_fires_when_due(starter: Path) -> None:
    _schedules(starter, "  nightly: {cron: '0 2 * * *', select: +marts.daily_revenue, env: dev}\n")
    ctx = Context(starter)
    sched = Scheduler(lambda: ctx)
    t0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
    assert sched.tick(t0) == []  # the first tick only learns the next fire: 02:00 tomorrow
    assert sched.tick(t0 + timedelta(hours=13)) == []
    jobs: list[Any] = []
    sched._start = lambda *a: jobs.append(_default_start(*a)) or jobs[-1]  # type: ignore[method-assign]
    assert sched.tick(t0 + timedelta(hours=14, minutes=1)) == ["nightly"]
    _wait(jobs[0])
    assert jobs[0].status == "success", jobs[0].error
    (f,) = fires(ctx.metastore, "nightly")
    assert f["status"] == "success" and f["env"] == "dev" and f["run_id"]
    run = ctx.metastore.run(f["run_id"])
    assert run.env == "dev" and run.selection == "+marts.daily_revenue"
    assert set(ctx.current("dev")) == {"raw.orders", "staging.orders", "marts.daily_revenue"}


def _default_start(*args: Any) -> Any:
    from steward.ops.schedules import _thread_job

    return _thread_job(*args)


def test_busy_environment_skip_and_wait(starter: Path) -> None:
    _schedules(starter, "  a: {cron: '* * * * *', env: dev}\n"
                        "  b: {cron: '* * * * *', env: dev, overlap: wait}\n")
    ctx = Context(starter)
    sched = Scheduler(lambda: ctx)
    spec = ctx.project.spec.schedules
    now = datetime.now(UTC)
    lock = sched.env_lock("dev")
    lock.acquire()  # a run of dev is going
    assert sched.fire("a", spec["a"], now, "cron") is None
    (skipped,) = fires(ctx.metastore, "a")
    assert skipped["status"] == "skipped" and "still going" in skipped["reason"]
    job = sched.fire("b", spec["b"], now, "cron")
    assert not job.done.wait(0.5) and sched.waiting == 1 and sched.queue_depth == 1
    assert fires(ctx.metastore, "b")[0]["status"] == "started"
    lock.release()
    _wait(job)
    assert job.status == "success" and sched.queue_depth == 0
    assert fires(ctx.metastore, "b")[0]["status"] == "success"


def test_source_change_runs_its_descendants(starter: Path) -> None:
    _schedules(starter, "  on_orders: {on_change: raw.orders}\n")
    ctx = Context(starter)
    assert selection_of(ctx.project.spec.schedules["on_orders"]) == ["raw.orders+"]
    jobs: list[Any] = []
    sched = Scheduler(lambda: ctx, lambda *a: jobs.append(_default_start(*a)) or jobs[-1])
    assert sched.tick() == []  # learns the files
    assert sched.tick() == []  # nothing changed
    csv = starter / "data/orders.csv"
    csv.write_text(csv.read_text() + "99,Zed,5.00,2026-02-01 09:00:00\n")
    assert sched.tick() == ["on_orders"]
    _wait(jobs[0])
    assert jobs[0].status == "success", jobs[0].error
    assert ctx.current("prod")["raw.orders"].row_count is not None
    (f,) = fires(ctx.metastore, "on_orders")
    assert f["status"] == "success" and "raw.orders changed" in f["reason"]


def test_catch_up_and_recovery(starter: Path) -> None:
    _schedules(starter, "  nightly: {cron: '0 2 * * *', catch_up: true, env: dev}\n"
                        "  hourly: {cron: '0 * * * *', env: dev}\n")
    ctx = Context(starter)
    now = datetime.now(UTC)
    # a fire a killed server left running
    add_fire(ctx.metastore, {"schedule": "hourly", "env": "dev", "due_at": now,
                             "fired_at": now, "status": "started", "reason": "cron"})
    jobs: list[Any] = []
    sched = Scheduler(lambda: ctx, lambda *a: jobs.append(_default_start(*a)) or jobs[-1])
    left = sched.recover(now)
    assert [f["schedule"] for f in left] == ["hourly"]
    assert fires(ctx.metastore, "hourly")[0]["status"] == "interrupted"
    (event,) = ctx.audit_trail().log("schedule.interrupted")
    assert event.targets == ["hourly"]
    # nightly never fired: caught up once (hourly has no catch_up)
    assert len(jobs) == 1
    _wait(jobs[0])
    assert fires(ctx.metastore, "nightly")[0]["status"] == "success"
    # started again: the catch-up fire is recorded, nothing more to catch up
    assert Scheduler(lambda: ctx, lambda *a: jobs.append(a)).recover(now) == []
    assert len(jobs) == 1


def test_bad_cron_names_the_line(starter: Path) -> None:
    _schedules(starter, "  nightly:\n    cron: '61 * * * *'\n")
    code, _, err = steward(starter, "schedules")
    assert code == 2
    assert "steward.yaml" in err and "not a cron expression" in err
    line = len((starter / "steward.yaml").read_text().splitlines())
    assert f"steward.yaml:{line}" in err or f"steward.yaml:{line - 1}" in err


def test_schedule_needs_a_trigger(starter: Path) -> None:
    _schedules(starter, "  x: {select: staging.orders}\n")
    code, _, err = steward(starter, "schedules")
    assert code == 2 and "needs 'cron'" in err


def test_schedules_cli(starter: Path) -> None:
    _schedules(starter, "  nightly: {cron: '30 5 * * *', select: marts.*}\n")
    code, out, err = steward(starter, "schedules", "--json")
    assert code == 0, err
    (doc,) = json.loads(out)
    nxt = datetime.fromisoformat(doc["next"])
    assert (nxt.hour, nxt.minute) == (5, 30) and doc["env"] == "prod"
    assert nxt == next_after("30 5 * * *", datetime.now(UTC)) or nxt > datetime.now(UTC)


def test_never_two_runs_of_one_env(starter: Path) -> None:
    _schedules(starter, "  a: {cron: '* * * * *', env: dev, overlap: wait}\n")
    ctx = Context(starter)
    sched = Scheduler(lambda: ctx)
    spec = ctx.project.spec.schedules["a"]
    seen: list[int] = []
    orig = ctx.run
    active = [0]
    guard = threading.Lock()

    def counting_run(*a: Any, **k: Any) -> Any:
        with guard:
            active[0] += 1
            seen.append(active[0])
        try:
            return orig(*a, **k)
        finally:
            with guard:
                active[0] -= 1

    ctx.run = counting_run  # type: ignore[method-assign]
    jobs = [sched.fire("a", spec, datetime.now(UTC), "cron") for _ in range(3)]
    for j in jobs:
        _wait(j)
    assert [j.status for j in jobs] == ["success"] * 3
    assert max(seen) == 1
