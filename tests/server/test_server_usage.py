""""What's my product?": readers counted by way and user, cost, SLO, quality; and the
product page made again when (and only when) what it shows changes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from srvhelpers import client_of, make_shop
from typer.testing import CliRunner

from steward.catalog.usage import products_read
from steward.cli.main import app as cli
from steward.context import Context
from steward.ops.freshness import share_fresh
from steward.ops.usage import _daily


def test_reads_are_counted_by_way_and_user(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("STEWARD_ACTOR", "analyst")
    shop = make_shop(tmp_path / "shop")
    client, state = client_of(shop.root)
    try:
        for _ in range(3):
            assert client.get("/api/v1/products/staging.orders/card",
                              headers=shop.auth("ada")).status_code == 200
        assert client.get("/api/v1/products/daily_revenue/versions",  # by its short name
                          headers=shop.auth("vic")).status_code == 200
        assert client.get("/api/v1/products/staging.orders/versions",
                          headers=shop.auth("vic")).status_code == 200
        # a name that is no product is refused and counts nothing
        assert client.get("/api/v1/products/nope/card",
                          headers=shop.auth("ada")).status_code == 404
        ctx = Context(shop.root)
        ctx.sql("select count(*) from staging.orders o join marts.daily_revenue d "
                "on o.order_date = d.order_date")
        assert state.flush_reads() == 3  # (product, way, user) rows
        assert state.flush_reads() == 0  # nothing counted twice
        doc = client.get("/api/v1/products/staging.orders",
                         headers=shop.auth("ada")).json()["usage"]
    finally:
        state.stop()
    q = doc["consumers"]
    got = {(r["via"], r["actor"]): r["count"] for r in q["queries"]}
    # (daily_revenue's read is its own: it names the other product)
    assert got == {("api", "ada"): 3, ("api", "vic"): 1, ("sql", "analyst"): 1}
    assert q["queries_by_via"] == {"sql": 1, "api": 4, "web": 0}
    assert q["total_queries"] == 5
    assert q["products"] == ["marts.daily_revenue"] and q["models"] == []
    # the last show (counted at stop) is in the metastore now; the CLI says the same
    r = CliRunner().invoke(cli, ["show", "staging.orders", "--project", str(shop.root)])
    assert r.exit_code == 0, r.output
    assert "6 queries in 30 days" in r.output
    assert "ada via api (4)" in r.output


def test_cost_and_quality_come_from_the_builds(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop", users=False)
    ctx = Context(shop.root)
    doc = ctx_usage(ctx, "staging.orders")
    versions = ctx.metastore.versions("staging.orders")
    cost = doc["cost"]
    assert cost["versions_retained"] == len({v.path for v in versions}) >= 1
    assert cost["bytes_stored"] == sum({v.path: v.bytes or 0 for v in versions}.values()) > 0
    steps = [s for s in ctx.metastore.steps(product="staging.orders")
             if s.status == "built"]
    assert cost["builds"] == len(steps)
    assert abs(cost["build_s"] - sum(s.duration_s or 0 for s in steps)) < 1e-3
    assert cost["engine_cpu_s"] is not None and cost["engine_cpu_s"] > 0
    assert cost["engine_cpu_s_current"] is not None
    # quality: the share of checks passed by each version; the accepted_values check on
    # customer fails (a warning), so no version scores 100
    from steward.meta.checks import results_for

    for q in doc["quality"]:
        rs = results_for(ctx.metastore, q["version"])
        assert q["checks"] == len(rs)
        assert q["score"] == round(100 * sum(r.status == "pass" for r in rs) / len(rs), 1)
        assert q["score"] < 100
    assert doc["quality"]
    assert doc["freshness"] is None  # no freshness SLO declared


def ctx_usage(ctx: Context, name: str) -> dict[str, Any]:
    from steward.server.shapes import usage

    return usage(ctx, name, None)


def test_product_page_shows_what_the_product_is_and_is_made_again_on_change(
        tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop", users=False)
    client, state = client_of(shop.root)
    try:
        page = client.get("/products/staging.orders")
        assert page.status_code == 200
        for part in ('id="queries"', 'id="cost"', 'id="quality"', "What it costs"):
            assert part in page.text
        ctx = Context(shop.root)
        before = ctx.current("prod")["staging.orders"].id
        assert before in page.text
        again = client.get("/products/staging.orders")
        assert again.text == page.text  # remembered: nothing it shows changed
        other = state.stamp("marts.daily_revenue")
        assert ctx.run(select=["marts.daily_revenue"], env="dev", full_refresh=True).ok
        assert state.stamp("marts.daily_revenue") != other
        assert ctx.run(select=["staging.orders"], full_refresh=True).ok
        after = ctx.current("prod")["staging.orders"].id
        assert after != before
        page = client.get("/products/staging.orders")
        assert after in page.text  # made again: a new version, pointed at in prod
        # and this page view was counted as a web read by the local user
        state.flush_reads()
        doc = client.get("/api/v1/products/staging.orders").json()["usage"]
        assert doc["consumers"]["queries_by_via"]["web"] == 3
    finally:
        state.stop()


def test_stamp_of_a_product_ignores_other_products_steps(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop", users=False)
    client, state = client_of(shop.root)
    try:
        mine = state.stamp("staging.orders")
        ctx = Context(shop.root)
        # checking another product again writes its results: not this product's
        import dataclasses

        from steward.meta.checks import record_results, results_for

        def recheck(name: str) -> None:
            vid = ctx.current("prod")[name].id
            again = [dataclasses.replace(r, checked_at=None)
                     for r in results_for(ctx.metastore, vid)]
            assert again
            record_results(ctx.metastore, vid, again, name)

        recheck("marts.daily_revenue")
        assert state.stamp("staging.orders") == mine
        recheck("staging.orders")
        assert state.stamp("staging.orders") != mine
    finally:
        state.stop()


def test_queries_name_products_by_full_or_unique_short_name(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop", users=False)
    project = Context(shop.root).project
    assert products_read(project, "select * from staging.orders") == ["staging.orders"]
    assert products_read(project, "select * from daily_revenue") == ["marts.daily_revenue"]
    assert products_read(project, "with orders as (select 1) select * from orders") == []
    assert products_read(project, "summarize staging.orders") == ["staging.orders"]
    assert products_read(project, "select from where (") == []
    assert products_read(project, "select * from read_parquet('x.parquet')") == []


def test_freshness_compliance_by_day() -> None:
    now = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
    day = now.replace(hour=0)
    rows = [{"at": day - timedelta(days=2), "status": "ok"},
            {"at": day - timedelta(days=1, hours=-6), "status": "breach"},  # 06:00
            {"at": day - timedelta(hours=6), "status": "ok"},  # 18:00 the day before
            {"at": day + timedelta(hours=6), "status": "unknown"}]
    assert share_fresh(rows, day - timedelta(days=1), day) == 0.5  # 06:00 to 18:00 in breach
    got = {d["day"]: d["compliance"] for d in _daily(rows, 3, now)}
    assert got == {"2026-03-08": 1.0, "2026-03-09": 0.5, "2026-03-10": 1.0}
    assert share_fresh([], day, now) is None


def test_page_escapes_a_reader_name(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.setenv("STEWARD_ACTOR", "<b>eve</b>")
    shop = make_shop(tmp_path / "shop", users=False)
    Context(shop.root).sql("select 1 from staging.orders limit 1")
    client, state = client_of(shop.root)
    try:
        text = client.get("/products/staging.orders").text
    finally:
        state.stop()
    assert "&lt;b&gt;eve&lt;/b&gt;" in text
    assert not re.search(r"<b>eve</b>", text)


def test_declared_consumers_are_shown_and_only_web_links_followed(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop", users=False)
    mart = shop.root / "models" / "marts" / "daily_revenue.yml"
    mart.write_text(mart.read_text() + (
        "meta:\n  consumers:\n"
        "    - {name: Revenue board, type: dashboard, owner: cfo@example.com, "
        "url: 'https://bi.example.com/revenue'}\n"
        "    - {name: Sneaky, type: application, url: 'javascript:alert(1)'}\n"))
    client, state = client_of(shop.root)
    try:
        doc = client.get("/api/v1/products/marts.daily_revenue").json()["usage"]
        text = client.get("/products/marts.daily_revenue").text
    finally:
        state.stop()
    assert [c["name"] for c in doc["consumers"]["declared"]] == ["Revenue board", "Sneaky"]
    assert '<a href="https://bi.example.com/revenue" rel="noreferrer">Revenue board</a>' in text
    assert "Sneaky" in text and "javascript:" not in text
    r = CliRunner().invoke(cli, ["show", "marts.daily_revenue", "--project", str(shop.root)])
    assert "declared: Revenue board, Sneaky" in r.output
