"""Runs and checks started from the web: a thread each, with events to watch.

A job holds the events the run's console reported (started, each step, finished), so a
page that subscribes late still gets all of them; the server-sent event stream replays
them, then waits for more. Jobs live in the server's memory; what they did is in the
metastore and the audit trail like any run's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from steward.core.ids import acting_as, new_id

KEEP_JOBS = 200


@dataclass
class Job:
    id: str
    kind: str  # run or check
    user: str
    params: dict[str, Any]
    status: str = "queued"  # queued, running, success, failed, error
    events: list[dict[str, Any]] = field(default_factory=list)
    result: Any = None
    error: str | None = None
    started: float = field(default_factory=time.time)
    cond: threading.Condition = field(default_factory=threading.Condition, repr=False)

    @property
    def done(self) -> bool:
        return self.status in ("success", "failed", "error")

    def emit(self, event: dict[str, Any]) -> None:
        with self.cond:
            self.events.append({"seq": len(self.events), **event})
            self.cond.notify_all()

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "user": self.user, "params": self.params,
                "status": self.status, "error": self.error, "result": self.result,
                "events": len(self.events)}

    def follow(self, start: int = 0, timeout: float = 15.0) -> Iterator[dict[str, Any] | None]:
        """Events from ``start`` on, until the job ends; None after ``timeout`` idle."""
        i = start
        while True:
            with self.cond:
                if i >= len(self.events) and not self.done:
                    self.cond.wait(timeout)
                batch = self.events[i:]
                finished = self.done
            if not batch and not finished:
                yield None
            yield from batch
            i += len(batch)
            if finished and i >= len(self.events):
                return


class JobConsole:
    """The run console of a job: each call becomes an event."""

    def __init__(self, job: Job):
        self.job = job

    def run_started(self, run_id: str, env: str, total: int, to_build: int) -> None:
        self.job.emit({"type": "run_started", "run": run_id, "env": env, "total": total,
                       "to_build": to_build})

    def step_started(self, product: str) -> None:
        self.job.emit({"type": "step_started", "product": product})

    def step_finished(self, product: str, status: str, info: dict[str, Any]) -> None:
        lines = str(info.get("error") or "").splitlines()
        self.job.emit({"type": "step_finished", "product": product, "status": status,
                       "error": lines[0] if lines else None})

    def run_finished(self, result: Any) -> None:
        pass  # the job's own "finished" event carries the result

    def message(self, text: str, level: str = "info") -> None:
        self.job.emit({"type": "message", "level": level, "text": text})


class Jobs:
    """The jobs of this server process."""

    def __init__(self) -> None:
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def list(self) -> list[Job]:
        return sorted(self._jobs.values(), key=lambda j: j.started, reverse=True)

    def start(self, kind: str, user: str, params: dict[str, Any],
              work: Callable[[Job], tuple[str, Any]]) -> Job:
        """Run ``work(job)`` on a thread as ``user``; it returns (status, result)."""
        job = Job(new_id("job-"), kind, user, params)
        with self._lock:
            self._jobs[job.id] = job
            for old in self.list()[KEEP_JOBS:]:
                self._jobs.pop(old.id, None)

        def target() -> None:
            from steward.core.errors import StewardError

            job.status = "running"
            job.emit({"type": "started", "kind": kind})
            try:
                with acting_as(user):
                    status, result = work(job)
                job.result = result
                job.status = status
            except StewardError as e:
                job.error, job.status = e.render(), "error"
            except Exception as e:  # a bug: the job says so instead of hanging the page
                job.error, job.status = f"{type(e).__name__}: {e}", "error"
            job.emit({"type": "finished", "status": job.status, "error": job.error,
                      "result": job.result})

        threading.Thread(target=target, name=job.id, daemon=True).start()
        return job
