"""``/metrics``: the project in Prometheus text exposition format (prometheus-client).

Names and labels (bounded: products and environments are declared, statuses are few):

=================================================  ===========================  ==========
steward_run_duration_seconds                       env                          last run
steward_runs_total                                 env, status                  recent runs
steward_step_duration_seconds                      env, product                 last run
steward_product_rows / steward_product_bytes       env, product                 current
steward_check_failures                             env, product                 current
steward_check_pass_ratio                           env                          current
steward_freshness_age_seconds                      env, product                 now
steward_freshness_slo_seconds                      env, product                 declared
steward_freshness_slo_compliance_ratio             env, product, window         7d / 30d
steward_alerts_open                                event                        now
steward_schedule_queue_depth                       -                            now
steward_deployments_total                          env                          window
steward_delivery_lead_time_seconds                 -                            median
steward_delivery_change_failure_ratio              -                            window
=================================================  ===========================  ==========
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

RECENT_RUNS = 200


def exposition(ctx: Any, queue_depth: int = 0, env: str | None = None,
               freshness: list[dict[str, Any]] | None = None,
               delivery: dict[str, Any] | None = None) -> bytes:
    """The exposition of ``ctx``'s project (its default environment unless ``env``).
    ``freshness`` and ``delivery``: the server's last reports (its watch computes them
    every pass), else they are computed now."""
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Collector(ctx, queue_depth, env, freshness, delivery))
    return generate_latest(registry)  # type: ignore[no-any-return]


class _Collector:
    def __init__(self, ctx: Any, queue_depth: int, env: str | None,
                 freshness: list[dict[str, Any]] | None, delivery: dict[str, Any] | None):
        self.ctx, self.queue_depth, self.env = ctx, queue_depth, env
        self.freshness, self.delivery = freshness, delivery

    def collect(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        ctx = self.ctx
        env = ctx.env_name(self.env)
        ms = ctx.metastore
        runs = ms.runs(RECENT_RUNS)

        duration = GaugeMetricFamily("steward_run_duration_seconds",
                                     "Duration of the last finished run", labels=["env"])
        last: dict[str, Any] = {}
        for r in runs:
            if r.finished_at is not None and r.env not in last:
                last[r.env] = r
        for e, r in sorted(last.items()):
            duration.add_metric([e], (r.finished_at - r.started_at).total_seconds())
        yield duration

        count = CounterMetricFamily("steward_runs", "Runs recorded (the most recent "
                                    f"{RECENT_RUNS}) by status", labels=["env", "status"])
        for (e, s), n in sorted(Counter((r.env, r.status) for r in runs).items()):
            count.add_metric([e, s], n)
        yield count

        steps = GaugeMetricFamily("steward_step_duration_seconds",
                                  "Duration of each step of the last run",
                                  labels=["env", "product"])
        if env in last:
            for st in ctx.metastore.steps(run_id=last[env].id):
                secs = getattr(st, "duration_s", None)
                if secs is not None:
                    steps.add_metric([env, st.product], float(secs))
        yield steps

        rows = GaugeMetricFamily("steward_product_rows", "Rows of the current version",
                                 labels=["env", "product"])
        size = GaugeMetricFamily("steward_product_bytes", "Bytes of the current version",
                                 labels=["env", "product"])
        fails = GaugeMetricFamily("steward_check_failures",
                                  "1 when the current version's checks failed",
                                  labels=["env", "product"])
        passed = GaugeMetricFamily("steward_check_pass_ratio",
                                   "Share of current versions whose checks passed", labels=["env"])
        current = ctx.current(env) if ms.env_exists(env) else {}
        checked = ok = 0
        for name, v in sorted(current.items()):
            if v.row_count is not None:
                rows.add_metric([env, name], v.row_count)
            if v.bytes is not None:
                size.add_metric([env, name], v.bytes)
            if v.check_status:
                bad = v.check_status in ("fail", "failed", "error")
                fails.add_metric([env, name], 1 if bad else 0)
                checked += 1
                ok += not bad
        if checked:
            passed.add_metric([env], ok / checked)
        yield rows
        yield size
        yield fails
        yield passed

        yield from _freshness(ctx, env, self.freshness)

        from steward.meta.ops import open_alerts

        alerts = GaugeMetricFamily("steward_alerts_open", "Open alerts", labels=["event"])
        for event, n in sorted(Counter(a["event"] for a in
                                       open_alerts(ms).values()).items()):
            alerts.add_metric([event], n)
        yield alerts
        yield GaugeMetricFamily("steward_schedule_queue_depth",
                                "Scheduled runs running or waiting", value=self.queue_depth)
        yield from _delivery(ctx, self.delivery)


def _freshness(ctx: Any, env: str, docs: list[dict[str, Any]] | None) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    from steward.ops.freshness import report

    age = GaugeMetricFamily("steward_freshness_age_seconds", "Age of the product's data",
                            labels=["env", "product"])
    limit = GaugeMetricFamily("steward_freshness_slo_seconds", "The freshness SLO (max age)",
                              labels=["env", "product"])
    comp = GaugeMetricFamily("steward_freshness_slo_compliance_ratio",
                             "Share of the window the product met its freshness SLO",
                             labels=["env", "product", "window"])
    for doc in docs if docs is not None else report(ctx, env, now=datetime.now(UTC)):
        if doc["age_s"] is not None:
            age.add_metric([env, doc["product"]], doc["age_s"])
        if doc["limit_s"] is not None:
            limit.add_metric([env, doc["product"]], doc["limit_s"])
        for w in ("7d", "30d"):
            if doc[f"compliance_{w}"] is not None:
                comp.add_metric([env, doc["product"], w], doc[f"compliance_{w}"])
    yield age
    yield limit
    yield comp


def _delivery(ctx: Any, d: dict[str, Any] | None) -> Any:
    from prometheus_client.core import GaugeMetricFamily

    from steward.ops.delivery import delivery_metrics

    if d is None:
        d = delivery_metrics(ctx, since_days=30)
    deploys = GaugeMetricFamily("steward_deployments_total",
                                "Promotions into protected environments over 30 days",
                                labels=["env"])
    for e, n in sorted(d["deployments_by_env"].items()):
        deploys.add_metric([e], n)
    yield deploys
    if d["lead_time_s"]["median"] is not None:
        yield GaugeMetricFamily("steward_delivery_lead_time_seconds",
                                "Median lead time from commit to production (30 days)",
                                value=d["lead_time_s"]["median"])
    if d["change_failure_rate"] is not None:
        yield GaugeMetricFamily("steward_delivery_change_failure_ratio",
                                "Share of promotions followed by a rollback (30 days)",
                                value=d["change_failure_rate"])
