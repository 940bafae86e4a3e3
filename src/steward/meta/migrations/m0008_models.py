"""Models: one row per model version (metrics, params, artifact and its content hash).

The artifact itself lives in the version's folder (``model/``); the row is what
``steward models`` and ``steward log`` read without opening it, and the hash is what a
load compares the artifact with before it is deserialised.
"""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "model_versions", md,
        sa.Column("version_id", sa.String(64), primary_key=True),
        sa.Column("product", sa.String(255), nullable=False, index=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("flavor", sa.String(32), nullable=False),
        sa.Column("artifact", sa.String(255), nullable=False),
        sa.Column("artifact_hash", sa.String(64), nullable=False),
        sa.Column("task", sa.String(32)),
        sa.Column("metrics_json", sa.Text, nullable=False),
        sa.Column("params_json", sa.Text, nullable=False),
        sa.Column("libraries_json", sa.Text, nullable=False),
        # everything else model.json holds: signature, split, seed, rows, timings
        sa.Column("info_json", sa.Text, nullable=False),
    )
    md.create_all(conn)
