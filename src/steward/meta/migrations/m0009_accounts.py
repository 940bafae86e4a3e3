"""Accounts of ``steward serve``: users, their API tokens and their browser sessions.

Only hashes of secrets are stored: a password or an API token as a salted scrypt hash, a
session id (256 random bits) as its SHA-256.
"""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "users", md,
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        # what an owner holds: domains and owner names (JSON lists)
        sa.Column("domains_json", sa.Text, nullable=False),
        sa.Column("owners_json", sa.Text, nullable=False),
        sa.Column("pii", sa.Boolean, nullable=False),
        sa.Column("password_hash", sa.String(255)),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    sa.Table(
        "user_tokens", md,
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_name", sa.String(64), nullable=False, index=True),
        sa.Column("label", sa.String(255)),
        sa.Column("secret_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    sa.Table(
        "user_sessions", md,
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("user_name", sa.String(64), nullable=False, index=True),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.String(40), nullable=False),
    )
    md.create_all(conn)
