"""ODCS export carries column rules on their properties, glossary links, tags, freshness
SLAs, the store as a server, and a version bumped by the change; import keeps comments."""

from __future__ import annotations

from pathlib import Path

import yaml
from qhelpers import base_files, write
from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context
from steward.quality.odcs import export_contract, validate_odcs
from steward.quality.odcs_extra import contract_category, next_version

ORDERS = """\
description: Orders, typed.
tags: [sales, core]
freshness: {column: ordered_at, warn_after: 12h, error_after: 2d}
columns:
  order_id: {type: BIGINT, nullable: false}
  customer: {glossary: customer, tags: [pii]}
  amount: {}
  ordered_at: {}
checks:
  - not_null: {column: customer, severity: warn}
  - unique: [customer, order_id]
"""

GLOSSARY = """\
terms:
  customer:
    definition: A person or company that placed at least one order.
"""


def _export(root: Path, out: Path, *extra: str) -> dict:
    res = CliRunner().invoke(app, ["contract", "export", "staging.orders", "-o", str(out),
                                   "--project", str(root), *extra])
    assert res.exit_code == 0, res.output
    return yaml.safe_load(out.read_text())


def test_export_is_faithful(project, tmp_path: Path) -> None:
    files = base_files(ORDERS)
    files["glossary.yaml"] = GLOSSARY
    root = project(files)
    ctx = Context(root)
    assert ctx.run().ok
    v = ctx.current()["staging.orders"]
    doc = export_contract(ctx.project.products["staging.orders"], ctx.project, v, env="prod")
    assert validate_odcs(doc) == []
    obj = doc["schema"][0]
    props = {p["name"]: p for p in obj["properties"]}
    # a table check naming one column is that property's rule
    assert [q["metric"] for q in props["customer"]["quality"]] == ["nullValues"]
    assert [q.get("metric") for q in obj["quality"]] == ["duplicateValues"]
    assert props["customer"]["authoritativeDefinitions"] == [{
        "type": "businessDefinition", "url": "glossary.yaml#/terms/customer",
        "description": "A person or company that placed at least one order."}]
    assert props["customer"]["tags"] == ["pii"]
    assert doc["tags"] == obj["tags"] == ["sales", "core"]
    assert doc["slaProperties"] == [
        {"property": "freshness", "value": 2, "unit": "d",
         "element": "staging.orders.ordered_at", "driver": "operational",
         "description": "stale: an error after 2d"},
        {"property": "freshness", "value": 12, "unit": "h",
         "element": "staging.orders.ordered_at", "driver": "analytics",
         "description": "stale: a warning after 12h"}]
    (server,) = doc["servers"]
    assert (server["server"], server["type"], server["format"]) == ("prod", "local", "parquet")
    files = sorted(Path(server["path"]).parent.glob("*.parquet"))
    assert files and [str(f) for f in files] == sorted(
        str(f) for f in Path(root).glob(".steward/store/**/*.parquet")
        if str(f).startswith(str(Path(server["path"]).parent)))


def test_version_follows_the_change_category(project, tmp_path: Path) -> None:
    files = base_files(ORDERS)
    files["glossary.yaml"] = GLOSSARY
    root = project(files)
    assert Context(root).run().ok
    out = tmp_path / "contract.yml"
    assert _export(root, out)["version"] == "1.0.0"
    assert _export(root, out)["version"] == "1.0.0"  # nothing changed: kept

    # metadata only (a description): patch
    write(root, {"models/staging/orders.yml": ORDERS.replace("Orders, typed.", "Orders.")})
    assert _export(root, out)["version"] == "1.0.1"

    # a column added to the SQL: non-breaking, minor
    sql = root / "models" / "staging" / "orders.sql"
    sql.write_text(sql.read_text().replace("ordered_at\n", "ordered_at, 1 as one\n"))
    assert Context(root).run().ok
    doc = _export(root, out)
    assert doc["version"] == "1.1.0", doc["version"]

    # a column removed: breaking, major
    sql.write_text(sql.read_text().replace(", email", ""))
    assert Context(root).run().ok
    doc = _export(root, out)
    assert doc["version"] == "2.0.0", doc["version"]


def test_version_rules_without_a_plan() -> None:
    base = {"version": "1.4.2", "schema": [{"name": "t", "properties": [
        {"name": "a", "logicalType": "integer"}]}]}
    added = {"version": "1.4.2", "schema": [{"name": "t", "properties": [
        {"name": "a", "logicalType": "integer"}, {"name": "b"}]}]}
    retyped = {"version": "1.4.2", "schema": [{"name": "t", "properties": [
        {"name": "a", "logicalType": "string"}]}]}
    assert contract_category(base, added) == "non-breaking"
    assert contract_category(base, retyped) == "breaking"
    assert next_version(base, added) == "1.5.0"
    assert next_version(base, retyped) == "2.0.0"
    assert next_version(base, {**base, "description": {"purpose": "x"}}) == "1.4.3"
    assert next_version(base, dict(base)) == "1.4.2"
    assert next_version(base, added, "metadata-only") == "1.4.3"  # the plan decides
    assert next_version(None, base) == "1.0.0"


COMMENTED = """\
# Orders as the shop sends them.
owner: data@example.com  # the on-call team
description: Orders, typed.
columns:
  # the shop's own id
  order_id: {type: BIGINT, nullable: false}
"""


def test_import_keeps_comments_glossary_tags_and_freshness(project, tmp_path: Path) -> None:
    files = base_files(ORDERS)
    files["glossary.yaml"] = GLOSSARY
    root = project(files)
    ctx = Context(root)
    assert ctx.run().ok
    out = tmp_path / "c.yml"
    _export(root, out)
    write(root, {"models/staging/orders.yml": COMMENTED})
    res = CliRunner().invoke(app, ["contract", "import", str(out), "--project", str(root)])
    assert res.exit_code == 0, res.output
    text = (root / "models/staging/orders.yml").read_text()
    assert "# Orders as the shop sends them." in text
    assert "# the on-call team" in text and "# the shop's own id" in text
    spec = Context(root).project.products["staging.orders"].spec
    assert spec.columns["customer"].glossary == "customer"
    assert spec.columns["customer"].tags == ("pii",)
    assert spec.tags == ("sales", "core")
    assert spec.freshness is not None
    assert (spec.freshness.column, spec.freshness.warn_after, spec.freshness.error_after) == \
        ("ordered_at", "12h", "2d")
    assert [c.type for c in spec.columns["customer"].checks] == ["not_null"]
