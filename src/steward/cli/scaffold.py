"""``steward init``: a small project that runs as it is."""

from __future__ import annotations

from pathlib import Path

from steward.core.errors import StewardError

FILES: dict[str, str] = {
    "steward.yaml": """\
name: {name}
# engine: {{type: duckdb, threads: 4, memory_limit: 4GB}}
# store: .steward/store                 # where versions' Parquet files live
# metastore: sqlite:///.steward/meta.db # any SQLAlchemy URL
environments:
  default: prod
defaults:
  owner: data-team@example.com
""",
    "sources/raw.yml": """\
sources:
  raw.orders:
    path: data/orders.csv
    description: Orders as exported by the shop, one row per order.
    owner: shop-team@example.com
    columns:
      order_id: {type: INTEGER, nullable: false, description: Order number}
      customer: {type: VARCHAR, description: Customer name, classification: pii}
      amount: {type: DOUBLE, description: Order total in EUR}
      ordered_at: {type: TIMESTAMP, description: When the order was placed}
""",
    "data/orders.csv": """\
order_id,customer,amount,ordered_at
1,Ada,12.50,2026-01-02 10:00:00
2,Grace,99.00,2026-01-02 11:30:00
3,Ada,5.25,2026-01-03 09:15:00
4,Linus,42.00,2026-01-04 16:45:00
""",
    "models/staging/orders.sql": """\
-- Typed, cleaned orders.
select order_id, customer, amount, cast(ordered_at as date) as order_date
from raw.orders
where amount > 0
""",
    "models/staging/orders.yml": """\
description: Orders with positive amounts, dated.
owner: data-team@example.com
primary_key: [order_id]
columns:
  order_id: {description: Order number, checks: [not_null, unique]}
  customer: {description: Customer name, classification: pii}
  amount: {description: Order total in EUR, checks: [{range: {min: 0}}]}
  order_date: {description: Day the order was placed}
""",
    "models/marts/daily_revenue.sql": """\
select order_date, count(*) as orders, sum(amount) as revenue
from staging.orders
group by order_date
order by order_date
""",
    "models/marts/daily_revenue.yml": """\
description: Revenue and order count per day.
owner: finance@example.com
tags: [finance]
primary_key: [order_date]
columns:
  order_date: {description: Day}
  orders: {description: Orders that day}
  revenue: {description: Sum of order totals in EUR}
""",
    ".gitignore": ".steward/\n",
}


def scaffold(path: Path, name: str | None = None) -> list[Path]:
    path = Path(path)
    if (path / "steward.yaml").exists():
        raise StewardError(f"{path / 'steward.yaml'} already exists; nothing was changed")
    name = name or (path.resolve().name.replace("-", "_") or "project")
    created = []
    for rel, text in FILES.items():
        target = path / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text.format(name=name) if rel == "steward.yaml" else text)
        created.append(target)
    return created
