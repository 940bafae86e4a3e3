"""Compile checks into SQL syntax trees: one aggregate scan plus a few extra queries.

Each check becomes a :class:`Compiled` piece: aggregates that join the version's single
scan (``count_if`` of a failing-row predicate, a mean, a distinct count ...), the
failing-row predicate itself (for bounded samples and quarantine), and, for the few
kinds one scan cannot answer (relationships, custom SQL), an extra query. Nothing here
runs SQL; :mod:`steward.quality.run` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from steward.core import checks as ck
from steward.sql.checksql import THIS, CheckSqlError, parse_check_query, parse_predicate
from steward.sql.parse import DIALECT, parquet_scan, rewrite_references, table_references

ALIAS = "__t"
# Evaluated elsewhere (profiles): compiled to nothing here.
NOT_COMPILED = frozenset({"drift", "anomaly"})
ROW_LEVEL = frozenset({"not_null", "accepted_values", "range", "regex", "length", "expression",
                       "relationships"})
_STAT_FUNCS = {"mean": "avg", "stddev": "stddev_samp", "min": "min", "max": "max", "sum": "sum",
               "distinct_count": None, "quantile": None, "null_fraction": None}


class CompileError(ValueError):
    """A check that cannot be turned into SQL (bad expression, unknown column ...)."""


@dataclass
class Compiled:
    """One check, compiled.

    Attributes:
        name: the check's label.
        check: the spec it came from.
        aggregates: alias -> aggregate expression, computed in the shared scan.
        predicate: TRUE for a failing row (row-level checks), for samples and quarantine.
        query: an extra query: the failure count (uniqueness: rows checked, duplicates;
            relationships: failing rows, distinct missing values).
        sample: a bounded query returning failing rows (or keys) for inspection.
    """

    name: str
    check: Any
    aggregates: dict[str, exp.Expr] = field(default_factory=dict)
    predicate: exp.Expr | None = None
    query: exp.Expr | None = None
    sample: exp.Expr | None = None

    @property
    def type(self) -> str:
        return str(self.check.type)

    @property
    def row_level(self) -> bool:
        return self.type in ROW_LEVEL and self.predicate is not None


# Resolves another product's name to its current Parquet files (or None if unknown).
Resolver = Callable[[str], "list[str] | None"]


def col(name: str, qualified: bool = False) -> exp.Column:
    return exp.column(name, table=ALIAS if qualified else None, quoted=True)


def scan(files: Sequence[str], alias: str = ALIAS) -> exp.Expr:
    """``read_parquet([...]) AS alias`` as a table expression."""
    return exp.Table(this=parquet_scan(list(files)),
                     alias=exp.TableAlias(this=exp.to_identifier(alias)))


def lit(value: Any) -> exp.Expr:
    return exp.convert(value)


def _count_if(pred: exp.Expr) -> exp.Expr:
    return exp.CountIf(this=pred)


def _func(name: str, *args: exp.Expr) -> exp.Expr:
    return exp.Anonymous(this=name, expressions=list(args))


def _as_text(e: exp.Expr) -> exp.Expr:
    return exp.Cast(this=e, to=exp.DataType.build("VARCHAR"))


def parse_expression(text: str) -> exp.Expr:
    """A user's SQL predicate as a tree; a syntax error becomes a :class:`CompileError`."""
    try:
        return parse_predicate(text)
    except CheckSqlError as e:
        raise CompileError(str(e)) from None


def failing_predicate(check: Any) -> exp.Expr | None:
    """The row-level predicate that is TRUE for a failing row (NULL counts as passing)."""
    t = check.type
    if t == "not_null":
        return col(check.column).is_(exp.null())
    if t == "accepted_values":
        return exp.Not(this=exp.In(this=col(check.column),
                                   expressions=[lit(v) for v in check.values]))
    if t == "range":
        parts: list[exp.Expr] = []
        c = col(check.column)
        if check.min is not None:
            parts.append((exp.LT if check.min_inclusive else exp.LTE)(
                this=c.copy(), expression=lit(check.min)))
        if check.max is not None:
            parts.append((exp.GT if check.max_inclusive else exp.GTE)(
                this=c.copy(), expression=lit(check.max)))
        return exp.or_(*parts)
    if t == "regex":
        return exp.Not(this=_func("regexp_matches", _as_text(col(check.column)),
                                  lit(check.pattern)))
    if t == "length":
        n = _func("length", _as_text(col(check.column)))
        parts = []
        if check.min is not None:
            parts.append(exp.LT(this=n.copy(), expression=lit(check.min)))
        if check.max is not None:
            parts.append(exp.GT(this=n.copy(), expression=lit(check.max)))
        if not parts:
            raise CompileError("length needs 'min' or 'max'")
        return exp.or_(*parts)
    if t == "expression":
        return exp.Not(this=exp.Paren(this=parse_expression(check.expression)))
    return None


def compile_check(check: Any, name: str, idx: int, files: Sequence[str], resolve: Resolver,
                  sample_rows: int) -> Compiled:
    """Compile one check; raises :class:`CompileError` when it cannot run at all."""
    t = check.type
    a = f"c{idx}"
    out = Compiled(name, check)
    src = scan(files)
    if t in ("not_null", "accepted_values", "range", "regex", "length", "expression"):
        pred = failing_predicate(check)
        assert pred is not None
        out.predicate = pred
        out.aggregates[f"{a}_fail"] = _count_if(pred.copy())
        out.sample = exp.select("*").from_(src).where(pred.copy()).limit(sample_rows)
    elif t == "unique":
        # A separate GROUP BY, not count(DISTINCT) in the shared scan: DuckDB then holds
        # one hash table at a time, which keeps the scan's memory low and is as fast.
        key = [col(c) for c in check.key]
        notnull = exp.and_(*[k.copy().is_(exp.null()).not_() for k in key])
        groups = (exp.select(*[k.copy() for k in key], exp.alias_(exp.Count(this=exp.Star()), "n"))
                  .from_(src).where(notnull.copy()).group_by(*[k.copy() for k in key]))
        n = exp.column("n")
        out.query = exp.select(
            exp.Coalesce(this=exp.Sum(this=n.copy()), expressions=[lit(0)]),
            exp.Coalesce(this=exp.Sub(this=exp.Sum(this=n.copy()),
                                      expression=exp.Count(this=exp.Star())),
                         expressions=[lit(0)]),
        ).from_(groups.subquery("__g"))
        out.sample = (exp.select(*[k.copy() for k in key],
                                 exp.alias_(exp.Count(this=exp.Star()), "duplicates"))
                      .from_(src).where(notnull.copy())
                      .group_by(*[k.copy() for k in key])
                      .having(exp.GT(this=exp.Count(this=exp.Star()), expression=lit(1)))
                      .order_by(exp.Ordered(this=exp.column("duplicates"), desc=True))
                      .limit(sample_rows))
    elif t == "relationships":
        parent_files = resolve(check.to)
        if parent_files is None:
            raise CompileError(f"relationship target {check.to!r} has no current version "
                               "in this environment; build it first")
        if not parent_files:
            raise CompileError(f"relationship target {check.to!r} has no data files")
        parent = scan(parent_files, "__p")
        match = (exp.select(lit(1)).from_(parent)
                 .where(exp.EQ(this=exp.column(check.field, table="__p", quoted=True),
                               expression=col(check.column, qualified=True))))
        pred = exp.and_(col(check.column, qualified=True).is_(exp.null()).not_(),
                        exp.Not(this=exp.Exists(this=match)))
        out.predicate = pred
        out.aggregates[f"{a}_nonnull"] = exp.Count(this=col(check.column))
        # failing rows, and the distinct values they hold that the parent lacks
        out.query = (exp.select(exp.Count(this=exp.Star()),
                                exp.Count(this=exp.Distinct(
                                    expressions=[col(check.column, qualified=True)])))
                     .from_(src).where(pred.copy()))
        out.sample = exp.select("*").from_(src).where(pred.copy()).limit(sample_rows)
    elif t == "freshness":
        out.aggregates[f"{a}_max"] = exp.Max(this=col(check.column))
    elif t in _STAT_FUNCS:
        c = col(check.column)
        if t == "quantile":
            agg: exp.Expr = _func("quantile_cont", c, lit(check.q))
        elif t == "distinct_count":
            agg = exp.Count(this=exp.Distinct(expressions=[c]))
        elif t == "null_fraction":
            agg = _count_if(c.is_(exp.null()))
        else:
            agg = _func(_STAT_FUNCS[t] or t, c)
        out.aggregates[f"{a}_value"] = agg
    elif t == "sql":
        query = custom_query(check.query, files, resolve)
        sub = query.subquery("__q")
        out.query = exp.select(exp.Count(this=exp.Star())).from_(sub)
        out.sample = exp.select("*").from_(sub.copy()).limit(sample_rows)
    elif t in ("row_count", "row_count_change"):
        pass  # answered by the scan's row count and the previous version's
    else:
        raise CompileError(f"check type {t!r} is not evaluated by the quality gate")
    return out


def custom_query(text: str, files: Sequence[str], resolve: Resolver) -> exp.Query:
    """A custom check's query with ``{{ this }}`` and product names bound to Parquet files."""
    try:
        tree = parse_check_query(text)
    except CheckSqlError as e:
        raise CompileError(str(e)) from None
    mapping: dict[str, exp.Expr] = {THIS: parquet_scan(list(files))}
    for ref in table_references(tree):
        if ref.name == THIS:
            continue
        found = resolve(ref.name)
        if found is None:
            raise CompileError(f"custom check reads {ref.name!r}, which is neither "
                               "{{ this }} nor a product with a current version")
        mapping[ref.name] = parquet_scan(found)
    return sqlglot.parse_one(rewrite_references(tree.sql(dialect=DIALECT), mapping),
                             read=DIALECT)  # type: ignore[return-value]


def scan_query(files: Sequence[str], aggregates: dict[str, exp.Expr]) -> exp.Select:
    """The one aggregate scan: ``SELECT count(*) AS __rows, <aggregates> FROM <version>``."""
    items = [exp.alias_(exp.Count(this=exp.Star()), "__rows")]
    items += [exp.alias_(e.copy(), alias) for alias, e in aggregates.items()]
    return exp.select(*items).from_(scan(files))


def label_all(checks: Sequence[Any]) -> list[tuple[str, Any]]:
    """Each check with a unique label (a repeated label gets ``_2``, ``_3`` ...)."""
    seen: dict[str, int] = {}
    out = []
    for c in checks:
        base = c.label()
        if isinstance(c, ck.Statistic) and not c.name:
            base = f"{c.type}_{c.column}"
        n = seen.get(base, 0) + 1
        seen[base] = n
        out.append((base if n == 1 else f"{base}_{n}", c))
    return out


def to_sql(e: exp.Expr) -> str:
    return e.sql(dialect=DIALECT)
