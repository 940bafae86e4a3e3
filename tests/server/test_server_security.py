"""Attacks on the server: each one refused, escaped or harmless, and nothing changed."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from srvhelpers import PASSWORD, Shop, client_of, login, make_shop

from steward.context import Context

TRAVERSALS = ["../../../../etc/passwd", "..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e%2f%2e%2e%2fetc",
              "....//....//etc/passwd", "%00", "staging.orders%00.html", "..\\..\\windows"]
# every route with a path parameter, the parameter written as {}
PATH_ROUTES = ["/api/v1/products/{}", "/api/v1/products/{}/card", "/api/v1/products/{}/versions",
               "/api/v1/products/{}/checks", "/api/v1/products/{}/profile",
               "/api/v1/products/{}/drift", "/api/v1/products/{}/metrics",
               "/api/v1/products/{}/lineage", "/api/v1/products/{}/preview",
               "/api/v1/runs/{}", "/api/v1/jobs/{}", "/api/v1/jobs/{}/events",
               "/products/{}", "/products/{}/report", "/lineage/{}", "/runs/{}", "/jobs/{}",
               "/static/{}"]


@pytest.mark.parametrize("route", PATH_ROUTES)
def test_path_traversal_in_every_path_parameter(client: Any, shop: Shop, route: str) -> None:
    for attack in TRAVERSALS:
        r = client.get(route.format(attack), headers=shop.auth("ada"))
        assert r.status_code in (400, 404), (route, attack, r.status_code)
        assert "root:x:0:0" not in r.text and "[tool.importlinter]" not in r.text


def test_static_files_stay_in_their_folder(client: Any) -> None:
    for path in ("/static/../app.py", "/static/..%2Fapp.py", "/static/%2e%2e/serve.py",
                 "/static/../../../../pyproject.toml"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert "def create_app" not in r.text


def test_a_script_in_a_description_is_shown_escaped(client: Any, shop: Shop) -> None:
    login(client, "vic")
    for path in ("/products/marts.daily_revenue", "/", "/search?q=revenue",
                 "/lineage/marts.daily_revenue"):
        page = client.get(path).text
        assert "<script>window.pwned" not in page, path
    page = client.get("/products/marts.daily_revenue").text
    assert "&lt;script&gt;window.pwned = 1&lt;/script&gt;" in page
    client.cookies.clear()


def test_script_in_a_column_name_and_a_search_is_escaped(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "odd", users=False)
    (shop.root / "models" / "marts" / "odd.sql").write_text(
        'select order_id as "<img src=x onerror=alert(1)>" from staging.orders\n')
    assert Context(shop.root).run().ok
    c, state = client_of(shop.root)
    try:
        for path in ("/products/marts.odd", "/lineage/marts.odd", "/lineage/staging.orders",
                     "/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E"):
            page = c.get(path).text
            assert "<img src=x" not in page, path
        assert "&lt;img src=x onerror=alert(1)&gt;" in c.get("/products/marts.odd").text
    finally:
        state.stop()


SQL_ATTACKS = ["' OR 1=1 --", "\"); DROP TABLE products; --", "x' UNION SELECT * FROM users --",
               "* MATCH *", "NEAR(a b)", "\"unterminated", "%' OR '%'='"]


def test_sql_injection_through_search_and_filters(client: Any, shop: Shop) -> None:
    auth = shop.auth("vic")
    before = client.get("/api/v1/products", headers=auth).json()
    for attack in SQL_ATTACKS:
        for params in ({"q": attack}, {"q": "order", "owner": attack}, {"q": "", "tag": attack},
                       {"q": "order", "domain": attack}, {"q": "", "classification": attack}):
            r = client.get("/api/v1/search", params=params, headers=auth)
            assert r.status_code in (200, 400), (params, r.text)
            if r.status_code == 200 and params["q"] != "order":
                assert all(attack.lower() in str(h).lower() or h["product"] for h in r.json())
        r = client.get("/api/v1/audit", params={"action": attack, "actor": attack}, headers=auth)
        assert r.status_code in (200, 400) and (r.status_code == 400 or r.json() == [])
        assert client.get("/search", params={"q": attack}, headers=auth).status_code in (
            200, 303)
    assert client.get("/api/v1/products", headers=auth).json() == before
    users = Context(shop.root).accounts().list()
    assert len(users) == 6  # nothing dropped


def test_requests_without_or_with_a_forged_token(client: Any, shop: Shop) -> None:
    real = shop.tokens["vic"]
    forged = [real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB"),
              "stw_0000000000000000_" + "x" * 43, "stw_" + real[4:20] + "_forged-secret-123456",
              "not-a-token", "Bearer", ""]
    assert client.get("/api/v1/products").status_code == 401
    for token in forged:
        r = client.get("/api/v1/products", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, token
        assert r.json()["kind"] == "Unauthenticated"
    r = client.get("/api/v1/products", headers={"Authorization": f"Basic {real}"})
    assert r.status_code == 401
    page = client.get("/", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/runs", {"env": "dev"}),
    ("/api/v1/checks", {"env": "dev"}),
    ("/api/v1/promote", {"source": "dev", "target": "prod"}),
    ("/api/v1/rollback", {"product": "staging.orders", "env": "dev"}),
])
def test_a_viewer_cannot_write(client: Any, shop: Shop, path: str, body: dict[str, Any]) -> None:
    before = client.get("/api/v1/audit?limit=1", headers=shop.auth("ada")).json()
    r = client.post(path, json=body, headers=shop.auth("vic"))
    assert r.status_code == 403
    assert "vic (viewer) may not" in r.json()["error"]
    assert client.get("/api/v1/audit?limit=1", headers=shop.auth("ada")).json() == before


def _change_mart(shop: Shop) -> None:
    """A new version of marts.daily_revenue in dev only."""
    sql = shop.root / "models" / "marts" / "daily_revenue.sql"
    sql.write_text(sql.read_text().rstrip() + "\n-- counted again\n")
    sql.write_text(sql.read_text().replace("count(*)", "count(order_id)"))
    assert Context(shop.root).run(env="dev").ok


def test_an_owner_cannot_promote_another_domains_product(fresh_client: Any) -> None:
    client, shop = fresh_client
    _change_mart(shop)
    prod = client.get("/api/v1/products?env=prod", headers=shop.auth("ada")).json()
    for select in (["marts.daily_revenue"], []):
        r = client.post("/api/v1/promote", json={"source": "dev", "target": "prod",
                                                 "select": select},
                        headers=shop.auth("olivia"))
        assert r.status_code == 403, r.text
        assert "olivia may not promote" in r.json()["error"]
        assert "marts.daily_revenue (domain marts, owner finance@example.com)" in \
            r.json()["error"]
    assert client.get("/api/v1/products?env=prod", headers=shop.auth("ada")).json() == prod
    # the owner of finance's products may, and the audit trail names them
    r = client.post("/api/v1/promote", json={"source": "dev", "target": "prod",
                                             "select": ["marts.daily_revenue"],
                                             "message": "reviewed"},
                    headers=shop.auth("mark"))
    assert r.status_code == 200, r.text
    assert list(r.json()["moved"]) == ["marts.daily_revenue"]
    event = client.get("/api/v1/audit?action=promote&limit=1", headers=shop.auth("ada")).json()
    assert event[0]["actor"] == "mark" and event[0]["targets"] == ["marts.daily_revenue"]


def test_a_developer_cannot_promote_and_no_one_runs_into_a_protected_env(
        fresh_client: Any) -> None:
    client, shop = fresh_client
    r = client.post("/api/v1/promote", json={"source": "dev", "target": "prod"},
                    headers=shop.auth("dev"))
    assert r.status_code == 403 and "needs the role owner" in r.json()["error"]
    yaml = shop.root / "steward.yaml"
    yaml.write_text(yaml.read_text().replace("  default: prod", "  default: prod\n"
                                             "  protected: [prod]"))
    c2, state = client_of(shop.root)
    try:
        r = c2.post("/api/v1/runs", json={"env": "prod"}, headers=shop.auth("ada"))
        assert r.status_code == 409 and "protected" in r.json()["error"]
    finally:
        state.stop()


FORMS = [("/logout", {}), ("/run", {"env": "dev", "select": "staging.orders"}),
         ("/products/staging.orders/promote", {"source": "dev", "target": "prod"}),
         ("/products/staging.orders/rollback", {"env": "dev"})]


def test_every_form_needs_its_csrf_token(fresh_client: Any) -> None:
    client, shop = fresh_client
    csrf = login(client, "ada")
    events = client.get("/api/v1/audit?limit=0").json()
    for path, data in FORMS:
        for token in (None, "", "forged-" + csrf[7:], csrf[:-1]):
            form = {**data, **({"csrf": token} if token is not None else {})}
            r = client.post(path, data=form, follow_redirects=False)
            assert r.status_code == 403, (path, token)
            assert "CSRF" in r.text
    # the API, called from the signed-in browser, needs the header too
    r = client.post("/api/v1/runs", json={"env": "dev"})
    assert r.status_code == 403 and "CSRF" in r.json()["error"]
    assert client.get("/api/v1/audit?limit=0").json() == events
    assert client.get("/").status_code == 200  # still signed in: the logout was refused
    # the sign-in form itself is protected against login CSRF
    client.cookies.clear()
    r = client.post("/login", data={"name": "ada", "password": PASSWORD, "next": "/"},
                    follow_redirects=False)
    assert r.status_code == 403


def test_session_cookie_flags_and_a_wrong_password(client: Any, shop: Shop) -> None:
    client.cookies.clear()
    page = client.get("/login")
    import re

    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    bad = client.post("/login", data={"name": "vic", "password": "wrong password", "csrf": csrf},
                      follow_redirects=False)
    assert bad.status_code == 401 and "steward_session" not in bad.headers.get("set-cookie", "")
    ok = client.post("/login", data={"name": "vic", "password": PASSWORD, "csrf": csrf,
                                     "next": "//evil.example.com/"}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"  # never an open redirect
    cookie = ok.headers["set-cookie"].lower()
    assert "steward_session=" in cookie and "httponly" in cookie and "samesite=lax" in cookie
    assert "Content-Security-Policy" in client.get("/").headers
    client.cookies.clear()


SERVER_THREADS = {"steward-watch", "steward-operate", "steward-schedules"}


def test_a_public_address_needs_a_user(tmp_path: Path) -> None:
    from steward.server.serve import BindRefused, make_app
    from steward.server.state import Settings

    shop = make_shop(tmp_path / "open", users=False)
    with pytest.raises(BindRefused, match="refusing to listen on 0.0.0.0: no user exists"):
        make_app(str(shop.root), Settings("0.0.0.0", 8400, operate=True))
    # refused before any thread started: none is left to be cut off inside the engine
    # when the process exits (that aborts it: 'FATAL: exception not rethrown')
    assert not SERVER_THREADS & {t.name for t in threading.enumerate()}
    _, state = make_app(str(shop.root), Settings("127.0.0.1", 8400, operate=True))
    assert state.open_mode()
    assert {t.name for t in threading.enumerate()} >= SERVER_THREADS
    state.stop()  # stops its threads and waits for them
    assert not SERVER_THREADS & {t.name for t in threading.enumerate()}
    Context(shop.root).accounts().add("ada", "admin", PASSWORD)
    _, state = make_app(str(shop.root), Settings("0.0.0.0", 8400, watch=False))
    assert not state.open_mode()
    state.stop()


def test_stored_secrets_are_slow_salted_hashes(shop: Shop) -> None:
    import sqlite3

    con = sqlite3.connect(shop.root / ".steward" / "meta.db")
    hashes = [h for (h,) in con.execute("SELECT password_hash FROM users")]
    secrets = [h for (h,) in con.execute("SELECT secret_hash FROM user_tokens")]
    con.close()
    assert len(set(hashes)) == 6  # one password, six salts
    assert all(h.startswith("scrypt$16384$8$1$") for h in hashes + secrets)
    stored = " ".join(hashes + secrets)
    assert PASSWORD not in stored
    for token in shop.tokens.values():
        secret = token[len("stw_0123456789abcdef_"):]  # the part after the token id
        assert len(secret) >= 40 and secret not in stored


def test_a_revoked_token_or_removed_user_is_refused_at_once(fresh_client: Any) -> None:
    """Verified tokens are remembered for a minute, but never past a change of the
    accounts made by another process (here: another Context on the same metastore)."""
    client, shop = fresh_client
    other = Context(shop.root).accounts()
    token = other.new_token("vic", "laptop")
    spare = other.new_token("vic", "ci")
    hdr = {"Authorization": f"Bearer {token}"}
    for _ in range(3):  # verified once, then answered from the server's memory
        assert client.get("/api/v1/products", headers=hdr).status_code == 200
        assert client.get("/api/v1/products/staging.orders/card", headers=hdr).status_code == 200
    other.revoke_token(token.split("_")[1])
    for path in ("/api/v1/products", "/api/v1/products/staging.orders/card"):
        r = client.get(path, headers=hdr)
        assert r.status_code == 401, path
        assert r.json()["kind"] == "Unauthenticated" and "revoked" in r.text
    hdr = {"Authorization": f"Bearer {spare}"}
    assert client.get("/api/v1/products/staging.orders/card", headers=hdr).status_code == 200
    other.remove("vic")
    assert client.get("/api/v1/products/staging.orders/card", headers=hdr).status_code == 401
