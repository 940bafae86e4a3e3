"""A real Chromium (Debian's, driven by Playwright) against a live server on loopback.

One browser serves every test here; each test has its own context (cookies). Every page
must load without a console error and without a request to any other host. With
``STEWARD_DOCS_SCREENSHOTS=1`` the screenshots are also written to docs/images/.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from srvhelpers import PASSWORD, LiveServer, make_shop

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DOCS = Path(__file__).resolve().parents[2] / "docs" / "images"
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None,
                                 reason="chromium is not installed (scripts/system-deps.sh)")]


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    os.environ.setdefault("STEWARD_ACTOR", "tester")
    shop = make_shop(tmp_path_factory.mktemp("browser") / "shop")
    server = LiveServer(shop.root)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox",
                                                             "--disable-gpu"])
        yield b
        b.close()


class Watched:
    """A page whose console errors and off-server requests are collected."""

    def __init__(self, browser: Any, live: LiveServer, shots: Path):
        self.live, self.shots = live, shots
        self.context = browser.new_context(viewport={"width": 1360, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.elsewhere: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", self._request)

    def _request(self, req: Any) -> None:
        where = urlsplit(req.url)
        if where.scheme in ("data", "about", "blob"):
            return
        if f"{where.hostname}:{where.port}" != f"127.0.0.1:{self.live.port}":
            self.elsewhere.append(req.url)

    def go(self, path: str) -> Any:
        response = self.page.goto(self.live.url + path)
        self.page.wait_for_load_state("networkidle")
        return response

    def sign_in(self, user: str) -> None:
        self.go("/login")
        self.page.fill("input[name=name]", user)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(self.live.url + "/")
        assert user in self.page.inner_text("#user")

    def shot(self, name: str) -> None:
        path = self.shots / f"web-{name}.png"
        self.page.screenshot(path=str(path), full_page=False)
        assert path.stat().st_size > 15_000, name  # a rendered page, not a blank one
        if os.environ.get("STEWARD_DOCS_SCREENSHOTS"):
            DOCS.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, DOCS / path.name)

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors
        assert self.elsewhere == [], self.elsewhere


@pytest.fixture
def watched(browser: Any, live: LiveServer, tmp_path: Path) -> Iterator[Watched]:
    w = Watched(browser, live, tmp_path)
    yield w
    w.close()


def test_a_viewer_searches_opens_a_product_and_follows_lineage(watched: Watched) -> None:
    w, page = watched, watched.page
    w.sign_in("vic")
    assert page.locator("tr.product").count() == 3
    w.shot("home")
    w.go("/search")
    page.fill("#q", "reven")  # as you type: no submit
    page.wait_for_selector("#hits li a:has-text('marts.daily_revenue')")
    assert page.url.endswith("/search?q=reven")
    w.shot("search")
    page.click("#hits li a:has-text('marts.daily_revenue')")
    page.wait_for_selector("#product-name")
    assert page.inner_text("#owner") == "finance@example.com"
    # the script in the description is text, not code
    assert "<script>" in page.inner_text("#description")
    assert page.evaluate("window.pwned") is None
    w.go("/products/staging.orders")
    failing = page.locator("#checks li.fail")
    assert failing.count() == 1 and "accepted_values_customer" in failing.inner_text()
    assert "•••" in page.inner_text(".sample") and "Linus" not in page.content()
    w.shot("product")
    # lineage: from the mart's revenue column to the upstream amount column
    w.go("/lineage/marts.daily_revenue?column=revenue")
    svg = page.locator("#lineage")
    assert int(svg.get_attribute("data-nodes") or 0) == 3
    assert page.locator("g.col.hot[data-column='staging.orders.amount']").count() == 1
    assert page.locator("g.col.pii[data-column='staging.orders.customer']").count() == 1
    w.shot("lineage")
    before = svg.get_attribute("viewBox")
    page.mouse.move(500, 400)
    page.mouse.wheel(0, -400)
    page.wait_for_function(f"document.getElementById('lineage').getAttribute('viewBox') "
                           f"!== {before!r}")
    page.click("button[data-zoom=reset]")
    page.click("g.col[data-column='staging.orders.amount'] text")
    page.wait_for_url("**/lineage/staging.orders?column=amount")
    assert page.inner_text("#lineage-column") == ".amount"
    assert page.locator("g.col.hot[data-column='raw.orders.amount']").count() == 1


def test_a_viewer_is_refused_a_promotion(watched: Watched) -> None:
    w, page = watched, watched.page
    w.sign_in("vic")
    w.go("/products/marts.daily_revenue")
    page.select_option("#promote-form select[name=source]", "dev")
    page.select_option("#promote-form select[name=target]", "prod")
    page.click("#promote")
    page.wait_for_selector("#error")
    assert "vic (viewer) may not promote from 'dev' to 'prod'" in page.inner_text("#error")
    w.errors = [e for e in w.errors if "403" not in e]  # the refusal itself is a 403


def test_a_developer_runs_and_watches_it_finish_then_an_owner_promotes(
        browser: Any, live: LiveServer, tmp_path: Path) -> None:
    w = Watched(browser, live, tmp_path)
    page = w.page
    w.sign_in("dev")
    w.go("/runs")
    page.fill("#run-all input[name=select]", "marts.daily_revenue")
    page.check("#run-all input[name=full_refresh]")
    page.click("#run-all button[type=submit]")
    page.wait_for_url("**/jobs/*")
    page.wait_for_selector("#job-status[data-status=success]", timeout=120_000)
    assert "marts.daily_revenue: built" in page.inner_text("#job-events")
    assert page.inner_text("#job-count") == "1 of 1"
    w.shot("run")
    page.click("#job-run a")
    page.wait_for_selector("#steps")
    assert "marts.daily_revenue" in page.inner_text("#steps")
    w.shot("run-steps")
    w.close()
    # the owner of finance's products promotes the new version to prod
    w = Watched(browser, live, tmp_path)
    page = w.page
    w.sign_in("mark")
    w.go("/products/marts.daily_revenue")
    page.select_option("#promote-form select[name=source]", "dev")
    page.select_option("#promote-form select[name=target]", "prod")
    page.fill("#promote-form input[name=message]", "reviewed in the browser")
    page.click("#promote")
    page.wait_for_selector("#done")
    assert "marts.daily_revenue" in page.inner_text("table")
    w.go("/audit?action=promote")
    assert "mark" in page.inner_text("#events tbody tr:first-child")
    page.click("#verify")
    page.wait_for_selector("#verify-result.ok")
    w.shot("audit")
    w.go("/compliance")
    assert "staging.orders" in page.inner_text("#pii-products")
    w.shot("compliance")
    w.close()
