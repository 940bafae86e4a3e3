"""Helpers for quality tests: tiny real projects in tmp_path."""

from __future__ import annotations

import textwrap
from pathlib import Path

ORDERS_CSV = """\
order_id,customer,amount,status,email,ordered_at
1,Ada,12.50,paid,ada@example.com,2026-01-02 10:00:00
2,Grace,99.00,paid,grace@example.com,2026-01-02 11:30:00
3,Ada,5.25,refunded,ada@example.com,2026-01-03 09:15:00
4,Linus,42.00,paid,linus-at-example,2026-01-04 16:45:00
5,,-3.00,lost,,2026-01-05 08:00:00
"""

CUSTOMERS_CSV = """\
name,country
Ada,UK
Grace,US
Linus,FI
"""


def write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


def base_files(orders_checks: str = "", model_yml: str | None = None,
               model_sql: str | None = None) -> dict[str, str]:
    """A project: raw.orders + raw.customers sources, staging.orders, marts.revenue."""
    files = {
        "steward.yaml": "name: qtest\n",
        "data/orders.csv": ORDERS_CSV,
        "data/customers.csv": CUSTOMERS_CSV,
        "sources/raw.yml": """\
            sources:
              raw.orders:
                path: data/orders.csv
                owner: shop@example.com
              raw.customers:
                path: data/customers.csv
                owner: crm@example.com
            """,
        "models/staging/orders.sql": model_sql or """\
            select order_id, customer, amount, status, email, ordered_at
            from raw.orders
            """,
        "models/marts/revenue.sql": """\
            select customer, sum(amount) as revenue from staging.orders group by customer
            """,
    }
    files["models/staging/orders.yml"] = model_yml if model_yml is not None else (
        "owner: data@example.com\n" + textwrap.dedent(orders_checks))
    return files


