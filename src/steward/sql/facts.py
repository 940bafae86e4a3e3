"""What a product's SQL says about its columns beyond "this column comes from those":
which output columns an aggregate computes, and which input columns a clause (JOIN,
WHERE/HAVING/QUALIFY, GROUP BY, ORDER BY, window) reads.

Computed from the query's syntax tree (:func:`facts_of`), by the catalog's lineage pass
on the tree it parsed anyway (one parse for both), and kept with the lineage cache as
JSON; OpenLineage's column lineage facet is made of them
(:mod:`steward.audit.ol_columns`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# subtypes of indirect lineage, in the order they are listed
INDIRECT = ("JOIN", "FILTER", "GROUP_BY", "SORT", "WINDOW")


@dataclass(frozen=True)
class SqlFacts:
    # output columns (lower case) computed by an aggregate function
    aggregated: frozenset[str] = frozenset()
    # output columns (lower case) that are an aggregate reading no column (count(*))
    columnless: frozenset[str] = frozenset()
    # (input product, input column, subtype), sorted
    indirect: tuple[tuple[str, str, str], ...] = ()
    # per input (product, column), the output columns reading it inside an aggregate
    in_aggregate: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def to_json(self) -> dict[str, Any]:
        return {"aggregated": sorted(self.aggregated), "columnless": sorted(self.columnless),
                "indirect": [list(t) for t in self.indirect],
                "in_aggregate": sorted(list(t) for t in self.in_aggregate)}

    @classmethod
    def from_json(cls, d: Mapping[str, Any]) -> SqlFacts:
        return cls(frozenset(d["aggregated"]), frozenset(d["columnless"]),
                   tuple((a, b, c) for a, b, c in d["indirect"]),
                   frozenset((a, b) for a, b in d["in_aggregate"]))


def sql_facts(sql: str, inputs: Sequence[str], dialect: str = "duckdb") -> SqlFacts:
    """The facts of product SQL ``sql`` reading products ``inputs`` (parsed here)."""
    try:
        import sqlglot

        return facts_of(sqlglot.parse_one(sql, read=dialect), inputs)
    except Exception:  # sqlglot raises many kinds; lineage is best effort
        return SqlFacts()


def facts_of(tree: Any, inputs: Sequence[str], walked: Sequence[Any] | None = None
             ) -> SqlFacts:
    """The facts of a parsed product query (a sqlglot tree, left as it was) reading the
    products ``inputs``. ``walked``: the tree's nodes, when the caller walked it already
    (then a query without windows or aggregates is not searched for them)."""
    from sqlglot import exp
    from sqlglot.optimizer.scope import Scope, traverse_scope

    windows = aggregates = True
    if walked is not None:
        windows = any(isinstance(n, exp.Window) for n in walked)
        aggregates = any(isinstance(n, exp.AggFunc) for n in walked)

    by_name = {i.lower(): i for i in inputs}
    short: dict[str, list[str]] = {}
    for i in inputs:
        short.setdefault(i.split(".", 1)[-1].lower(), []).append(i)

    def product_of(t: exp.Table) -> str | None:
        written = (f"{t.db}.{t.name}" if t.db else t.name).lower()
        hit = by_name.get(written)
        if hit is None and not t.db and len(short.get(written, [])) == 1:
            hit = short[written][0]
        return hit

    def resolve(scope: Scope, table: str, column: str, depth: int = 0
                ) -> list[tuple[str, str]]:
        """The input (product, column) pairs a column of ``scope`` stands for."""
        if depth > 20:
            return []
        sources = scope.sources
        if table:
            src = sources.get(table)
            cands = [src] if src is not None else []
        else:
            cands = list(sources.values())
        out: list[tuple[str, str]] = []
        for src in cands:
            if isinstance(src, exp.Table):
                prod = product_of(src)
                if prod is not None and (table or len(cands) == 1):
                    out.append((prod, column))
            elif isinstance(src, Scope) and isinstance(src.expression, exp.Select):
                for proj in src.expression.selects:
                    if proj.alias_or_name.lower() == column.lower() and not isinstance(
                            proj, exp.Star):
                        for c in proj.find_all(exp.Column):
                            out += resolve(src, c.table, c.name, depth + 1)
                        break
                    if isinstance(proj, exp.Star) or (isinstance(proj, exp.Column)
                                                      and proj.is_star):
                        out += resolve(src, "", column, depth + 1)
                        break
        return out

    indirect: set[tuple[str, str, str]] = set()
    scopes = traverse_scope(tree)  # (walked once: the root scope is the last)
    for scope in scopes:
        select = scope.expression
        if not isinstance(select, exp.Select):
            continue
        clauses: list[tuple[str, exp.Expression | None]] = [
            ("FILTER", select.args.get("where")), ("FILTER", select.args.get("having")),
            ("FILTER", select.args.get("qualify")), ("GROUP_BY", select.args.get("group")),
            ("SORT", select.args.get("order"))]
        for join in select.args.get("joins") or ():
            clauses.append(("JOIN", join.args.get("on")))
            for u in join.args.get("using") or ():
                name = u.name
                for src_alias in scope.sources:
                    for prod, col in resolve(scope, src_alias, name):
                        indirect.add((prod, col, "JOIN"))
        for w in select.find_all(exp.Window) if windows else ():
            clauses.append(("WINDOW", w.args.get("partition_by") and exp.Tuple(
                expressions=list(w.args["partition_by"]))))
            clauses.append(("WINDOW", w.args.get("order")))
        for subtype, node in clauses:
            if node is None:
                continue
            for c in node.find_all(exp.Column):
                for prod, col in resolve(scope, c.table, c.name):
                    indirect.add((prod, col, subtype))

    aggregated: set[str] = set()
    columnless: set[str] = set()
    in_agg: set[tuple[str, str]] = set()
    top = tree if isinstance(tree, exp.Select) and aggregates else None
    if top is not None:
        root = scopes[-1] if scopes else None
        for proj in top.selects:
            aggs = list(proj.find_all(exp.AggFunc))
            if not aggs:
                continue
            out = proj.alias_or_name.lower()
            aggregated.add(out)
            if not any(True for a in aggs for _ in a.find_all(exp.Column)):
                columnless.add(out)
            if root is not None:
                for a in aggs:
                    for c in a.find_all(exp.Column):
                        for prod, col in resolve(root, c.table, c.name):
                            in_agg.add((out, f"{prod}\0{col}".lower()))
    return SqlFacts(frozenset(aggregated), frozenset(columnless),
                    tuple(sorted(indirect, key=lambda t: (t[0], t[1], INDIRECT.index(t[2])))),
                    frozenset(in_agg))
