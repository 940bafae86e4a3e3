"""Operations: freshness samples (a time series per product and environment), alerts
(one row per open or resolved condition) and their deliveries, scheduled fires, and the
maturity score over time."""

from __future__ import annotations

import sqlalchemy as sa

TS = sa.DateTime(timezone=True)


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "freshness_samples", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("product", sa.String(255), nullable=False),
        sa.Column("env", sa.String(255), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("age_s", sa.Float),  # None: no version, or no value in the column
        sa.Column("limit_s", sa.Float),
        sa.Column("status", sa.String(16), nullable=False),  # ok, warn, breach, unknown
        sa.Index("ix_freshness_product_at", "product", "env", "at"),
    )

    sa.Table(
        "alerts", md,
        sa.Column("key", sa.String(512), primary_key=True),  # event:env:subject
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("env", sa.String(255)),
        sa.Column("subject", sa.String(255)),
        sa.Column("status", sa.String(16), nullable=False),  # open, resolved
        sa.Column("message", sa.Text),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("resolved_at", TS),
        sa.Column("count", sa.Integer, nullable=False, default=1),
    )

    sa.Table(
        "alert_deliveries", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),  # opened, resolved
        sa.Column("channel", sa.String(255), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("ok", sa.Boolean, nullable=False),
        sa.Column("error", sa.Text),
    )

    sa.Table(
        "schedule_fires", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("schedule", sa.String(255), nullable=False),
        sa.Column("env", sa.String(255), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("fired_at", TS, nullable=False),
        # started, success, failed, error, skipped (the environment was busy), interrupted
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("run_id", sa.String(64)),
        sa.Column("finished_at", TS),
    )

    sa.Table(
        "maturity_scores", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", TS, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("areas_json", sa.Text, nullable=False),
    )
    md.create_all(conn)
