"""Column lineage of one SQL product, from its syntax tree and its inputs' known columns.

sqlglot qualifies the query against a schema built from the upstream products' known
columns (so ``SELECT *`` over a known input expands), then ``sqlglot.lineage`` traces
every output column to the input columns it is computed from. Whatever sqlglot cannot
resolve makes the result *table level* with a reason; this module never raises.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Level = Literal["column", "table", "source"]
# How an output column comes from an input column: the same name, a rename, computed
# from it, (Python products) matched by name only, or predicted by a model that learned
# from it (a model's and a scoring product's prediction and score columns).
How = Literal["identity", "rename", "derived", "name", "predicted"]
_HOW: dict[str, How] = {h: h for h in get_args(How)}  # (each read back as the one string)


@dataclass(frozen=True)
class ProductLineage:
    """Where each output column of one product comes from.

    Attributes:
        product: the product's name.
        level: ``column`` when every output column was traced, ``table`` when only the
            inputs are known (see ``reason``), ``source`` for sources.
        outputs: the product's output columns when known, in order.
        columns: output column -> ``((input product, input column, how), ...)``.
        reason: why the lineage is table level (or partial), for people.
    """

    product: str
    level: Level
    outputs: tuple[str, ...] | None = None
    columns: Mapping[str, tuple[tuple[str, str, How], ...]] = field(default_factory=dict)
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "outputs": list(self.outputs) if self.outputs is not None
                else None, "columns": {c: [list(e) for e in es] for c, es in self.columns.items()},
                "reason": self.reason}

    @classmethod
    def from_json(cls, product: str, d: Mapping[str, Any]) -> ProductLineage:
        # names repeat across a project's lineage (a product in every edge to it, a
        # column in each product passing it on): one string each, not one per mention
        i = sys.intern
        outs = d.get("outputs")
        return cls(product, d["level"],
                   tuple(i(o) for o in outs) if outs is not None else None,
                   {i(c): tuple((i(e[0]), i(e[1]), _HOW.get(e[2], e[2])) for e in es)
                    for c, es in d["columns"].items()},
                   d.get("reason"))


def sql_lineage(product: str, sql: str, inputs: Sequence[str],
                schemas: Mapping[str, Sequence[str] | None], tree: Any = None,
                walked: list[Any] | None = None) -> ProductLineage:
    """Trace each output column of ``sql`` to columns of ``inputs``.

    Args:
        product: the product's name (for the result).
        sql: its SELECT statement (DuckDB dialect).
        inputs: the upstream products it reads, as the loader resolved them.
        schemas: input product -> its known columns, or None when unknown.
        tree: ``sql`` already parsed (it may be changed: qualified in place).
        walked: ``list(tree.walk())``, when the caller has it.
    """
    import sqlglot
    from sqlglot import exp

    from steward.sql.parse import DIALECT

    if tree is None:
        try:
            tree = sqlglot.parse_one(sql, read=DIALECT)
        except sqlglot.errors.SqlglotError as e:
            return ProductLineage(product, "table",
                                  reason=f"sqlglot cannot parse the SQL: {e}")
    # the tree's nodes in find_all's order, walked once: each question below picks its
    # kind from this list (a walk costs ~0.1 ms a query, and there were seven)
    if walked is None:
        walked = list(tree.walk())

    def of(*kinds: type) -> list[Any]:
        return [n for n in walked if isinstance(n, kinds)]

    tables = of(exp.Table)
    # Table functions (a UDF, read_csv(...)) hide their columns from any analysis.
    for t in tables:
        if isinstance(t.this, exp.Func):
            name = t.this.name if isinstance(t.this, exp.Anonymous) else t.this.sql_name().lower()
            return ProductLineage(product, "table", _outputs(tree),
                                  reason=f"reads from table function {name}(); its columns "
                                  "are unknown to the analysis")
    for udtf in of(exp.Lateral, exp.Unnest):
        if isinstance(udtf, exp.Unnest) and not isinstance(udtf.parent, exp.From | exp.Join):
            continue
        return ProductLineage(product, "table", _outputs(tree),
                              reason="reads from UNNEST/LATERAL; not traced by column")
    alias, back = _aliases(of(exp.CTE), tables, inputs)
    schema: dict[str, dict[str, dict[str, str]]] = {"p": {}}
    unknown: list[str] = []
    for ref, prod in alias.items():
        cols = schemas.get(prod)
        if cols is None:
            unknown.append(prod)
            continue
        schema["p"][ref] = {_norm(c): "UNKNOWN" for c in cols}
    selects = of(exp.Select)  # (the rewrite of the table names changed no Select)
    star = any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star)
               for sel in selects for s in sel.expressions)
    written = _outputs(tree)
    if unknown and star:
        return ProductLineage(product, "table", written, reason=(
            f"SELECT * over {', '.join(sorted(unknown))}, whose columns are unknown "
            "(declare them, or build the product once)"))
    fast = _simple_lineage(product, tree, tables, len(selects), back, schemas, written)
    if fast is not None:
        return fast
    try:
        import logging

        from sqlglot.lineage import lineage

        # sqlglot logs a warning for each CTE it cannot scope (dbt's `with source as
        # (select * from ...)`); what it cannot trace is reported as partial lineage
        quiet = logging.getLogger("sqlglot")
        level = quiet.level
        quiet.setLevel(logging.ERROR)
        try:
            nodes = lineage(None, tree, schema=schema if schema["p"] else {}, dialect=DIALECT,
                            trim_selects=False, copy=False, validate_qualify_columns=False,
                            identify=False)
        finally:
            quiet.setLevel(level)
    except Exception as e:  # sqlglot raises many kinds; none may crash a lineage query
        return ProductLineage(product, "table", _outputs(tree),
                              reason=f"sqlglot cannot resolve the columns: {_first_line(e)}")
    assert isinstance(nodes, dict)
    known_up = {prod: {_norm(c): c for c in (schemas.get(prod) or ())} for prod in inputs}
    case = {_norm(c): c for cols in known_up.values() for c in cols.values()}
    case.update({_norm(c): c for c in written or ()})
    columns: dict[str, tuple[tuple[str, str, How], ...]] = {}
    partial: list[str] = []
    for out, node in nodes.items():
        name = case.get(out, out)
        edges: dict[tuple[str, str], How] = {}
        if not _trace(node, name, back, known_up, edges, passthrough=True):
            partial.append(name)
        columns[name] = tuple((p, c, h) for (p, c), h in sorted(edges.items()))
    reason = None
    if partial:
        reason = ("sqlglot could not place some columns in an input: "
                  + ", ".join(partial[:5]) + ("..." if len(partial) > 5 else ""))
    return ProductLineage(product, "column", tuple(columns), columns, reason)


def _simple_lineage(product: str, tree: Any, tables: list[Any], selects: int,
                    back: Mapping[str, str], schemas: Mapping[str, Sequence[str] | None],
                    written: tuple[str, ...] | None) -> ProductLineage | None:
    """Lineage of a flat ``SELECT cols FROM tables [JOIN tables]`` without sqlglot's
    qualifier: most products are this shape, and it is several times faster. None when
    the query is anything more (a CTE, a subquery, a star, a set operation) or a column
    cannot be placed with certainty; the full analysis then runs. ``tables``: the
    tree's tables; ``selects``: how many SELECTs it has."""
    from sqlglot import exp

    if not isinstance(tree, exp.Select) or written is None or tree.args.get("with"):
        return None
    if selects != 1:
        return None
    sources: dict[str, str] = {}  # alias (lower) -> product
    for t in tables:
        prod = back.get(t.name) if t.db == "p" else None
        if prod is None:
            return None
        sources[(t.alias or t.name).lower()] = prod
    known = {prod: {c.lower(): c for c in (schemas.get(prod) or ())}
             for prod in set(sources.values())}
    columns: dict[str, tuple[tuple[str, str, How], ...]] = {}
    for out, sel in zip(written, tree.selects, strict=True):
        inner = sel.this if isinstance(sel, exp.Alias) else sel
        edges: dict[tuple[str, str], How] = {}
        for col in inner.find_all(exp.Column):
            name = col.name.lower()
            if col.table:
                prod = sources.get(col.table.lower())
            elif len(sources) == 1:
                prod = next(iter(sources.values()))
            else:
                owners = [p for p in set(sources.values()) if name in known[p]]
                prod = owners[0] if len(owners) == 1 else None
            if prod is None or (known[prod] and name not in known[prod]):
                return None
            real = known[prod].get(name, col.name)
            how: How = ("derived" if inner is not col else
                        "identity" if real.lower() == out.lower() else "rename")
            edges[(prod, real)] = how
        columns[out] = tuple((p, c, h) for (p, c), h in sorted(edges.items()))
    return ProductLineage(product, "column", written, columns)


def _trace(node: Any, out: str, back: Mapping[str, str], known: Mapping[str, dict[str, str]],
           edges: dict[tuple[str, str], How], passthrough: bool) -> bool:
    """Collect the input columns under ``node``; False when one could not be placed."""
    from sqlglot import exp

    ok = True
    expr = node.expression
    if isinstance(expr, exp.Alias):
        expr = expr.this
    if not isinstance(expr, exp.Column | exp.Table):
        passthrough = False
    if not node.downstream:
        if not isinstance(node.source, exp.Table):
            # a literal or count(*) reads no column; a bare column here was not placed
            return not isinstance(node.expression, exp.Placeholder)
        table = node.source.name
        prod = back.get(table)
        if prod is None:
            return True  # a CTE without a source column
        col = node.name.split(".")[-1]
        real = known.get(prod, {}).get(col, col)
        how: How = "derived" if not passthrough else (
            "identity" if _norm(real) == _norm(out) else "rename")
        prev = edges.get((prod, real))
        if prev is None or (prev != "derived" and how == "derived"):
            edges[(prod, real)] = how
        return True
    for d in node.downstream:
        ok = _trace(d, out, back, known, edges, passthrough) and ok
    return ok


def _aliases(ctes_of: list[Any], tables: list[Any], inputs: Sequence[str]
             ) -> tuple[dict[str, str], dict[str, str]]:
    """Rename every input reference (of ``tables``, a tree's tables; ``ctes_of``, its
    CTEs) to ``p.tN`` so names of any shape fit one schema."""
    from sqlglot import exp

    ctes = {c.alias_or_name.lower() for c in ctes_of}
    short: dict[str, list[str]] = {}
    for i in inputs:
        short.setdefault(i.split(".", 1)[-1].lower(), []).append(i)
    by_lower = {i.lower(): i for i in inputs}
    alias: dict[str, str] = {}
    back: dict[str, str] = {}
    for t in tables:
        if not t.name or isinstance(t.this, exp.Func):
            continue
        if not t.db and t.name.lower() in ctes:
            continue
        written = (f"{t.db}.{t.name}" if t.db else t.name).lower()
        prod = by_lower.get(written)
        if prod is None and not t.db and len(short.get(written, [])) == 1:
            prod = short[written][0]
        if prod is None:
            continue
        ref = back_ref = _ref_name(prod, inputs)
        alias[ref] = prod
        back[back_ref] = prod
        keep = t.alias or t.name
        t.set("this", exp.to_identifier(ref))
        t.set("db", exp.to_identifier("p"))
        t.set("catalog", None)
        if not t.alias:
            t.set("alias", exp.TableAlias(this=exp.to_identifier(keep)))
    return alias, back


def _ref_name(prod: str, inputs: Sequence[str]) -> str:
    return f"t{sorted(inputs).index(prod)}"


def _outputs(tree: Any) -> tuple[str, ...] | None:
    from steward.sql.parse import output_columns

    try:
        return output_columns(tree)
    except Exception:  # an odd tree only loses its column names
        return None


def _norm(name: str) -> str:
    return name.lower()


def _first_line(e: BaseException) -> str:
    text = str(e).strip().splitlines()
    return text[0] if text else type(e).__name__
