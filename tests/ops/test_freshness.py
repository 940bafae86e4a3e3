"""Freshness SLOs: on build time and on a column's newest value, the time series, the
compliance over 7 and 30 days, and `steward freshness`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from steward.context import Context
from steward.ops.freshness import _compliance, breaches, evaluate, record, report
from tests.conftest import steward, write


def _slo(root: Path) -> None:
    # staging.orders: on its build; raw.orders: on the newest order (2026-01 data: stale)
    p = root / "models/staging/orders.yml"
    p.write_text(p.read_text() + "freshness: {max_age: 6h, warn_after: 1h}\n")
    p = root / "sources/raw.yml"
    p.write_text(p.read_text().replace(
        "    owner: shop-team@example.com\n",
        "    owner: shop-team@example.com\n    freshness: {column: ordered_at, max_age: 2d}\n"))


def test_build_time_and_column(starter: Path) -> None:
    _slo(starter)
    ctx = Context(starter)
    assert ctx.run().ok
    now = datetime.now(UTC)
    got = {f.product: f for f in evaluate(ctx, now=now)}
    assert set(got) == {"staging.orders", "raw.orders"}
    built = got["staging.orders"]
    assert built.on == "build" and built.status == "ok" and built.age_s is not None
    assert built.age_s < 3600 and built.limit_s == 6 * 3600
    col = got["raw.orders"]
    assert col.on == "ordered_at" and col.status == "breach"
    assert col.age_s > 2 * 86400
    # seven hours later the build is older than its SLO, and two hours later a warning
    assert {f.product: f.status for f in evaluate(ctx, now=now + timedelta(hours=7))}[
        "staging.orders"] == "breach"
    assert {f.product: f.status for f in evaluate(ctx, now=now + timedelta(hours=2))}[
        "staging.orders"] == "warn"


def test_series_compliance_and_breaches(starter: Path) -> None:
    _slo(starter)
    ctx = Context(starter)
    assert ctx.run().ok
    t0 = datetime.now(UTC)
    # fresh for 3 h, then in breach for 1 h (the samples a server takes), now = t0 + 4 h
    record(ctx, evaluate(ctx, now=t0), at=t0)
    later = evaluate(ctx, now=t0 + timedelta(hours=7))
    record(ctx, later, at=t0 + timedelta(hours=3))
    now = t0 + timedelta(hours=4)
    docs = {d["product"]: d for d in report(ctx, now=now)}
    s = docs["staging.orders"]
    assert s["compliance_7d"] == 0.75 and s["compliance_30d"] == 0.75
    assert len(s["breaches"]) == 1 and s["breaches"][0]["end"] is None
    assert s["breaches"][0]["duration_s"] == 3600.0
    assert docs["raw.orders"]["compliance_7d"] == 0.0


def test_compliance_window_and_resolved_breach() -> None:
    now = datetime(2026, 6, 30, tzinfo=UTC)
    rows = [{"at": now - timedelta(days=20), "status": "breach"},
            {"at": now - timedelta(days=6), "status": "ok"},
            {"at": now - timedelta(days=1), "status": "unknown"}]
    # 7 days: one day in breach (day 7 to 6), five ok, the unknown day not counted
    assert _compliance(rows, 7, now) == 5 / 6
    assert round(_compliance(rows, 30, now) or 0, 4) == round(5 / 19, 4)
    got = breaches(rows, now)
    assert got == [{"start": rows[0]["at"], "end": rows[1]["at"], "duration_s": 14 * 86400.0}]
    assert _compliance([], 7, now) is None


def test_cli_table_json_and_exit(starter: Path) -> None:
    _slo(starter)
    code, out, err = steward(starter, "run")
    assert code == 0, err
    code, out, err = steward(starter, "freshness", "--json", "--record")
    assert code == 1, err  # raw.orders is in breach
    docs = {d["product"]: d for d in json.loads(out)}
    assert docs["raw.orders"]["status"] == "breach"
    assert docs["staging.orders"]["status"] == "ok"
    assert docs["staging.orders"]["compliance_7d"] == 1.0  # the sample just recorded
    code, out, _ = steward(starter, "freshness", "staging.orders")
    assert code == 0 and "staging.orders" in out and "raw.orders" not in out
    assert "ok" in out and "6.0h" in out


def test_bad_duration_names_the_file(starter: Path) -> None:
    write(starter, "models/staging/orders.yml",
          (starter / "models/staging/orders.yml").read_text() + "freshness: {max_age: soon}\n")
    code, out, err = steward(starter, "freshness")
    assert code == 2
    assert "orders.yml" in err and "not a duration" in err
