"""Check results, one row per (version, check)."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "check_results", md,
        sa.Column("version_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("product", sa.String(255), nullable=False, index=True),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("column_name", sa.String(255)),
        sa.Column("failures", sa.BigInteger),
        sa.Column("total", sa.BigInteger),
        sa.Column("observed_json", sa.Text),
        sa.Column("message", sa.Text),
        sa.Column("sample_path", sa.String(2048)),
        sa.Column("quarantined", sa.BigInteger),
        sa.Column("details_json", sa.Text),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
    )
    md.create_all(conn)
