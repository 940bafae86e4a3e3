"""The hot reads on the lean path (steward.server.lean): the same bytes and headers as the
application, the same users refused, and what is remembered read again when, and only
when, the metastore changed."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from srvhelpers import client_of, make_shop

from steward.context import Context
from steward.meta.checks import record_results, results_for

# what the lean path answers, and the same question the application answers (a query
# the lean path does not take, asking for what the default is)
PAIRS = [
    ("/products/staging.orders", "/products/staging.orders?env=prod"),
    ("/products/daily_revenue", "/products/daily_revenue?preview=false"),  # (a short name)
    ("/api/v1/products/staging.orders/card", "/api/v1/products/staging.orders/card?env=prod"),
    ("/api/v1/search?q=ord", "/api/v1/search?q=ord&limit=20"),
    ("/api/v1/search?q=", "/api/v1/search?q=&limit=20"),
]


def _same_answer(a: Any, b: Any) -> None:
    assert a.status_code == b.status_code == 200
    assert a.content == b.content
    skip = {"set-cookie", "date"}
    assert {k: v for k, v in a.headers.items() if k not in skip} == \
        {k: v for k, v in b.headers.items() if k not in skip}


def test_lean_answers_as_the_application_does(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    client, state = client_of(shop.root)
    try:
        for who in ("ada", "vic"):  # (vic has no pii: a page of his own, masked)
            auth = shop.auth(who)
            for lean, full in PAIRS:
                first = client.get(full, headers=auth)  # verifies the token; makes the page
                before = state.lean_answered
                fast = client.get(lean, headers=auth)
                assert state.lean_answered == before + 1, lean
                again = client.get(full, headers=auth)
                assert state.lean_answered == before + 1  # (not for a query it does not take)
                if "/card" in lean:  # the age of the current version moves between answers
                    assert {**fast.json(), "freshness": None} == \
                        {**again.json(), "freshness": None}
                    assert fast.json()["freshness"]["built_at"] == \
                        again.json()["freshness"]["built_at"]
                    continue
                _same_answer(fast, again)
                _same_answer(first, again)
        # a page made first on the lean path is the one the application answers after
        made = client.get("/products/marts.daily_revenue", headers=shop.auth("vic"))
        _same_answer(made, client.get("/products/marts.daily_revenue?env=prod",
                                      headers=shop.auth("vic")))
        masked = client.get("/products/staging.orders", headers=shop.auth("vic")).text
        raw = client.get("/products/staging.orders", headers=shop.auth("ada")).text
        assert "•••" in masked and masked != raw
        # the reads were counted as the routes count them, per way and user
        state.flush_reads()
        doc = client.get("/api/v1/products/staging.orders", headers=shop.auth("ada")).json()
        got = {(q["via"], q["actor"]): q["count"] for q in doc["usage"]["consumers"]["queries"]}
        assert got[("web", "ada")] == 4 and got[("web", "vic")] == 4
        assert got[("api", "ada")] == 3 and got[("api", "vic")] == 3
    finally:
        state.stop()


def test_lean_refuses_whom_the_application_refuses(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    client, state = client_of(shop.root)
    try:
        assert client.get("/products/staging.orders", headers=shop.auth("ada")).status_code == 200
        assert client.get("/api/v1/products/staging.orders/card",
                          headers=shop.auth("ada")).status_code == 200
        before = state.lean_answered
        page = client.get("/products/staging.orders", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"].startswith("/login")
        for path in ("/api/v1/products/staging.orders/card", "/api/v1/search?q=ord"):
            assert client.get(path).status_code == 401
            forged = {"Authorization": "Bearer stw_" + "0" * 40}
            assert client.get(path, headers=forged).status_code == 401
        ambiguous = client.get("/products/orders", headers=shop.auth("ada"))
        assert ambiguous.status_code == 404 and "ambiguous" in ambiguous.text
        nope = client.get("/api/v1/products/nope/card", headers=shop.auth("ada"))
        assert nope.status_code == 404 and nope.json()["kind"] == "NotFound"
        long_q = client.get("/api/v1/search?q=" + "x" * 501, headers=shop.auth("ada"))
        assert long_q.status_code == 422
        assert state.lean_answered == before  # every one of them went to the application
    finally:
        state.stop()


def test_stamps_are_read_again_when_the_metastore_changed(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop", users=False)
    client, state = client_of(shop.root)
    try:
        gen = state.generation()
        assert gen is not None and state.generation() == gen  # nothing written: the same
        page = client.get("/products/staging.orders").text
        mine, other = state.stamp("staging.orders"), state.stamp("marts.daily_revenue")
        ctx = Context(shop.root)  # another connection, as a run in another process
        vid = ctx.current("prod")["staging.orders"].id
        again = [dataclasses.replace(r, checked_at=None) for r in results_for(ctx.metastore,
                                                                              vid)]
        record_results(ctx.metastore, vid, again, "staging.orders")
        assert state.generation() != gen
        assert state.stamp("staging.orders") != mine  # its checks: read again, changed
        assert state.stamp("marts.daily_revenue") == other  # another product's: the same
        assert ctx.run(select=["staging.orders"], full_refresh=True).ok
        after = ctx.current("prod")["staging.orders"].id
        assert after != vid
        page2 = client.get("/products/staging.orders").text
        assert after in page2 and after not in page  # made again, on the lean path
        hits = state.lean_answered
        assert client.get("/products/staging.orders").text == page2
        assert state.lean_answered == hits + 1
    finally:
        state.stop()


def test_the_csrf_cookie_is_the_one_starlette_would_set(tmp_path: Path) -> None:
    import re

    from starlette.responses import Response

    shop = make_shop(tmp_path / "shop", users=False)
    client, state = client_of(shop.root)
    try:
        client.get("/api/v1/me")  # (the count of users is known from now on)
        for path in ("/products/staging.orders", "/products/staging.orders?env=prod"):
            client.cookies.clear()
            r = client.get(path)
            token = re.search(r'name="csrf" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
            expected = Response()
            expected.set_cookie("steward_csrf", token, httponly=True, samesite="strict")
            assert r.headers["set-cookie"] == expected.headers["set-cookie"]
            # a request with the cookie gets no new one, and its token in the forms
            again = client.get(path)
            assert "set-cookie" not in again.headers
            assert f'name="csrf" value="{token}"' in again.text
        assert state.lean_answered == 2
    finally:
        state.stop()
