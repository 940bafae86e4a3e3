"""The HTML report rendered by a real headless Chromium: the charts are there, with data."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from steward.context import Context
from steward.profile.report import build_report
from steward.profile.service import Profiles

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _report(root: Path) -> str:
    ctx = Context(root)
    ctx.run()
    csv = root / "data" / "orders.csv"
    csv.write_text(csv.read_text() + "5,Edsger,1000.00,2026-02-01 08:00:00\n"
                   "6,Barbara,,2026-02-02 09:00:00\n")
    ctx = Context(root)
    ctx.run()
    return build_report(Profiles(ctx.metastore, ctx.store, ctx.engine), "staging.orders", "prod")


def test_report_html_is_self_contained(starter: Path):
    html = _report(starter)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)  # no network fetches
    assert "<script" not in html
    assert html.count('class="chart hist"') == 3  # order_id, amount, order_date
    assert html.count('class="chart topk"') == 1  # customer
    assert 'class="chart series"' in html


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/system-deps.sh)")
def test_report_renders_in_headless_chromium(starter: Path, tmp_path: Path):
    page = tmp_path / "report.html"
    page.write_text(_report(starter), encoding="utf-8")
    profile_dir = tmp_path / "chromium-profile"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", f"--user-data-dir={profile_dir}"]
    dom = subprocess.run([*cmd, "--dump-dom", page.as_uri()], capture_output=True, text=True,
                         timeout=120, check=True).stdout
    assert "<svg" in dom and "staging.orders" in dom
    hist = re.findall(r'<svg class="chart hist" data-bins="(\d+)" data-total="(\d+)"', dom)
    assert len(hist) == 3 and all(int(total) > 0 for _, total in hist)
    bars = re.findall(r'<rect class="bar"[^>]*height="([\d.]+)"', dom)
    assert len(bars) > 10 and any(float(h) > 0 for h in bars)
    assert re.search(r'<svg class="chart series" data-points="2"', dom)
    assert "<polyline" in dom  # previous version drawn over the histogram
    shot = tmp_path / "report.png"
    subprocess.run([*cmd, "--window-size=1300,1600", "--hide-scrollbars",
                    f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120,
                   check=True)
    assert shot.exists() and shot.stat().st_size > 20_000  # a rendered page, not a blank one


def test_distinct_counts_are_labelled_approximate_only_when_sketched():
    from steward.profile.report import _column_card

    col = {"type": "BIGINT", "kind": "numeric", "count": 10, "nulls": 0, "null_fraction": 0.0,
           "distinct": 10, "min": 1.0, "max": 10.0}
    assert "distinct (approx.)" not in _column_card("x", col, None, None)
    assert "distinct (approx.)" in _column_card("x", {**col, "distinct_approx": True}, None,
                                                None)
