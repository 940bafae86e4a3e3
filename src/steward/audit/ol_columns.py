"""What OpenLineage's column lineage facet (1-2-0) says beyond "this column comes from
those": how each output column is computed from its inputs, and which input columns
shape the whole dataset without flowing into a column.

- *Direct* transformations, per output column and input column: ``IDENTITY`` (the value
  itself, renamed or not), ``TRANSFORMATION`` (computed from it), ``AGGREGATION``
  (computed by an aggregate: ``sum(amount)``, ``count(distinct customer)``).
- *Indirect* ones, for the dataset (the facet's ``dataset`` list): the input columns a
  ``JOIN`` condition, a ``FILTER`` (``WHERE``, ``HAVING``, ``QUALIFY``), a ``GROUP_BY``,
  a ``SORT`` (``ORDER BY``) or a ``WINDOW`` (``PARTITION BY`` / window ``ORDER BY``)
  reads, wherever they are in the query (CTEs and subqueries included). An aggregate
  without an input column (``count(*)``) lists the grouping and filtering columns as its
  indirect inputs.

The output columns' direct inputs come from the catalog's lineage
(:mod:`steward.catalog.sqllineage`); the facts of the syntax tree about aggregates and
clauses (:mod:`steward.sql.facts`) come with it, computed on the tree the lineage pass
parsed. It never raises: a query it cannot read gets no indirect lineage.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from steward.sql.facts import INDIRECT, SqlFacts, facts_of
from steward.sql.facts import sql_facts as _parse_facts


@functools.lru_cache(maxsize=4096)
def sql_facts(sql: str, inputs: tuple[str, ...], dialect: str = "duckdb") -> SqlFacts:
    """The facts of product SQL ``sql`` reading products ``inputs`` (when the catalog's
    lineage pass did not hand them over already)."""
    return _parse_facts(sql, inputs, dialect)


def direct_subtype(how: str, output: str, product: str, column: str, facts: SqlFacts) -> str:
    """IDENTITY, TRANSFORMATION or AGGREGATION for one (output, input column) edge."""
    if how in ("identity", "rename"):
        return "IDENTITY"
    out = output.lower()
    if out in facts.aggregated and (
            not facts.in_aggregate
            or (out, f"{product}\0{column}".lower()) in facts.in_aggregate):
        return "AGGREGATION"
    return "TRANSFORMATION"


def indirect_fields(facts: SqlFacts, namespace: str,
                    subtypes: Sequence[str] = INDIRECT) -> list[dict[str, object]]:
    """The facet's ``dataset`` list: one input field per (product, column), with one
    INDIRECT transformation per clause that reads it."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for prod, col, sub in facts.indirect:
        if sub in subtypes:
            grouped.setdefault((prod, col), []).append(sub)
    return [{"namespace": namespace, "name": prod, "field": col,
             "transformations": [{"type": "INDIRECT", "subtype": s} for s in subs]}
            for (prod, col), subs in sorted(grouped.items())]


__all__ = ["INDIRECT", "SqlFacts", "direct_subtype", "facts_of", "indirect_fields", "sql_facts"]
