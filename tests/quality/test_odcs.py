"""ODCS v3.1 export validates against the standard's JSON Schema; import maps its rules."""

from __future__ import annotations

import yaml
from qhelpers import base_files, write
from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context
from steward.meta.checks import results_for
from steward.quality.odcs import export_contract, validate_odcs

RICH = """\
description: Orders, typed.
tags: [sales]
primary_key: [order_id]
contract: lenient
columns:
  order_id: {type: BIGINT, nullable: false, description: id, checks: [unique]}
  customer:
    classification: pii
    checks:
      - not_null: {mostly: 0.5}
      - relationships: {to: raw.customers, field: name, severity: warn}
  amount: {checks: [{range: {min: -10, max: 1000}}, {mean: {min: 0, max: 100}}]}
  status: {checks: [{accepted_values: {values: [paid, refunded, lost]}}]}
  email: {checks: [{regex: {pattern: '@', severity: warn}}, {length: {min: 3}}]}
  ordered_at: {checks: [{freshness: {max_age: 1000d, severity: warn}}]}
checks:
  - row_count: {min: 1, max: 100}
  - unique: [customer, order_id]
  - expression: "amount < 10000"
  - sql: "select * from {{ this }} where order_id < 0"
  - row_count_change: {max_change_pct: 50}
"""


def test_export_validates_against_the_odcs_json_schema(project):
    root = project(base_files(RICH))
    ctx = Context(root)
    assert ctx.run().ok
    for name in ("staging.orders", "raw.orders", "marts.revenue"):
        doc = export_contract(ctx.project.products[name], ctx.project, ctx.current()[name])
        assert validate_odcs(doc) == [], name
    doc = export_contract(ctx.project.products["staging.orders"], ctx.project)
    props = {p["name"]: p for p in doc["schema"][0]["properties"]}
    assert props["order_id"]["required"] is True and props["order_id"]["primaryKey"] is True
    metrics = [q.get("metric") for q in props["order_id"]["quality"]]
    assert metrics == ["duplicateValues"]
    # the validator does catch a broken document
    doc["schema"][0]["properties"][0]["logicalType"] = "bogus"
    assert validate_odcs(doc)


def test_export_import_round_trip_keeps_checks(project, tmp_path):
    root = project(base_files(RICH))
    out = CliRunner().invoke(app, ["contract", "export", "staging.orders", "-o",
                                   str(tmp_path / "c.yml"), "--project", str(root)])
    assert out.exit_code == 0, out.output
    before = Context(root).project.products["staging.orders"].spec
    write(root, {"models/staging/orders.yml": "owner: someone@example.com\n"})
    out = CliRunner().invoke(app, ["contract", "import", str(tmp_path / "c.yml"),
                                   "--project", str(root)])
    assert out.exit_code == 0, out.output
    after = Context(root).project.products["staging.orders"].spec
    assert after.checks == before.checks
    assert after.columns == before.columns
    assert after.primary_key == before.primary_key


STANDARD = """\
apiVersion: v3.1.0
kind: DataContract
id: orders-contract
version: 2.0.0
status: active
team:
  members:
    - {username: owner@example.com, role: owner}
schema:
  - name: orders
    physicalName: staging.orders
    logicalType: object
    quality:
      - {type: library, metric: rowCount, mustBeGreaterThan: 2}
      - type: sql
        query: "SELECT COUNT(*) FROM ${object} WHERE amount > 1000"
        mustBe: 0
    properties:
      - name: order_id
        logicalType: integer
        physicalType: BIGINT
        required: true
        primaryKey: true
        quality:
          - {type: library, metric: duplicateValues, mustBe: 0}
      - name: customer
        logicalType: string
        quality:
          - {type: library, metric: nullValues, mustBeLessOrEqualTo: 10, unit: percent,
             severity: warning}
      - name: status
        logicalType: string
        quality:
          - type: library
            metric: invalidValues
            arguments: {validValues: [paid, refunded]}
            mustBe: 0
            name: status values
      - name: email
        logicalType: string
        quality:
          - {type: library, metric: invalidValues, arguments: {pattern: '^\\S+@\\S+$'},
             mustBeLessOrEqualTo: 1, unit: rows}
          - {type: text, description: Emails are lower case.}
"""


def test_import_maps_standard_rules_onto_steward_checks(project, tmp_path):
    root = project(base_files())
    (tmp_path / "std.yml").write_text(STANDARD)
    out = CliRunner().invoke(app, ["contract", "import", str(tmp_path / "std.yml"),
                                   "--project", str(root)])
    assert out.exit_code == 0, out.output
    assert "not mapped" in out.output  # the free-text rule is reported, not dropped silently
    data = yaml.safe_load((root / "models/staging/orders.yml").read_text())
    assert data["owner"] == "owner@example.com"
    cols = data["columns"]
    assert cols["order_id"]["nullable"] is False and cols["order_id"]["type"] == "BIGINT"
    assert cols["order_id"]["checks"] == [{"severity": "error", "type": "unique",
                                           "column": "order_id"}]
    assert cols["customer"]["checks"][0] == {"severity": "warn", "type": "not_null",
                                             "column": "customer", "mostly": 0.9}
    assert cols["status"]["checks"][0]["type"] == "accepted_values"
    assert cols["status"]["checks"][0]["name"] == "status_values"
    assert cols["email"]["checks"][0]["type"] == "regex"
    assert cols["email"]["checks"][0]["max_failures"] == 1
    kinds = [c["type"] for c in data["checks"]]
    assert kinds == ["row_count", "sql"] and data["checks"][0]["min"] == 3
    assert data["primary_key"] == ["order_id"]
    # and the imported checks gate the next run: status 'lost' is invalid
    ctx = Context(root)
    result = ctx.run()
    step = {s.product: s for s in result.steps}["staging.orders"]
    assert step.status == "failed"
    failed = ctx.metastore.versions("staging.orders")[0]
    res = {r.name: r for r in results_for(ctx.metastore, failed.id)}
    assert res["status_values"].status == "fail"
    assert res["sql"].status == "pass" and res["row_count"].status == "pass"
    assert res["not_null_customer"].status == "fail"  # 1 of 5 null > 10 %, a warning
    assert res["not_null_customer"].severity == "warn"
    assert res["contract"].status == "pass"  # types and required columns conform


def test_import_of_unknown_product_is_a_clear_error(project, tmp_path):
    root = project(base_files())
    (tmp_path / "x.yml").write_text(STANDARD.replace("staging.orders", "nope.orders")
                                    .replace("name: orders", "name: nothing"))
    out = CliRunner().invoke(app, ["contract", "import", str(tmp_path / "x.yml"),
                                   "--project", str(root)])
    assert out.exit_code != 0
