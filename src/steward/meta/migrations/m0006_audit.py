"""The audit trail (hash-chained events, checkpoints) and PII detections per version."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "audit_events", md,
        # seq is the chain position; the primary key makes two writers racing for the same
        # position collide instead of forking the chain.
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=False),
        # ISO-8601 text, not DateTime: the hash covers exactly the stored characters.
        sa.Column("ts", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(255), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("targets_json", sa.Text, nullable=False),
        sa.Column("before_json", sa.Text, nullable=False),
        sa.Column("after_json", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Index("ix_audit_events_action", "action"),
        sa.Index("ix_audit_events_actor", "actor"),
        sa.Index("ix_audit_events_ts", "ts"),
    )
    sa.Table(
        "audit_checkpoints", md,
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
                  autoincrement=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    # What the PII classifier found in each version's sample (one row per flagged column).
    sa.Table(
        "pii_detections", md,
        sa.Column("version_id", sa.String(64), primary_key=True),
        sa.Column("column_name", sa.String(255), primary_key=True),
        sa.Column("product", sa.String(255), nullable=False, index=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("fraction", sa.Float, nullable=False),
        sa.Column("matched", sa.Integer, nullable=False),
        sa.Column("sampled", sa.Integer, nullable=False),
        sa.Column("scanned_at", sa.String(40), nullable=False),
    )
    # Which versions were scanned at all: "no detections" differs from "never scanned".
    sa.Table(
        "pii_scans", md,
        sa.Column("version_id", sa.String(64), primary_key=True),
        sa.Column("product", sa.String(255), nullable=False),
        sa.Column("columns", sa.Integer, nullable=False),
        sa.Column("scanned_at", sa.String(40), nullable=False),
    )
    md.create_all(conn)
