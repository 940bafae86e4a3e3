"""Table handles for queries. The schema itself is created by the numbered migrations."""

from __future__ import annotations

import sqlalchemy as sa

md = sa.MetaData()

products = sa.Table(
    "products", md,
    sa.Column("name", sa.String, primary_key=True), sa.Column("kind", sa.String),
    sa.Column("domain", sa.String), sa.Column("owner", sa.String), sa.Column("file", sa.String),
    sa.Column("spec_json", sa.Text), sa.Column("metadata_fp", sa.String),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)
versions = sa.Table(
    "versions", md,
    sa.Column("id", sa.String, primary_key=True), sa.Column("product", sa.String),
    sa.Column("fingerprint", sa.String), sa.Column("metadata_fp", sa.String),
    sa.Column("status", sa.String), sa.Column("path", sa.String),
    sa.Column("schema_json", sa.Text), sa.Column("row_count", sa.BigInteger),
    sa.Column("bytes", sa.BigInteger), sa.Column("data_hash", sa.String),
    sa.Column("inputs_json", sa.Text), sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("run_id", sa.String), sa.Column("check_status", sa.String),
    sa.Column("error", sa.Text), sa.Column("files_json", sa.Text),
    sa.Column("check_fp", sa.String),
)
environments = sa.Table(
    "environments", md,
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True)), sa.Column("created_from", sa.String),
    sa.Column("audit_seq", sa.BigInteger),
)
env_pointers = sa.Table(
    "env_pointers", md,
    sa.Column("env", sa.String, primary_key=True),
    sa.Column("product", sa.String, primary_key=True),
    sa.Column("version_id", sa.String), sa.Column("updated_at", sa.DateTime(timezone=True)),
)
runs = sa.Table(
    "runs", md,
    sa.Column("id", sa.String, primary_key=True), sa.Column("env", sa.String),
    sa.Column("status", sa.String), sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("finished_at", sa.DateTime(timezone=True)), sa.Column("selection", sa.Text),
    sa.Column("actor", sa.String), sa.Column("pid", sa.Integer),
    sa.Column("summary_json", sa.Text),
)
run_steps = sa.Table(
    "run_steps", md,
    sa.Column("run_id", sa.String, primary_key=True),
    sa.Column("product", sa.String, primary_key=True), sa.Column("status", sa.String),
    sa.Column("version_id", sa.String), sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("duration_s", sa.Float), sa.Column("rows", sa.BigInteger),
    sa.Column("error", sa.Text),
)
