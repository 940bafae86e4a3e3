"""Which products a query reads, so ``steward sql`` can count its readers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from steward.core.model import Project

if TYPE_CHECKING:
    from steward.meta.store import Metastore


def products_read(project: Project, query: str) -> list[str]:
    """The products a ``steward sql`` statement names (``domain.name``, or a short name
    only one product has); nothing for a statement that does not parse."""
    import sqlglot

    from steward.sql.parse import DIALECT, table_references

    try:
        tree = sqlglot.parse_one(query, read=DIALECT)
    except Exception:  # the engine reports a bad statement; counting is no reason to
        return []
    if tree is None:
        return []
    by_short: dict[str, list[str]] = {}
    for product in project.products:
        by_short.setdefault(product.rpartition(".")[2].lower(), []).append(product)
    lower = {n.lower(): n for n in project.products}
    out: list[str] = []
    for ref in table_references(tree):
        name: str | None = lower.get(ref.name.lower())
        if name is None:
            found = by_short.get(ref.name.lower(), [])
            name = found[0] if len(found) == 1 else None
        if name is not None and name not in out:
            out.append(name)
    return out


def count_sql(project: Project, metastore: Callable[[], Metastore], query: str) -> None:
    """Count one read of each product ``query`` names by the current actor (``via``
    sql); a metastore that cannot take the row loses the count, never the query.
    ``metastore``: opens it (only when the query names a product)."""
    from steward.core.ids import actor
    from steward.meta.usage import record_queries

    try:
        names = products_read(project, query)
        if names:
            record_queries(metastore(), {(n, "sql", actor()): 1 for n in names})
    except Exception:
        return
