"""Runs, checks, promotions and rollbacks from the web; personal data masked; accounts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from srvhelpers import Shop, login
from typer.testing import CliRunner

from steward.cli.main import app as cli
from steward.context import Context
from tests.conftest import steward


def wait_job(client: Any, job_id: str, auth: dict[str, str]) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    while True:
        job = client.get(f"/api/v1/jobs/{job_id}", headers=auth).json()
        if job["status"] in ("success", "failed", "error"):
            return job  # type: ignore[no-any-return]
        assert time.monotonic() < deadline, job
        time.sleep(0.1)


def test_a_developer_runs_into_dev_and_the_events_stream(fresh_client: Any) -> None:
    client, shop = fresh_client
    auth = shop.auth("dev")
    r = client.post("/api/v1/runs", json={"env": "dev", "full_refresh": True}, headers=auth)
    assert r.status_code == 202, r.text
    job = wait_job(client, r.json()["id"], auth)
    assert job["status"] == "success", job
    kinds = [e["type"] for e in job["events"]]
    assert kinds[0] == "started" and kinds[-1] == "finished" and "run_started" in kinds
    assert sorted(e["product"] for e in job["events"] if e["type"] == "step_finished") == [
        "marts.daily_revenue", "raw.orders", "staging.orders"]
    # the stream replays every event to a late subscriber, then ends
    with client.stream("GET", f"/api/v1/jobs/{job['id']}/events", headers=auth) as s:
        body = "".join(s.iter_text())
    assert body.count("event: step_finished") == 3 and "event: finished" in body
    run = client.get("/api/v1/runs?limit=1", headers=auth).json()[0]
    assert run["actor"] == "dev" and run["env"] == "dev"
    audit = client.get("/api/v1/audit?action=run&limit=1", headers=auth).json()
    assert audit[0]["actor"] == "dev"


def test_a_failing_selection_is_refused_before_any_job(fresh_client: Any) -> None:
    client, shop = fresh_client
    r = client.post("/api/v1/runs", json={"env": "dev", "select": ["nope"]},
                    headers=shop.auth("dev"))
    assert r.status_code == 400 and "nope" in r.json()["error"]
    assert client.get("/api/v1/jobs", headers=shop.auth("dev")).json() == []


def test_a_check_job_records_results_and_an_audit_event(fresh_client: Any) -> None:
    client, shop = fresh_client
    auth = shop.auth("dev")
    r = client.post("/api/v1/checks", json={"env": "dev", "select": ["staging.orders"]},
                    headers=auth)
    job = wait_job(client, r.json()["id"], auth)
    assert job["status"] == "success"  # the failing check is a warning
    [doc] = job["result"]
    assert doc["product"] == "staging.orders" and doc["status"] == "warn"
    event = client.get("/api/v1/audit?action=check&limit=1", headers=auth).json()[0]
    assert event["actor"] == "dev" and event["targets"] == ["staging.orders"]


def test_an_owner_rolls_back_what_they_hold(fresh_client: Any) -> None:
    client, shop = fresh_client
    sql = shop.root / "models" / "staging" / "orders.sql"
    sql.write_text(sql.read_text().replace("where amount > 0", "where amount > 1"))
    assert Context(shop.root).run(env="dev").ok
    before = client.get("/api/v1/products/staging.orders/versions", headers=shop.auth("ada"))
    r = client.post("/api/v1/rollback", json={"product": "staging.orders", "env": "dev"},
                    headers=shop.auth("mark"))
    assert r.status_code == 403 and "staging.orders (domain staging" in r.json()["error"]
    r = client.post("/api/v1/rollback", json={"product": "staging.orders", "env": "dev",
                                              "message": "bad filter"},
                    headers=shop.auth("olivia"))
    assert r.status_code == 200, r.text
    moved = r.json()["moved"]["staging.orders"]
    assert moved["from"] == before.json()[0]["version"] and moved["to"] != moved["from"]
    event = client.get("/api/v1/audit?action=rollback&limit=1", headers=shop.auth("ada")).json()
    assert event[0]["actor"] == "olivia" and event[0]["reason"] == "bad filter"


def test_personal_values_are_masked_without_pii(client: Any, shop: Shop) -> None:
    def seen(user: str) -> str:
        auth = shop.auth(user)
        parts = [client.get(f"/api/v1/products/staging.orders/{what}", headers=auth).text
                 for what in ("profile", "preview")]
        return "\n".join(parts)

    masked, raw = seen("vic"), seen("pat")
    for name in ("Linus", "Grace", "Ada"):
        assert name in raw and name not in masked
    prof = client.get("/api/v1/products/staging.orders/profile", headers=shop.auth("vic")).json()
    customer = prof["profile"]["columns"]["customer"]
    assert customer["masked"] and {v for v, _ in customer["top"]} == {"•••"}
    assert "min" not in customer and customer["count"] == 4  # counts stay
    assert prof["profile"]["columns"]["amount"]["max"] == 99.0  # other columns untouched
    # the pages and the HTML report too: the failing rows of the warn check name Linus
    login(client, "vic")
    for path in ("/products/staging.orders?preview=1", "/products/staging.orders/report",
                 "/products/raw.orders?preview=1"):
        page = client.get(path).text
        assert "Linus" not in page and "Grace" not in page, path
    assert "failing rows of" in client.get("/products/staging.orders").text
    client.cookies.clear()
    login(client, "pat")
    assert "Linus" in client.get("/products/staging.orders").text
    client.cookies.clear()


def test_users_commands(fresh_shop: Shop) -> None:
    root = str(fresh_shop.root)
    run = CliRunner().invoke
    r = run(cli, ["users", "add", "zoe", "--role", "owner", "-d", "marts", "--pii",
                  "--password-stdin", "-p", root], input="a long password\n")
    assert r.exit_code == 0, r.output
    r = run(cli, ["users", "list", "--json", "-p", root])
    zoe = next(u for u in json.loads(r.stdout) if u["name"] == "zoe")
    assert zoe == {"name": "zoe", "role": "owner", "domains": ["marts"], "owners": [],
                   "pii": True, "password": True, "tokens": 0,
                   "created_at": zoe["created_at"]}
    r = run(cli, ["users", "token", "zoe", "--label", "ci", "-p", root])
    token = r.stdout.strip()
    assert token.startswith("stw_") and Context(root).accounts().token_user(token).name == "zoe"
    code, _, err = steward(fresh_shop.root, "users", "add", "Zoe!", "--no-password")
    assert code == 2 and "error: invalid user name 'Zoe!'" in err and "Traceback" not in err
    code, _, err = steward(fresh_shop.root, "users", "add", "yan", "--role", "boss",
                           "--no-password")
    assert code == 2 and "unknown role 'boss': one of viewer, developer, owner, admin" in err
    r = run(cli, ["users", "remove", "zoe", "-p", root])
    assert r.exit_code == 0
    assert Context(root).accounts().token_user(token) is None
    actions = [e.action for e in Context(root).audit_trail().log(None, None, None, None, 5)]
    assert actions[:3] == ["users.remove", "users.token", "users.add"]


def test_an_open_server_acts_as_the_local_user_and_still_checks_csrf(tmp_path: Path) -> None:
    import re

    from srvhelpers import client_of, make_shop

    shop = make_shop(tmp_path / "open", users=False)
    client, state = client_of(shop.root)
    try:
        assert client.get("/api/v1/me").json()["via"] == "local"
        page = client.get("/runs")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        refused = client.post("/run", data={"env": "dev", "csrf": "guess"},
                              follow_redirects=False)
        assert refused.status_code == 403
        started = client.post("/run", data={"env": "dev", "select": "raw.orders",
                                            "csrf": csrf}, follow_redirects=False)
        assert started.status_code == 303 and started.headers["location"].startswith("/jobs/")
        job = wait_job(client, started.headers["location"].rsplit("/", 1)[1], {})
        assert job["status"] == "success" and job["user"] == "tester"
    finally:
        state.stop()


def test_a_diffs_row_sample_is_masked_without_pii(fresh_client: Any) -> None:
    client, shop = fresh_client
    csv = shop.root / "data" / "orders.csv"
    csv.write_text(csv.read_text().replace("4,Linus,42.00", "4,Margaret,43.00")
                   + "5,Edsger,7.00,2026-01-05 10:00:00\n")
    assert Context(shop.root).run(env="dev").ok
    query = "/api/v1/diff?product=staging.orders&a=prod&b=dev"
    raw = client.get(query, headers=shop.auth("pat")).json()
    masked = client.get(query, headers=shop.auth("vic")).json()
    assert raw["sample"]["changed"][0]["changes"]["customer"] == ["Linus", "Margaret"]
    text = json.dumps(masked["sample"], ensure_ascii=False)
    assert "Margaret" not in text and "Linus" not in text
    assert masked["sample"]["changed"][0]["changes"]["customer"] == ["•••", "•••"]
    assert masked["added"] == raw["added"] == 1
    assert masked["sample"]["changed"][0]["changes"]["amount"] == ["42.0", "43.0"]


def test_only_an_admin_collects_garbage(fresh_client: Any) -> None:
    client, shop = fresh_client
    for user in ("dev", "olivia"):
        r = client.post("/api/v1/gc", json={"dry_run": False}, headers=shop.auth(user))
        assert r.status_code == 403 and "needs the role admin" in r.json()["error"]
    r = client.post("/api/v1/gc", json={"dry_run": True, "keep_last": 0},
                    headers=shop.auth("ada"))
    assert r.status_code == 200 and r.json()["dry_run"] is True
    want = json.loads(CliRunner().invoke(cli, ["gc", "--dry-run", "--keep-last", "0", "--json",
                                               "-p", str(shop.root)]).stdout)
    assert r.json() == want
