"""Who reads each product: counts of queries through ``steward sql``, the API and the
web pages (table ``product_queries``, migration 0017).

Readers count in memory and write a row per (product, way, actor) now and then, so a
read never waits for the metastore; the counts are summed when asked.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from steward.meta.store import Metastore
from steward.meta.tables import product_queries

VIAS = ("sql", "api", "web")


def record_queries(ms: Metastore, counts: Mapping[tuple[str, str, str], int],
                   at: datetime | None = None) -> int:
    """Add ``(product, via, actor) -> queries`` in one transaction; returns rows added."""
    rows = [{"product": p, "via": via, "actor": actor[:255], "count": n,
             "at": at or datetime.now(UTC)}
            for (p, via, actor), n in counts.items() if n > 0]
    if rows:
        with ms.begin() as conn:
            conn.execute(product_queries.insert(), rows)
    return len(rows)
