"""The API answers with the documents the command line prints with --json."""

from __future__ import annotations

import json
from typing import Any

import pytest
from srvhelpers import Shop
from typer.testing import CliRunner

from steward.cli.main import app as cli

# (API path, CLI arguments); '{root}' is the project folder
SAME = [
    ("/api/v1/products", ["ls", "--json"]),
    ("/api/v1/products?env=dev", ["ls", "--json", "--env", "dev"]),
    ("/api/v1/products/staging.orders", ["show", "staging.orders", "--json"]),
    ("/api/v1/products/daily_revenue/card", ["catalog", "show", "daily_revenue", "--json"]),
    ("/api/v1/products/staging.orders/versions", ["log", "staging.orders", "--json"]),
    ("/api/v1/products/staging.orders/checks", ["check", "show", "staging.orders", "--json"]),
    ("/api/v1/products/staging.orders/metrics", ["metrics", "staging.orders", "--json"]),
    ("/api/v1/search?q=order", ["catalog", "search", "order", "--json"]),
    ("/api/v1/search?q=&classification=pii", ["catalog", "search", "--classification", "pii",
                                              "--json"]),
    ("/api/v1/runs", ["runs", "--json"]),
    ("/api/v1/environments", ["env", "ls", "--json"]),
    ("/api/v1/plan?env=dev", ["plan", "--env", "dev", "--json"]),
    ("/api/v1/glossary", ["glossary", "--json"]),
    ("/api/v1/owners", ["owners", "--json"]),
    ("/api/v1/audit?limit=20", ["audit", "log", "--limit", "20", "--json"]),
    ("/api/v1/products/staging.orders/lineage?column=customer",
     ["lineage", "staging.orders.customer", "--format", "json"]),
    ("/api/v1/diff?product=staging.orders&a=prod&b=dev",
     ["diff", "staging.orders", "prod", "dev", "--json"]),
]


def cli_json(root: Any, args: list[str]) -> Any:
    r = CliRunner().invoke(cli, [*args, "--project", str(root)])
    assert r.exit_code in (0, 1), r.output
    return json.loads(r.stdout)


@pytest.mark.parametrize(("path", "args"), SAME, ids=[p for p, _ in SAME])
def test_api_document_is_the_cli_json(client: Any, shop: Shop, path: str,
                                      args: list[str]) -> None:
    r = client.get(path, headers=shop.auth("ada"))
    assert r.status_code == 200, r.text
    assert steady(r.json()) == steady(cli_json(shop.root, args))


def steady(doc: Any) -> Any:
    """``doc`` without the age of a version (seconds since it was built: it moves)."""
    if isinstance(doc, dict):
        return {k: steady(v) for k, v in doc.items() if k != "age_s"}
    if isinstance(doc, list):
        return [steady(v) for v in doc]
    return doc


def test_profile_and_run_steps_match_the_cli(client: Any, shop: Shop) -> None:
    got = client.get("/api/v1/products/staging.orders/profile", headers=shop.auth("ada")).json()
    assert got == cli_json(shop.root, ["profile", "staging.orders", "--json"])
    run_id = got and client.get("/api/v1/runs", headers=shop.auth("ada")).json()[0]["id"]
    steps = client.get(f"/api/v1/runs/{run_id}", headers=shop.auth("ada")).json()
    assert steps == cli_json(shop.root, ["runs", run_id, "--json"])
    assert {s["product"] for s in steps} == {"raw.orders", "staging.orders",
                                             "marts.daily_revenue"}


def test_compliance_matches_the_cli_but_for_its_time(client: Any, shop: Shop) -> None:
    got = client.get("/api/v1/compliance", headers=shop.auth("ada")).json()
    want = cli_json(shop.root, ["compliance", "--format", "json"])
    got.pop("generated_at")
    want.pop("generated_at")
    assert got == want
    assert [p["name"] for p in got["pii_products"]] == ["raw.orders", "staging.orders"]


def test_audit_verify_reports_an_intact_chain(client: Any, shop: Shop) -> None:
    got = client.get("/api/v1/audit/verify", headers=shop.auth("vic")).json()
    want = cli_json(shop.root, ["audit", "verify", "--json"])
    assert got["ok"] is True and got["events"] == want["events"] > 0


def test_openapi_document_lists_the_versioned_api(client: Any) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["info"]["version"] == "v1"
    paths = set(doc["paths"])
    assert {"/api/v1/products", "/api/v1/products/{name}", "/api/v1/search",
            "/api/v1/promote", "/api/v1/rollback", "/api/v1/runs"} <= paths
    assert not any(p.startswith("/products") or p == "/" for p in paths)  # pages stay out


def test_unknown_product_is_one_clear_404(client: Any, shop: Shop) -> None:
    r = client.get("/api/v1/products/stagin.orders", headers=shop.auth("vic"))
    assert r.status_code == 404
    assert r.json() == {"error": "no product 'stagin.orders'; did you mean 'staging.orders'?",
                        "kind": "NotFound"}


def test_me_names_the_token_owner(client: Any, shop: Shop) -> None:
    assert client.get("/api/v1/me", headers=shop.auth("olivia")).json() == {
        "name": "olivia", "role": "owner", "domains": ["staging"], "owners": [],
        "pii": False, "via": "token"}


def test_the_page_of_an_empty_product_renders(tmp_path: Any) -> None:
    """A version with no rows has a profile without distinct counts or extremes."""
    from srvhelpers import client_of, make_shop

    shop = make_shop(tmp_path / "shop", users=False)
    mart = shop.root / "models" / "marts" / "daily_revenue.sql"
    mart.write_text(mart.read_text().replace("group by order_date",
                                             "group by order_date having count(*) > 1000"))
    from steward.context import Context

    assert Context(shop.root).run().ok
    assert Context(shop.root).current()["marts.daily_revenue"].row_count == 0
    c, state = client_of(shop.root)
    try:
        r = c.get("/products/marts.daily_revenue")
        assert r.status_code == 200, r.text[:500]
        assert "marts.daily_revenue" in r.text
    finally:
        state.stop()
