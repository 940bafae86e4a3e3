"""What a product page reads, indexed; and who queries each product.

- Indexes for the questions one product's page asks: its versions newest first, the
  environments pointing at it, its check results and profiles, its last run step.
  Without them each is a scan of a table that grows with every run.
- ``product_queries``: how often each product was read through ``steward sql`` (and
  ``Context.sql``), the API and the web pages, by whom; counts per flush, summed when
  asked (``steward show``, the product page).
"""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    for name, table, cols in (
        ("ix_versions_product_created", "versions", "product, created_at"),
        ("ix_env_pointers_product", "env_pointers", "product"),
        ("ix_env_pointers_version", "env_pointers", "version_id"),
        ("ix_check_results_product", "check_results", "product"),
        ("ix_profiles_product", "profiles", "product"),
        ("ix_run_steps_product_started", "run_steps", "product, started_at"),
    ):
        conn.execute(sa.text(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({cols})"))
    md = sa.MetaData()
    sa.Table(
        "product_queries", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("product", sa.String(255), nullable=False),
        sa.Column("via", sa.String(16), nullable=False),  # sql, api, web
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_product_queries_product_at", "product", "at"),
    )
    md.create_all(conn)
