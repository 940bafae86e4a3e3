"""Schedules: runs ``steward serve`` starts on a cron expression or when a file source's
files change.

Policies (documented in docs/operations.md):

- never two runs of one environment at once: a fire that finds its environment busy is
  skipped (``overlap: skip``, the default) or waits for it (``overlap: wait``); either
  way the decision is recorded in ``schedule_fires``;
- missed fires (the server was down) are skipped: the next fire is the first cron time
  after the server starts; ``catch_up: true`` runs once at start when a fire was missed;
- a fire left ``started`` by a server that was killed is marked ``interrupted`` on the
  next start, with an audit event (the run itself is recovered like any killed run).
"""

from __future__ import annotations

import glob
import hashlib
import os
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from steward.core.errors import StewardError

if TYPE_CHECKING:
    from steward.ops.parts import OpsParts

TICK_SECONDS = 1.0


class ScheduleError(StewardError):
    exit_code = 2


def next_after(cron: str, after: datetime) -> datetime:
    from croniter import croniter

    return croniter(cron, after).get_next(datetime)  # type: ignore[no-any-return]


def previous_before(cron: str, before: datetime) -> datetime:
    from croniter import croniter

    return croniter(cron, before).get_prev(datetime)  # type: ignore[no-any-return]


def source_signature(project: Any, names: tuple[str, ...]) -> str:
    """A digest of the files (path, size, modification time) of the file sources ``names``."""
    h = hashlib.sha256()
    for name in sorted(names):
        product = project.products.get(name)
        if product is None or not product.is_source or product.spec.kind != "file":
            raise ScheduleError(f"schedules: on_change names {name!r}, which is not a file "
                                "source; name a source declared with 'path:'")
        pattern = os.path.join(project.root, product.spec.path)
        for path in sorted(glob.glob(pattern, recursive=True)):
            try:
                st = os.stat(path)
            except OSError:
                continue
            h.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def selection_of(spec: Any) -> list[str]:
    """What a fire runs: the schedule's selection, or each changed source and its
    descendants."""
    if spec.select:
        return list(spec.select)
    return [f"{s}+" for s in spec.on_change]


class Scheduler:
    """Fires the project's schedules; ``context()`` gives the current Context, ``start``
    runs a job (``kind, user, params, work``) the way the server runs web jobs."""

    def __init__(self, context: Callable[[], Any], start: Callable[..., Any] | None = None,
                 make_run_context: Callable[[Any], Any] | None = None):
        self.context = context
        self._start = start or _thread_job
        self._make = make_run_context
        self._env_locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._next: dict[str, datetime] = {}
        self._sigs: dict[str, str] = {}
        self._stop = threading.Event()
        self.last_error: str | None = None
        self.waiting = 0  # fires queued behind a run of the same environment
        self.running = 0

    @property
    def queue_depth(self) -> int:
        return self.waiting + self.running

    def env_lock(self, env: str) -> threading.Lock:
        with self._guard:
            return self._env_locks.setdefault(env, threading.Lock())

    def recover(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """On start: fires a killed server left running are marked interrupted, and said
        so in the audit trail; schedules with ``catch_up`` that missed a fire run once."""
        from steward.meta.ops import fires, interrupt_started

        ctx = self.context()
        now = now or datetime.now(UTC)
        left = interrupt_started(ctx.metastore, now)
        # (a fire learns its run's id when the run ends: the run left 'running' in the
        # fire's environment is the one the stop interrupted)
        running: dict[str, str] = {}
        for r in ctx.metastore.runs(50) if left else ():
            if r.status == "running":
                running.setdefault(r.env, r.id)
        for f in left:
            ctx.audit("schedule.interrupted", [f["schedule"]], before=None,
                      after={"fire": f["id"], "env": f["env"],
                             "run": f["run_id"] or running.get(f["env"])},
                      reason="the server stopped during this scheduled run")
        if left:
            self._recover_runs(ctx)
        for name, spec in ctx.project.spec.schedules.items():
            if spec.cron and spec.catch_up:
                last = fires(ctx.metastore, name, 1)
                due = previous_before(spec.cron, now)
                done = last[0]["due_at"] if last else None
                if done is not None and done.tzinfo is None:
                    done = done.replace(tzinfo=UTC)
                if done is None or done < due:
                    self.fire(name, spec, due, "catch-up of a fire missed while stopped")
        return left

    @staticmethod
    def _recover_runs(ctx: OpsParts) -> None:
        """The interrupted runs themselves, as the next run would (under the project
        lock: their run marked aborted, their unfinished versions failed, their partial
        builds removed, and a ``recover`` audit event). If another process holds the
        lock, it is a run, and it recovers them first."""
        from steward.core.errors import LockError
        from steward.run.lock import ProjectLock

        try:
            with ProjectLock(ctx.state_dir, "recover after the server stopped", 0,
                             metastore_url=ctx.lock_url):
                ctx.runner().recover()
        except LockError:
            pass

    def tick(self, now: datetime | None = None) -> list[str]:
        """Fire what is due at ``now``; returns the names fired."""
        ctx = self.context()
        now = now or datetime.now(UTC)
        fired = []
        for name, spec in sorted(ctx.project.spec.schedules.items()):
            if spec.cron:
                due = self._next.get(name)
                if due is None:
                    self._next[name] = next_after(spec.cron, now)
                elif now >= due:
                    self._next[name] = next_after(spec.cron, now)
                    self.fire(name, spec, due, f"cron {spec.cron}")
                    fired.append(name)
            if spec.on_change:
                sig = source_signature(ctx.project, spec.on_change)
                before = self._sigs.get(name)
                self._sigs[name] = sig
                if before is not None and sig != before:
                    self.fire(name, spec, now, f"files of {', '.join(spec.on_change)} changed")
                    fired.append(name)
        return fired

    def fire(self, name: str, spec: Any, due: datetime, why: str) -> Any:
        """Start one scheduled run, or record why it was skipped."""
        from steward.meta.ops import add_fire, finish_fire

        ctx = self.context()
        env = ctx.env_name(spec.env)
        lock = self.env_lock(env)
        at = datetime.now(UTC)
        if spec.overlap == "skip" and not lock.acquire(blocking=False):
            add_fire(ctx.metastore, {"schedule": name, "env": env, "due_at": due,
                                     "fired_at": at, "status": "skipped", "finished_at": at,
                                     "reason": f"{why}; skipped: a run of '{env}' is "
                                               "still going (overlap: skip)"})
            return None
        held = spec.overlap == "skip"
        fire_id = add_fire(ctx.metastore, {"schedule": name, "env": env, "due_at": due,
                                           "fired_at": at, "status": "started",
                                           "reason": why})
        select = selection_of(spec)
        params = {"schedule": name, "select": select, "exclude": list(spec.exclude),
                  "env": env, "why": why}
        if not held:
            self.waiting += 1

        def work(job: Any) -> tuple[str, Any]:
            nonlocal held
            if not held:
                lock.acquire()
                held = True
                self.waiting -= 1
            self.running += 1
            try:
                run_ctx = self._make(job) if self._make else self.context()
                try:
                    result = run_ctx.run(select, list(spec.exclude), env,
                                         wait=3600.0 if spec.overlap == "wait" else 0.0)
                except StewardError as e:
                    finish_fire(ctx.metastore, fire_id, "error", datetime.now(UTC),
                                reason=f"{why}; {e.render()}")
                    raise
                status = "success" if result.ok else "failed"
                finish_fire(ctx.metastore, fire_id, status, datetime.now(UTC),
                            run_id=result.run_id, reason=why)
                return status, result.summary()
            finally:
                self.running -= 1
                lock.release()

        return self._start("run", "scheduler", params, work)

    def loop(self) -> None:
        """Tick every second until stopped; a broken project (mid-edit) is retried."""
        try:
            self.recover()
        except Exception as e:  # a project mid-edit: fires are still taken from now on
            self.last_error = f"{type(e).__name__}: {e}"
        while not self._stop.wait(TICK_SECONDS):
            try:
                self.tick()
            except Exception:
                continue

    def start_thread(self) -> threading.Thread:
        t = threading.Thread(target=self.loop, name="steward-schedules", daemon=True)
        t.start()
        return t

    def stop(self) -> None:
        self._stop.set()


class _ThreadJob:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.status: str | None = None
        self.result: Any = None
        self.error: str | None = None


def _thread_job(kind: str, user: str, params: dict[str, Any],
                work: Callable[[Any], tuple[str, Any]]) -> _ThreadJob:
    """Run ``work`` on a thread (outside the server, e.g. in tests and scripts)."""
    job = _ThreadJob()

    def target() -> None:
        try:
            job.status, job.result = work(job)
        except Exception as e:
            job.status, job.error = "error", str(e)
        finally:
            job.done.set()

    threading.Thread(target=target, daemon=True).start()
    return job
