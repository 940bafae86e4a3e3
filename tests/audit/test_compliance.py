"""The compliance report, the audit events real commands append, and the CLI verbs."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context
from tests.audit.conftest import set_yaml


def test_report_content(pii_project: Path) -> None:
    ctx = Context(pii_project)
    ctx.run()
    r = ctx.compliance_report()
    by = {p.name: p for p in r.pii_products}
    assert set(by) == {"crm.customers", "marts.contacts", "raw.orders", "staging.orders"}
    crm = by["crm.customers"]
    assert crm.owner == "crm-team@example.com" and not crm.owner_inherited
    assert crm.declared == {"full_name": ["pii"], "phone": ["pii.phone"], "last_ip": ["pii"]}
    assert crm.detected["email"]["kind"] == "email"
    assert crm.retention == {"keep_last": 5, "keep_days": 30.0} and crm.retention_inherited
    assert [c["action"] for c in crm.recent_changes] == ["run", "config"]
    assert {c["actor"] for c in crm.recent_changes} == {"tester"}
    # a renamed PII column still carries its classification downstream
    contacts = by["marts.contacts"]
    assert contacts.propagated["contact"]["via"] == "crm.customers.full_name"
    gaps = {(g.kind, g.product, g.column) for g in r.gaps}
    assert ("undeclared_pii", "crm.customers", "email") in gaps
    assert ("pii_without_description", "marts.contacts", None) in gaps
    assert ("pii_column_undocumented", "marts.contacts", "contact") in gaps
    assert not any(g.kind == "missing_owner" for g in r.gaps)
    assert all(g.severity in ("warn", "info") for g in r.gaps) and not r.errors
    assert "daily_revenue" not in " ".join(by)


def test_strict_policy_turns_gaps_into_errors(pii_project: Path) -> None:
    Context(pii_project).run()
    set_yaml(pii_project, "compliance: strict\ndefaults:\n  owner: null\n"
             "  retention: {keep_last: 3}\n")
    (pii_project / "steward.yaml").write_text(
        (pii_project / "steward.yaml").read_text().replace(
            "defaults:\n  owner: data-team@example.com\n", ""))
    r = Context(pii_project).compliance_report()
    kinds = {(g.kind, g.product): g.severity for g in r.gaps}
    assert kinds[("undeclared_pii", "crm.customers")] == "error"
    assert kinds[("pii_without_retention", "crm.customers")] == "error"
    assert ("missing_owner", "raw.orders") not in kinds  # raw.orders declares its owner


def test_audit_events_of_runs_and_config_changes(starter: Path) -> None:
    Context(starter).run()
    yml = starter / "models" / "marts" / "daily_revenue.yml"
    yml.write_text(yml.read_text().replace("Revenue and order count per day.",
                                           "Revenue per day."))
    Context(starter).run()
    trail = Context(starter).audit_trail()
    events = sorted(trail.log(limit=None), key=lambda e: e.seq)
    # a description edit is a config event; the run after it rebuilds nothing, and a run
    # that changes nothing appends no run event
    # (the environment's creation is an event too: it moved pointers, from nothing)
    assert [(e.action, e.actor) for e in events] == [
        ("env.create", "tester"), ("config", "tester"), ("run", "tester"),
        ("config", "tester")]
    assert events[1].targets == ["marts.daily_revenue", "raw.orders", "staging.orders"]
    assert events[3].targets == ["marts.daily_revenue"]  # only the edited product
    assert events[3].before["marts.daily_revenue"] == events[1].after["marts.daily_revenue"]
    # a run's event records its pointer moves and the environment's digest after them
    assert events[2].after["env"] == "prod"
    assert set(events[2].after["pointers"]) == {"raw.orders", "staging.orders",
                                                "marts.daily_revenue"}
    assert trail.verify().ok


def test_cli(pii_project: Path) -> None:
    runner = CliRunner()
    p = ["--project", str(pii_project)]
    assert runner.invoke(app, ["run", *p]).exit_code == 0
    out = runner.invoke(app, ["audit", "log", "--json", "--action", "run", *p])
    assert out.exit_code == 0, out.output
    assert [e["action"] for e in json.loads(out.output)] == ["run"]
    out = runner.invoke(app, ["audit", "log", "--target", "customers", *p])
    assert out.exit_code == 0 and "config" in out.output
    assert runner.invoke(app, ["audit", "verify", *p]).exit_code == 0

    out = runner.invoke(app, ["pii", "scan", "crm.customers", "--json", *p])
    assert {f["column"]: f["undeclared"] for f in json.loads(out.output)}["email"] is True

    md = pii_project / "report.md"
    out = runner.invoke(app, ["compliance", "-o", str(md), *p])
    assert out.exit_code == 0, out.output
    text = md.read_text()
    assert "### crm.customers" in text and "undeclared_pii" in text
    out = runner.invoke(app, ["compliance", "--format", "json", *p])
    assert json.loads(out.output)["summary"]["pii_products"] == 4

    out = runner.invoke(app, ["openlineage", "emit", "--json", *p])
    assert out.exit_code == 0 and json.loads(out.output)[-1]["eventType"] == "COMPLETE"

    db = sqlite3.connect(pii_project / ".steward" / "meta.db")
    db.execute("UPDATE audit_events SET actor = 'mallory' WHERE seq = 1")
    db.commit()
    db.close()
    out = runner.invoke(app, ["audit", "verify", *p])
    assert out.exit_code == 4
    assert "event #1 was altered" in out.output


def test_contract_import_is_audited(starter: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    p = ["--project", str(starter)]
    contract = tmp_path / "c.yml"
    out = runner.invoke(app, ["contract", "export", "staging.orders", "-o", str(contract), *p])
    assert out.exit_code == 0, out.output
    out = runner.invoke(app, ["contract", "import", str(contract), *p])
    assert out.exit_code == 0, out.output
    [event] = Context(starter).audit_trail().log(action="contract.import")
    assert event.targets == ["staging.orders"] and event.actor == "tester"
    assert event.after["staging.orders"]["columns"] == 4
