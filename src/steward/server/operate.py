"""What ``steward serve`` does between requests: fire schedules, evaluate freshness SLOs
(recording the time series) and raise or resolve alerts, and answer ``/metrics``."""

from __future__ import annotations

import threading
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from steward.server.jobs import JobConsole

router = APIRouter()
PROMPT_S = 1.0  # how often the watch looks for a finished run (a cheap query)


class Operations:
    """The scheduler and the watch thread of one server."""

    def __init__(self, state: Any):
        from steward.ops.schedules import Scheduler

        self.state = state
        self._stop = threading.Event()

        def run_context(job: Any) -> Any:
            from steward.context import Context

            return Context(state.root, console=JobConsole(job))

        self.scheduler = Scheduler(lambda: state.ctx, state.jobs.start, run_context)
        self.passes = 0
        self.last_error: str | None = None
        self.reports: dict[str, list[dict[str, Any]]] = {}  # env -> last freshness report
        self.delivery: dict[str, Any] | None = None

    def start(self) -> list[threading.Thread]:
        """Start the scheduler's and the watch's threads; returns them."""
        watch = threading.Thread(target=self._watch, name="steward-operate", daemon=True)
        watch.start()
        return [self.scheduler.start_thread(), watch]

    def stop(self) -> None:
        self.scheduler.stop()
        self._stop.set()

    def interval(self) -> float:
        from steward.core.durations import parse_duration

        try:
            return max(1.0, parse_duration(self.state.ctx.project.spec.alerts.interval))
        except Exception:
            return 60.0

    def watch_once(self) -> None:
        """Evaluate every environment's freshness, record it, and sync the alerts."""
        from steward.ops.alerts import watch
        from steward.ops.freshness import evaluate, record, report

        ctx = self.state.ctx
        for env in [e["name"] for e in ctx.metastore.environments()]:
            results = evaluate(ctx, env)
            record(ctx, results)
            watch(ctx, env, results)
            self.reports[env] = report(ctx, env, results=results)
        from steward.ops.delivery import delivery_metrics

        self.delivery = delivery_metrics(ctx)
        self.passes += 1

    def alerts_once(self) -> None:
        """The alerts a run decides (failed run, failed checks, drift) at once, without
        waiting for the next full pass; freshness alerts wait for it."""
        from steward.ops.alerts import watch

        ctx = self.state.ctx
        for env in [e["name"] for e in ctx.metastore.environments()]:
            watch(ctx, env)

    def _watch(self) -> None:
        from steward.meta.ops import change_mark

        mark: Any = None
        due = 0.0
        while True:
            try:
                ms = self.state.ctx.metastore
                if time.monotonic() >= due:
                    mark = change_mark(ms)
                    self.watch_once()
                    due = time.monotonic() + self.interval()
                else:
                    now_mark = change_mark(ms)
                    if now_mark != mark:
                        mark = now_mark
                        self.alerts_once()
                self.last_error = None
            except Exception as e:  # a project mid-edit, a metastore away: try again
                self.last_error = f"{type(e).__name__}: {e}"
                due = time.monotonic() + self.interval()
            if self._stop.wait(min(PROMPT_S, max(0.0, due - time.monotonic()))):
                return


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus exposition, for a signed-in user or an API token (as every page)."""
    from prometheus_client import CONTENT_TYPE_LATEST

    from steward.ops.prom import exposition
    from steward.server.app import principal

    principal(request)
    state = request.app.state.steward
    ops = getattr(state, "operations", None)
    depth = ops.scheduler.queue_depth if ops is not None else 0
    ctx = state.ctx
    docs = ops.reports.get(ctx.default_env) if ops is not None else None
    delivery = ops.delivery if ops is not None else None
    # the same text while nothing changed (the metastore, the watch's last pass, the
    # queue, a ten-second tick): a scrape every few seconds costs one exposition
    key = ("metrics", state.changes(), ops.passes if ops is not None else None, depth)
    text = state.memo(key, lambda: exposition(ctx, depth, freshness=docs, delivery=delivery))
    return Response(text, media_type=CONTENT_TYPE_LATEST)


@router.get("/operations", include_in_schema=False)
def operations_page(request: Request) -> Response:
    from steward.meta.ops import all_alerts, fires
    from steward.ops.delivery import delivery_metrics
    from steward.ops.freshness import human, report
    from steward.server.app import principal
    from steward.server.pages import render

    principal(request)  # signed in (or the open local server)
    state = request.app.state.steward
    ctx = state.ctx
    env = request.query_params.get("env") or ctx.default_env
    scheds = [{"name": n, "env": ctx.env_name(s.env),
               "when": " or ".join(x for x in (s.cron, "change of " + ", ".join(s.on_change)
                                               if s.on_change else None) if x),
               "fires": fires(ctx.metastore, n, 5)}
              for n, s in sorted(ctx.project.spec.schedules.items())]
    return render(request, "operations.html", env=env, freshness=report(ctx, env),
                  delivery=delivery_metrics(ctx), schedules=scheds,
                  alerts=all_alerts(ctx.metastore, 50), human=human,
                  pct=lambda v: "-" if v is None else f"{100 * v:.1f}%")
