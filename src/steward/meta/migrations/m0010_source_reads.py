"""What a database source read: its change signal and watermark, by the data they gave.

``source_reads`` is keyed by product and the content hash of the data a read produced
(the data hash of the version published from it): the next run compares the source's
change signal with the one recorded for its current version's data and skips the read
when it is unchanged, and an incremental read starts past the recorded watermark.
"""

from __future__ import annotations

import sqlalchemy as sa


def upgrade(conn: sa.Connection) -> None:
    md = sa.MetaData()
    sa.Table(
        "source_reads", md,
        sa.Column("product", sa.String(255), primary_key=True),
        sa.Column("data_hash", sa.String(64), primary_key=True),
        sa.Column("signal", sa.Text),
        sa.Column("watermark", sa.Text),
        sa.Column("watermark_type", sa.String(64)),
        sa.Column("rows_read", sa.BigInteger),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=False),
    )
    md.create_all(conn)
