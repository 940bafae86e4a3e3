"""Profiles (one compact JSON document per version) and the metrics time series."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "profiles", md,
        sa.Column("version_id", sa.String(64), primary_key=True),
        sa.Column("product", sa.String(255), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seconds", sa.Float),
        sa.Column("profile_json", sa.Text, nullable=False),
    )
    sa.Table(
        "metrics", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("product", sa.String(255), nullable=False),
        sa.Column("version_id", sa.String(64)),
        sa.Column("metric", sa.String(64), nullable=False),
        # '' for a table-level metric, so (product, metric, column) is always comparable
        sa.Column("column", sa.String(255), nullable=False, server_default=""),
        sa.Column("value", sa.Float),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Index("ix_metrics_series", "product", "metric", "column", "at"),
        sa.Index("ix_metrics_version", "version_id"),
    )
    md.create_all(conn)
