"""The PII gate in real runs: a warning by default, a refusal under compliance: strict."""

from __future__ import annotations

from pathlib import Path

from steward.context import Context
from steward.meta import audit as q
from tests.audit.conftest import set_yaml


def test_undeclared_pii_warns_and_is_recorded(pii_project: Path) -> None:
    ctx = Context(pii_project)
    result = ctx.run()
    assert result.ok
    notes = " ".join(result.notes.get("crm.customers", []))
    assert "undeclared personal data in crm.customers" in notes
    assert "email looks like email" in notes
    assert "full_name" not in notes and "phone" not in notes  # declared
    v = ctx.current()["crm.customers"]
    found = {d["column"]: d["kind"] for d in q.detections(ctx.metastore, [v.id])[v.id]}
    assert found == {"full_name": "person_name", "email": "email", "phone": "phone",
                     "last_ip": "ip_address"}
    assert v.id in q.scanned(ctx.metastore, [v.id])
    # the mart's contact column inherits pii from crm.customers.full_name through lineage
    assert "marts.contacts" not in result.notes


def test_strict_refuses_publication(pii_project: Path) -> None:
    set_yaml(pii_project, "compliance: strict\n")
    ctx = Context(pii_project)
    result = ctx.run()
    assert not result.ok
    step = next(s for s in result.steps if s.product == "crm.customers")
    assert step.status == "failed"
    assert "email looks like email" in (step.error or "")
    assert "compliance: strict" in (step.error or "")
    assert "crm.customers" not in ctx.current()
    assert next(s for s in result.steps if s.product == "raw.orders").status == "built"


def test_declared_not_pii_silences_and_strict_passes(pii_project: Path) -> None:
    set_yaml(pii_project, "compliance: strict\n")
    crm = pii_project / "sources" / "crm.yml"
    crm.write_text(crm.read_text() + "      email: {description: Work address, "
                   "classification: not_pii}\n")
    result = Context(pii_project).run()
    assert result.ok, [s.error for s in result.steps if s.error]


def test_pii_scan_proposals(pii_project: Path) -> None:
    ctx = Context(pii_project)
    ctx.run()
    findings = {f.detection.column: f for f in ctx.pii_scan("customers")}
    assert findings["email"].undeclared
    assert findings["email"].detection.classification == "pii.email"
    assert findings["email"].detection.fraction == 1.0
    assert findings["full_name"].declared == "pii"
    assert "segment" not in findings and "id" not in findings
