"""Products, versions, environments and their pointers, runs and run steps."""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "products", md,
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("domain", sa.String(255)),
        sa.Column("owner", sa.String(255)),
        sa.Column("file", sa.String(1024)),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("metadata_fp", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "versions", md,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("product", sa.String(255), nullable=False, index=True),
        sa.Column("fingerprint", sa.String(64), nullable=False, index=True),
        sa.Column("metadata_fp", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("path", sa.String(2048), nullable=False),
        sa.Column("schema_json", sa.Text),
        sa.Column("row_count", sa.BigInteger),
        sa.Column("bytes", sa.BigInteger),
        sa.Column("data_hash", sa.String(64)),
        sa.Column("inputs_json", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("run_id", sa.String(64)),
        sa.Column("check_status", sa.String(16)),
        sa.Column("error", sa.Text),
    )
    sa.Table(
        "environments", md,
        sa.Column("name", sa.String(255), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_from", sa.String(255)),
    )
    sa.Table(
        "env_pointers", md,
        sa.Column("env", sa.String(255), primary_key=True),
        sa.Column("product", sa.String(255), primary_key=True),
        sa.Column("version_id", sa.String(64), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "runs", md,
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("env", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("selection", sa.Text),
        sa.Column("actor", sa.String(255)),
        sa.Column("pid", sa.Integer),
        sa.Column("summary_json", sa.Text),
    )
    sa.Table(
        "run_steps", md,
        sa.Column("run_id", sa.String(64), primary_key=True),
        sa.Column("product", sa.String(255), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version_id", sa.String(64)),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("duration_s", sa.Float),
        sa.Column("rows", sa.BigInteger),
        sa.Column("error", sa.Text),
    )
    md.create_all(conn)
