"""Change management: pointer-move history, code per fingerprint, metadata per environment.

- ``pointer_moves``: every promote / rollback / env creation, with who and why; rows of one
  operation share a ``batch`` id and commit in one transaction with the pointer moves.
- ``fingerprint_code``: the code a fingerprint was built from, so ``steward plan`` can
  compare the project's SQL with the SQL behind an environment's versions.
- ``env_specs``: the declaration (metadata) each environment last ran with, so a plan can
  tell a metadata-only change and a contract change apart per environment.
"""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "pointer_moves", md,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("batch", sa.String(64), nullable=False, index=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("env", sa.String(255), nullable=False),
        sa.Column("product", sa.String(255), nullable=False),
        sa.Column("from_version", sa.String(64)),
        sa.Column("to_version", sa.String(64)),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("source_env", sa.String(255)),
        sa.Column("actor", sa.String(255)),
        sa.Column("message", sa.Text),
        sa.Index("ix_pointer_moves_env_product", "env", "product"),
    )
    sa.Table(
        "fingerprint_code", md,
        sa.Column("fingerprint", sa.String(64), primary_key=True),
        sa.Column("product", sa.String(255), nullable=False),
        sa.Column("local_fp", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("code", sa.Text),
        sa.Column("outputs_json", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    sa.Table(
        "env_specs", md,
        sa.Column("env", sa.String(255), primary_key=True),
        sa.Column("product", sa.String(255), primary_key=True),
        sa.Column("metadata_fp", sa.String(64), nullable=False),
        sa.Column("spec_json", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    md.create_all(conn)
