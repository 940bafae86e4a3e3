"""/metrics: the exposition parsed back with prometheus_client's own parser; the
operations page and the delivery metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from steward.context import Context
from steward.ops.freshness import evaluate, record
from steward.server.serve import make_app
from steward.server.state import Settings
from tests.conftest import steward


def _families(text: str) -> dict[str, Any]:
    return {f.name: f for f in text_string_to_metric_families(text)}


def _client(root: Path, operate: bool = False) -> tuple[Any, Any]:
    from fastapi.testclient import TestClient

    app, state = make_app(str(root), Settings(watch=False, operate=operate))
    return TestClient(app), state


def test_metrics_exposition(starter: Path) -> None:
    p = starter / "models/staging/orders.yml"
    p.write_text(p.read_text() + "freshness: {max_age: 6h}\n")
    ctx = Context(starter)
    assert ctx.run().ok
    record(ctx, evaluate(ctx))
    c, state = _client(starter)
    try:
        r = c.get("/metrics")
    finally:
        state.stop()
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    fam = _families(r.text)
    rows = {s.labels["product"]: s.value for s in fam["steward_product_rows"].samples}
    assert rows["staging.orders"] == ctx.current()["staging.orders"].row_count
    assert set(rows) == {"raw.orders", "staging.orders", "marts.daily_revenue"}
    runs = fam["steward_runs"].samples
    assert any(s.labels == {"env": "prod", "status": "success"} and s.value == 1 for s in runs)
    assert fam["steward_run_duration_seconds"].samples[0].value > 0
    age = fam["steward_freshness_age_seconds"].samples
    assert [s.labels["product"] for s in age] == ["staging.orders"] and age[0].value < 3600
    comp = {s.labels["window"]: s.value
            for s in fam["steward_freshness_slo_compliance_ratio"].samples}
    assert comp == {"7d": 1.0, "30d": 1.0}
    assert fam["steward_freshness_slo_seconds"].samples[0].value == 21600
    assert fam["steward_check_pass_ratio"].samples[0].value == 1.0
    assert fam["steward_schedule_queue_depth"].samples[0].value == 0
    steps = {s.labels["product"] for s in fam["steward_step_duration_seconds"].samples}
    assert "staging.orders" in steps


def test_operations_page_and_delivery(starter: Path) -> None:
    p = starter / "steward.yaml"
    p.write_text(p.read_text().replace("  default: prod\n", "  default: prod\n"
                                       "  protected: [prod]\n"))
    ctx = Context(starter)
    assert ctx.run(env="dev").ok
    code, out, err = steward(starter, "promote", "dev", "prod")
    assert code == 0, err
    code, out, err = steward(starter, "delivery", "--json")
    assert code == 0, err
    d = json.loads(out)
    assert d["deployments"] == 1 and d["production"] == ["prod"]
    assert d["deployments_by_env"] == {"prod": 1}
    assert d["lead_time_s"]["count"] == 3 and d["lead_time_s"]["median"] >= 0
    assert d["change_failure_rate"] == 0.0
    # the spelling, 'steward metrics delivery', answers the same
    code, out2, err = steward(starter, "metrics", "delivery", "--since", "30d", "--json")
    assert code == 0, err
    assert json.loads(out2) == d
    code, out, err = steward(starter, "rollback", "prod")
    code2, out2, _ = steward(starter, "delivery", "--json")
    if code == 0:  # a rollback of the promotion makes it a failed change
        assert json.loads(out2)["change_failure_rate"] == 1.0
    c, state = _client(starter)
    try:
        page = c.get("/operations")
        metrics = c.get("/metrics").text
    finally:
        state.stop()
    assert page.status_code == 200 and "deployment frequency" in page.text
    assert "1 promotions" in page.text
    fam = _families(metrics)
    assert fam["steward_deployments_total"].samples[0].labels == {"env": "prod"}


def test_delivery_bad_since(starter: Path) -> None:
    code, _, err = steward(starter, "delivery", "--since", "lately")
    assert code == 2 and "--since" in err


def test_metrics_need_a_token_once_users_exist(starter: Path) -> None:
    ctx = Context(starter)
    assert ctx.run().ok
    accounts = ctx.accounts()
    accounts.add("prometheus", "viewer", "correct horse battery", (), (), False)
    token = accounts.new_token("prometheus", "scrape")
    c, state = _client(starter)
    try:
        anonymous = c.get("/metrics", follow_redirects=False)
        scraped = c.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    finally:
        state.stop()
    assert anonymous.status_code in (303, 401) and "steward_" not in anonymous.text
    assert scraped.status_code == 200
    assert "steward_product_rows" in _families(scraped.text)


def test_text_is_prometheus_clients_own(starter: Path) -> None:
    """The exposition writes each family as prometheus_client.generate_latest would."""
    from prometheus_client import CollectorRegistry, generate_latest

    from steward.ops import prom

    def library(fam: Any) -> bytes:
        class One:
            def collect(self) -> Any:
                yield fam.build()

        reg = CollectorRegistry(auto_describe=False)
        reg.register(One())  # type: ignore[arg-type]
        return generate_latest(reg)  # type: ignore[no-any-return]

    p = starter / "models/staging/orders.yml"
    p.write_text(p.read_text() + "freshness: {max_age: 6h}\n")
    ctx = Context(starter)
    assert ctx.run().ok
    record(ctx, evaluate(ctx))
    fams = list(prom._Collector(ctx, 2, None, None, None).collect())
    assert sum(len(f.rows) for f in fams) > 10
    odd = prom._Fam("steward_odd", 'help with \\ and\nnewline "q"',
                    labels=["product", "env", "window"])
    for i, v in enumerate((1.0, 0.0, -2.5, 1e22, 123456789.0, float("inf"), float("-inf"),
                           float("nan"), 7)):
        odd.add_metric([f'a"b\\c\nd é{i}', "prod", "7d"], v)
    counter = prom._Fam("steward_things", "Things", labels=["env", "status"], kind="counter")
    counter.add_metric(["prod", "success"], 3)
    for fam in [*fams, odd, counter, prom._Fam("steward_one", "One", value=4.5)]:
        assert prom._write(fam) == library(fam), fam.name
    from steward.ops.delivery import delivery_metrics
    from steward.ops.freshness import report

    docs, d = report(ctx), delivery_metrics(ctx)
    prom.clear_cache()
    for _ in range(2):  # written, then from the cache
        text = prom.exposition(ctx, 2, freshness=docs, delivery=d)
        assert text == b"".join(library(f) for f in
                                prom._Collector(ctx, 2, None, docs, d).collect())
