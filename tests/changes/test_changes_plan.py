"""Plan categories, column-level downstream impact, and non-breaking reuse."""

from __future__ import annotations

import json
from pathlib import Path

from chelpers import edit, fresh, staging_sql
from typer.testing import CliRunner

from steward.cli.main import app
from steward.run.changes import columns_used, compare_metadata, compare_sql
from steward.run.envops import plan


def _change(cp, name):
    return next(c for c in cp.to_json()["changes"] if c["product"] == name)


def test_compare_sql_categories() -> None:
    base = "select a, b from t where x > 0"
    assert compare_sql(base, "select a, b, c + 1 as c from t where x > 0").category == \
        "non-breaking"
    assert compare_sql(base, "select a, b from t where x > 1").category == "breaking"
    assert compare_sql(base, "select a from t where x > 0").removed == ["b"]
    ch = compare_sql(base, "select a, b * 2 as b from t where x > 0")
    assert (ch.category, ch.modified) == ("breaking", ["b"])
    assert compare_sql(base, "select a, b from t join u using (k) where x > 0").category == \
        "breaking"
    assert compare_sql("select a, count(*) n from t group by a",
                       "select a, b, count(*) n from t group by a, b").category == "breaking"
    assert compare_sql(base, "SELECT a,\n  b FROM t WHERE x > 0").category == "metadata-only"


def test_columns_used_follows_aliases_and_stars(starter: Path) -> None:
    from steward.context import Context

    parent = Context(starter).project.products["staging.orders"]
    assert columns_used("select o.amount, x.y from staging.orders o join z x on o.k = x.k",
                        parent) >= {"amount", "k"}
    assert "customer" not in columns_used("select sum(amount) s from staging.orders", parent)
    assert columns_used("select * from staging.orders", parent) is None
    assert columns_used("select o.* from staging.orders o", parent) is None


def test_metadata_vs_contract() -> None:
    cat, why = compare_metadata({"description": "a"}, {"description": "b"})
    assert cat == "metadata-only" and why
    cat, why = compare_metadata({"columns": {"x": {"type": "INTEGER"}}},
                                {"columns": {"x": {"type": "BIGINT"}}})
    assert cat == "breaking" and "type" in why[0]


def test_added_column_keeps_downstream(built: Path) -> None:
    staging_sql(built, extra=", amount * 2 as doubled")
    ctx = fresh(built)
    cp = plan(ctx)
    c = _change(cp, "staging.orders")
    assert c["category"] == "non-breaking" and c["columns"]["added"] == ["doubled"]
    mart = c["downstream"][0]
    assert mart["product"] == "marts.daily_revenue" and mart["action"] == "reuse"
    assert set(mart["uses"]) == {"amount", "order_date"}
    before = ctx.current()["marts.daily_revenue"]
    result = ctx.run()
    counts = result.summary()["counts"]
    assert counts["built"] == 1  # only staging.orders; the mart keeps its data
    after = fresh(built).current()["marts.daily_revenue"]
    assert after.path == before.path and after.id != before.id
    assert after.inputs["staging.orders"] == fresh(built).current()["staging.orders"].id
    # and the next plan sees nothing to do
    assert plan(fresh(built)).to_json()["summary"]["build"] == 0


def test_star_downstream_rebuilds_on_added_column(built: Path) -> None:
    edit(built, "models/marts/everything.sql", "select * from staging.orders\n")
    assert fresh(built).run().ok
    staging_sql(built, extra=", 1 as one")
    cp = plan(fresh(built))
    actions = {p["product"]: p["action"] for p in cp.to_json()["products"]}
    assert actions["marts.everything"] == "build"
    assert actions["marts.daily_revenue"] == "reuse"


def test_breaking_filter_change_rebuilds_and_names_owners(built: Path) -> None:
    staging_sql(built, where="amount > 10")
    doc = plan(fresh(built)).to_json()
    c = _change_doc(doc, "staging.orders")
    assert c["category"] == "breaking" and any("WHERE" in r for r in c["reasons"])
    assert c["downstream"][0]["action"] == "build"
    assert c["affected_owners"] == ["finance@example.com"]


def _change_doc(doc, name):
    return next(c for c in doc["changes"] if c["product"] == name)


def test_metadata_only_and_contract_changes_build_nothing(built: Path) -> None:
    yml = built / "models/marts/daily_revenue.yml"
    yml.write_text(yml.read_text().replace("Revenue and order count per day.", "Per day."))
    doc = plan(fresh(built)).to_json()
    c = _change_doc(doc, "marts.daily_revenue")
    assert c["category"] == "metadata-only" and doc["summary"]["build"] == 0
    yml.write_text(yml.read_text().replace("primary_key: [order_date]", "primary_key: [orders]"))
    c = _change_doc(plan(fresh(built)).to_json(), "marts.daily_revenue")
    assert c["category"] == "breaking" and any("contract" in r for r in c["reasons"])


def test_new_and_removed_products(built: Path) -> None:
    edit(built, "models/marts/big.sql", "select * from staging.orders where amount > 50\n")
    doc = plan(fresh(built)).to_json()
    assert _change_doc(doc, "marts.big")["category"] == "non-breaking"
    assert fresh(built).run().ok
    (built / "models/marts/big.sql").unlink()
    doc = plan(fresh(built)).to_json()
    assert doc["summary"]["remove"] == 1
    assert _change_doc(doc, "marts.big")["action"] == "remove"


def test_plan_json_cli_for_new_env(built: Path) -> None:
    staging_sql(built, amount="amount + 1")
    r = CliRunner().invoke(app, ["plan", "--env", "pr-1", "--json", "-p", str(built)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output)
    assert doc["schema_version"] == 1 and doc["env"] == "pr-1"
    assert doc["env_exists"] is False and doc["compared_with"] == "prod"
    assert set(doc["summary"]) >= {"build", "reuse", "keep", "remove", "breaking",
                                   "non-breaking", "metadata-only"}
    assert _change_doc(doc, "staging.orders")["columns"]["modified"] == ["amount"]
    assert not fresh(built).metastore.env_exists("pr-1")  # planning writes nothing
