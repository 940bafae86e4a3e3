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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.ops.parts import OpsParts

RECENT_RUNS = 200


def exposition(ctx: OpsParts, queue_depth: int = 0, env: str | None = None,
               freshness: list[dict[str, Any]] | None = None,
               delivery: dict[str, Any] | None = None) -> bytes:
    """The exposition of ``ctx``'s project (its default environment unless ``env``).
    ``freshness`` and ``delivery``: the server's last reports (its watch computes them
    every pass), else they are computed now."""
    families = _Collector(ctx, queue_depth, env, freshness, delivery).collect()
    return b"".join(_render(f) for f in families)


class _Fam:
    """A metric family as plain data (name, kind, help, label names, rows): the
    library's family is built only when its text is not known yet."""

    def __init__(self, name: str, documentation: str, value: float | None = None,
                 labels: list[str] | None = None, kind: str = "gauge"):
        self.name, self.documentation, self.kind = name, documentation, kind
        self.labels = tuple(labels or ())
        self.rows: list[tuple[tuple[str, ...], float]] = []
        if value is not None:
            self.rows.append(((), value))

    def add_metric(self, labels: list[str], value: float) -> None:
        self.rows.append((tuple(labels), value))

    def build(self) -> Any:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        cls = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        fam = cls(self.name, self.documentation, labels=list(self.labels))
        for labels, value in self.rows:
            fam.add_metric(list(labels), value)
        return fam


# a family's text by its content: between two scrapes most families did not change
# (rows and bytes move when a run publishes, ages when the watch passes)
_RENDERED: dict[Any, bytes] = {}
_KEEP = 64


def _render(family: _Fam) -> bytes:
    key = (family.name, family.kind, family.documentation, family.labels,
           tuple(family.rows))
    text = _RENDERED.get(key)
    if text is None:
        text = _write(family)
        if len(_RENDERED) >= _KEEP:
            _RENDERED.clear()
        _RENDERED[key] = text
    return text


def _write(f: _Fam) -> bytes:
    r"""The family in the text format, as ``prometheus_client.generate_latest`` writes it
    (a test compares the two byte for byte) at a fifth of its cost: the label names are
    this module's own and valid, so only label values are escaped (``\\``, ``\n``,
    ``"``) and numbers are the library's ``floatToGoString``."""
    from prometheus_client.utils import floatToGoString as num

    name = f.name + "_total" if f.kind == "counter" else f.name
    doc = f.documentation.replace("\\", r"\\").replace("\n", r"\n")
    out = [f"# HELP {name} {doc}\n# TYPE {name} {f.kind}\n"]
    order = sorted(range(len(f.labels)), key=lambda i: f.labels[i])
    heads = [f'{f.labels[i]}="' for i in order]
    for labels, value in f.rows:
        if heads:
            inner = ",".join(h + labels[i].replace("\\", r"\\").replace("\n", r"\n")
                             .replace('"', r'\"') + '"' for h, i in zip(heads, order,
                                                                        strict=True))
            out.append(f"{name}{{{inner}}} {num(value)}\n")
        else:
            out.append(f"{name} {num(value)}\n")
    return "".join(out).encode()


def clear_cache() -> None:
    """Forget rendered families (benchmarks measure the cold path with it)."""
    _RENDERED.clear()


class _Collector:
    """The families of the exposition, read with a few narrow queries (no version or
    run record is decoded: only the columns each metric shows)."""

    def __init__(self, ctx: OpsParts, queue_depth: int, env: str | None,
                 freshness: list[dict[str, Any]] | None, delivery: dict[str, Any] | None):
        self.ctx, self.queue_depth, self.env = ctx, queue_depth, env
        self.freshness, self.delivery = freshness, delivery

    def collect(self) -> Any:
        from steward.meta.ops import current_facts, recent_runs, step_durations

        ctx = self.ctx
        env = ctx.env_name(self.env)
        ms = ctx.metastore
        runs = recent_runs(ms, RECENT_RUNS)  # (id, env, status, started, finished)

        duration = _Fam("steward_run_duration_seconds",
                                     "Duration of the last finished run", labels=["env"])
        last: dict[str, Any] = {}
        for r in runs:
            if r[4] is not None and r[1] not in last:
                last[r[1]] = r
        for e, r in sorted(last.items()):
            duration.add_metric([e], (r[4] - r[3]).total_seconds())
        yield duration

        count = _Fam("steward_runs", "Runs recorded (the most recent "
                     f"{RECENT_RUNS}) by status", labels=["env", "status"], kind="counter")
        for (e, s), n in sorted(Counter((r[1], r[2]) for r in runs).items()):
            count.add_metric([e, s], n)
        yield count

        steps = _Fam("steward_step_duration_seconds",
                                  "Duration of each step of the last run",
                                  labels=["env", "product"])
        if env in last:
            for product, secs in step_durations(ms, last[env][0]):
                steps.add_metric([env, product], secs)
        yield steps

        rows = _Fam("steward_product_rows", "Rows of the current version",
                                 labels=["env", "product"])
        size = _Fam("steward_product_bytes", "Bytes of the current version",
                                 labels=["env", "product"])
        fails = _Fam("steward_check_failures",
                                  "1 when the current version's checks failed",
                                  labels=["env", "product"])
        passed = _Fam("steward_check_pass_ratio",
                                   "Share of current versions whose checks passed", labels=["env"])
        checked = ok = 0
        for name, n_rows, n_bytes, check_status in current_facts(ms, env):
            if n_rows is not None:
                rows.add_metric([env, name], n_rows)
            if n_bytes is not None:
                size.add_metric([env, name], n_bytes)
            if check_status:
                bad = check_status in ("fail", "failed", "error")
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

        alerts = _Fam("steward_alerts_open", "Open alerts", labels=["event"])
        for event, n in sorted(Counter(a["event"] for a in
                                       open_alerts(ms).values()).items()):
            alerts.add_metric([event], n)
        yield alerts
        yield _Fam("steward_schedule_queue_depth",
                                "Scheduled runs running or waiting", value=self.queue_depth)
        yield from _delivery(ctx, self.delivery)


def _freshness(ctx: OpsParts, env: str, docs: list[dict[str, Any]] | None) -> Any:
    from steward.ops.freshness import report

    age = _Fam("steward_freshness_age_seconds", "Age of the product's data",
                            labels=["env", "product"])
    limit = _Fam("steward_freshness_slo_seconds", "The freshness SLO (max age)",
                              labels=["env", "product"])
    comp = _Fam("steward_freshness_slo_compliance_ratio",
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


def _delivery(ctx: OpsParts, d: dict[str, Any] | None) -> Any:
    from steward.ops.delivery import delivery_metrics

    if d is None:
        d = delivery_metrics(ctx, since_days=30)
    deploys = _Fam("steward_deployments_total",
                                "Promotions into protected environments over 30 days",
                                labels=["env"])
    for e, n in sorted(d["deployments_by_env"].items()):
        deploys.add_metric([e], n)
    yield deploys
    if d["lead_time_s"]["median"] is not None:
        yield _Fam("steward_delivery_lead_time_seconds",
                                "Median lead time from commit to production (30 days)",
                                value=d["lead_time_s"]["median"])
    if d["change_failure_rate"] is not None:
        yield _Fam("steward_delivery_change_failure_ratio",
                                "Share of promotions followed by a rollback (30 days)",
                                value=d["change_failure_rate"])
