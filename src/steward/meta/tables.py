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
    sa.Column("git_commit", sa.String),  # m0013: the project's commit (project/git.py)
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
    # m0013: the project's git commit, clean/dirty/none/unknown, the commit's time
    sa.Column("git_commit", sa.String), sa.Column("git_state", sa.String),
    sa.Column("git_committed_at", sa.DateTime(timezone=True)),
)
run_steps = sa.Table(
    "run_steps", md,
    sa.Column("run_id", sa.String, primary_key=True),
    sa.Column("product", sa.String, primary_key=True), sa.Column("status", sa.String),
    sa.Column("version_id", sa.String), sa.Column("started_at", sa.DateTime(timezone=True)),
    sa.Column("duration_s", sa.Float), sa.Column("rows", sa.BigInteger),
    sa.Column("error", sa.Text),
)

pointer_moves = sa.Table(
    "pointer_moves", md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("batch", sa.String), sa.Column("at", sa.DateTime(timezone=True)),
    sa.Column("env", sa.String), sa.Column("product", sa.String),
    sa.Column("from_version", sa.String), sa.Column("to_version", sa.String),
    sa.Column("action", sa.String), sa.Column("source_env", sa.String),
    sa.Column("actor", sa.String), sa.Column("message", sa.Text),
)
fingerprint_code = sa.Table(
    "fingerprint_code", md,
    sa.Column("fingerprint", sa.String, primary_key=True), sa.Column("product", sa.String),
    sa.Column("local_fp", sa.String), sa.Column("kind", sa.String), sa.Column("code", sa.Text),
    sa.Column("outputs_json", sa.Text), sa.Column("created_at", sa.DateTime(timezone=True)),
)
env_specs = sa.Table(
    "env_specs", md,
    sa.Column("env", sa.String, primary_key=True),
    sa.Column("product", sa.String, primary_key=True),
    sa.Column("metadata_fp", sa.String), sa.Column("spec_json", sa.Text),
    sa.Column("updated_at", sa.DateTime(timezone=True)),
)

audit_events = sa.Table(
    "audit_events", md,
    sa.Column("seq", sa.BigInteger, primary_key=True), sa.Column("ts", sa.String),
    sa.Column("actor", sa.String), sa.Column("action", sa.String),
    sa.Column("targets_json", sa.Text), sa.Column("before_json", sa.Text),
    sa.Column("after_json", sa.Text), sa.Column("reason", sa.Text),
    sa.Column("prev_hash", sa.String), sa.Column("hash", sa.String),
    sa.Column("git_commit", sa.String),  # m0013: hashed when set
)
audit_checkpoints = sa.Table(
    "audit_checkpoints", md,
    sa.Column("seq", sa.BigInteger, primary_key=True), sa.Column("hash", sa.String),
    sa.Column("created_at", sa.String),
)

pii_detections = sa.Table(
    "pii_detections", md,
    sa.Column("version_id", sa.String, primary_key=True),
    sa.Column("column_name", sa.String, primary_key=True), sa.Column("product", sa.String),
    sa.Column("kind", sa.String), sa.Column("fraction", sa.Float),
    sa.Column("matched", sa.Integer), sa.Column("sampled", sa.Integer),
    sa.Column("scanned_at", sa.String),
)

pii_scans = sa.Table(
    "pii_scans", md,
    sa.Column("version_id", sa.String, primary_key=True), sa.Column("product", sa.String),
    sa.Column("columns", sa.Integer), sa.Column("scanned_at", sa.String),
)

profiles = sa.Table(
    "profiles", md,
    sa.Column("version_id", sa.String, primary_key=True), sa.Column("product", sa.String),
    sa.Column("created_at", sa.DateTime(timezone=True)), sa.Column("seconds", sa.Float),
    sa.Column("profile_json", sa.Text),
)
metrics = sa.Table(
    "metrics", md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("product", sa.String), sa.Column("version_id", sa.String),
    sa.Column("metric", sa.String), sa.Column("column", sa.String), sa.Column("value", sa.Float),
    sa.Column("at", sa.DateTime(timezone=True)),
)

check_results = sa.Table(
    "check_results", md,
    sa.Column("version_id", sa.String, primary_key=True),
    sa.Column("name", sa.String, primary_key=True),
    sa.Column("product", sa.String), sa.Column("type", sa.String),
    sa.Column("severity", sa.String), sa.Column("status", sa.String),
    sa.Column("column_name", sa.String), sa.Column("failures", sa.BigInteger),
    sa.Column("total", sa.BigInteger), sa.Column("observed_json", sa.Text),
    sa.Column("message", sa.Text), sa.Column("sample_path", sa.String),
    sa.Column("quarantined", sa.BigInteger), sa.Column("details_json", sa.Text),
    sa.Column("checked_at", sa.DateTime(timezone=True)),
)

model_versions = sa.Table(
    "model_versions", md,
    sa.Column("version_id", sa.String, primary_key=True),
    sa.Column("product", sa.String), sa.Column("created_at", sa.DateTime(timezone=True)),
    sa.Column("flavor", sa.String), sa.Column("artifact", sa.String),
    sa.Column("artifact_hash", sa.String), sa.Column("task", sa.String),
    sa.Column("metrics_json", sa.Text), sa.Column("params_json", sa.Text),
    sa.Column("libraries_json", sa.Text), sa.Column("info_json", sa.Text),
)

# accounts of `steward serve` (migration 9): only hashes of secrets
users = sa.Table(
    "users", md,
    sa.Column("name", sa.String, primary_key=True), sa.Column("role", sa.String),
    sa.Column("domains_json", sa.Text), sa.Column("owners_json", sa.Text),
    sa.Column("pii", sa.Boolean), sa.Column("password_hash", sa.String),
    sa.Column("created_at", sa.String),
)
user_tokens = sa.Table(
    "user_tokens", md,
    sa.Column("id", sa.String, primary_key=True), sa.Column("user_name", sa.String),
    sa.Column("label", sa.String), sa.Column("secret_hash", sa.String),
    sa.Column("created_at", sa.String),
)
user_sessions = sa.Table(
    "user_sessions", md,
    sa.Column("id_hash", sa.String, primary_key=True), sa.Column("user_name", sa.String),
    sa.Column("csrf", sa.String), sa.Column("expires_at", sa.String),
)

source_reads = sa.Table(
    "source_reads", md,
    sa.Column("product", sa.String, primary_key=True),
    sa.Column("data_hash", sa.String, primary_key=True),
    sa.Column("signal", sa.Text), sa.Column("watermark", sa.Text),
    sa.Column("watermark_type", sa.String), sa.Column("rows_read", sa.BigInteger),
    sa.Column("read_at", sa.DateTime(timezone=True)),
)

# operations (m0012)

freshness_samples = sa.Table(
    "freshness_samples", md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("product", sa.String(255), nullable=False),
    sa.Column("env", sa.String(255), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("age_s", sa.Float),  # None: no version, or no value in the column
    sa.Column("limit_s", sa.Float),
    sa.Column("status", sa.String(16), nullable=False),  # ok, warn, breach, unknown
    sa.Index("ix_freshness_product_at", "product", "env", "at"),
)

alerts = sa.Table(
    "alerts", md,
    sa.Column("key", sa.String(512), primary_key=True),  # event:env:subject
    sa.Column("event", sa.String(64), nullable=False),
    sa.Column("env", sa.String(255)),
    sa.Column("subject", sa.String(255)),
    sa.Column("status", sa.String(16), nullable=False),  # open, resolved
    sa.Column("message", sa.Text),
    sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("resolved_at", sa.DateTime(timezone=True)),
    sa.Column("count", sa.Integer, nullable=False, default=1),
)

alert_deliveries = sa.Table(
    "alert_deliveries", md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(512), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),  # opened, resolved
    sa.Column("channel", sa.String(255), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),
)

schedule_fires = sa.Table(
    "schedule_fires", md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("schedule", sa.String(255), nullable=False),
    sa.Column("env", sa.String(255), nullable=False),
    sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
    # started, success, failed, error, skipped (the environment was busy), interrupted
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.Text),
    sa.Column("run_id", sa.String(64)),
    sa.Column("finished_at", sa.DateTime(timezone=True)),
)

maturity_scores = sa.Table(
    "maturity_scores", md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("areas_json", sa.Text, nullable=False),
)


# who reads each product through steward sql, the API and the pages (m0017)
product_queries = sa.Table(
    "product_queries", md,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("product", sa.String(255), nullable=False),
    sa.Column("via", sa.String(16), nullable=False),  # sql, api, web
    sa.Column("actor", sa.String(255), nullable=False),
    sa.Column("count", sa.Integer, nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Index("ix_product_queries_product_at", "product", "at"),
)
