"""The metastore side of database sources: what each read found (see m0010)."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from steward.meta.store import Metastore, now
from steward.meta.tables import source_reads  # noqa: F401  (the one MetaData)


@dataclass(frozen=True)
class SourceRead:
    """A read's change signal and largest watermark (as text), if declared."""

    signal: str | None
    watermark: str | None
    watermark_type: str | None = None
    rows_read: int | None = None


def recorded(ms: Metastore, product: str, data_hash: str | None) -> SourceRead | None:
    """What the read that produced ``data_hash`` found, if recorded."""
    if not data_hash:
        return None
    with ms.sa_engine.connect() as conn:
        row = conn.execute(sa.select(source_reads.c.signal, source_reads.c.watermark,
                                     source_reads.c.watermark_type, source_reads.c.rows_read)
                           .where(source_reads.c.product == product,
                                  source_reads.c.data_hash == data_hash)).first()
    return SourceRead(*row) if row is not None else None


def record(ms: Metastore, product: str, data_hash: str, read: SourceRead) -> None:
    """Remember ``read`` for the data it produced (the last read of the same data wins)."""
    with ms.sa_engine.begin() as conn:
        conn.execute(source_reads.delete().where(source_reads.c.product == product,
                                                 source_reads.c.data_hash == data_hash))
        conn.execute(source_reads.insert(), {
            "product": product, "data_hash": data_hash, "signal": read.signal,
            "watermark": read.watermark, "watermark_type": read.watermark_type,
            "rows_read": read.rows_read, "read_at": now()})
