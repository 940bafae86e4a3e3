"""Fixtures of the audit tests: a metastore with a chain of known events."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.audit.trail import AuditTrail
from steward.meta.store import Metastore


@pytest.fixture
def trail(tmp_path: Path) -> AuditTrail:
    """20 events, a checkpoint every 5."""
    ms = Metastore(f"sqlite:///{tmp_path / 'meta.db'}")
    t = AuditTrail(ms, checkpoint_every=5)
    for i in range(1, 21):
        t.append(f"user{i % 3}", "run" if i % 2 else "promote", [f"p.{i}"],
                 before={f"p.{i}": f"v{i - 1}"}, after={f"p.{i}": f"v{i}"}, reason=f"event {i}")
    return t


CUSTOMERS = """\
id,full_name,email,phone,last_ip,segment
1,Ada Lovelace,ada@example.com,+44 20 7946 0958,192.168.0.10,gold
2,Grace Hopper,grace.hopper@example.org,(555) 123-4567,10.0.0.7,silver
3,Linus Torvalds,linus@example.net,+1 415 555 0199,172.16.4.2,gold
4,Barbara Liskov,barbara@example.com,+33 1 23 45 67 89,2001:db8::1,bronze
5,Alan Turing,alan.turing@example.co.uk,020 7946 0123,192.168.7.77,gold
"""

CRM = """\
sources:
  crm.customers:
    path: data/customers.csv
    description: Customers from the CRM export.
    owner: crm-team@example.com
    columns:
      full_name: {description: Customer's full name, classification: pii}
      phone: {description: Phone number, classification: pii.phone}
      last_ip: {description: Last login address, classification: pii}
"""

MART = """\
select full_name as contact, email, segment from crm.customers
"""


@pytest.fixture
def pii_project(starter: Path) -> Path:
    """The starter project plus a CRM source whose ``email`` column is not declared PII,
    and a mart that renames the declared ``full_name`` to ``contact``."""
    (starter / "data" / "customers.csv").write_text(CUSTOMERS)
    (starter / "sources" / "crm.yml").write_text(CRM)
    (starter / "models" / "marts" / "contacts.sql").write_text(MART)
    (starter / "models" / "marts" / "contacts.yml").write_text(
        "owner: marketing@example.com\ncolumns:\n  email: {classification: pii}\n")
    return starter


def set_yaml(root: Path, extra: str) -> None:
    path = root / "steward.yaml"
    path.write_text(path.read_text() + extra)
