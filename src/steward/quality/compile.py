"""Compile checks into SQL syntax trees: one aggregate scan plus a few extra queries.

Each check becomes a :class:`Compiled` piece, built by its kind
(``steward.core.checkkinds``): aggregates that join the version's single scan
(``count_if`` of a failing-row predicate, a mean, a distinct count ...), the failing-row
predicate itself (for bounded samples and quarantine), and, for the few kinds one scan
cannot answer (uniqueness, relationships, custom SQL), an extra query. This module
hands the kinds the SQL helpers (:class:`SqlScope`: columns, Parquet scans, the user's
SQL parsed and bound); nothing here runs SQL, :mod:`steward.quality.run` does.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlglot
from sqlglot import exp

from steward.core.checkkinds import KINDS
from steward.core.checkkinds.base import Compiled, CompileError
from steward.sql.checksql import THIS, CheckSqlError, parse_check_query, parse_predicate
from steward.sql.parse import DIALECT, parquet_scan, rewrite_references, table_references

__all__ = ["ALIAS", "NOT_COMPILED", "ROW_LEVEL", "Compiled", "CompileError", "Resolver",
           "SqlScope", "compile_check", "custom_query", "failing_predicate", "label_all",
           "scan", "scan_query", "to_sql"]

ALIAS = "__t"
# Evaluated elsewhere (profiles): compiled to nothing here.
NOT_COMPILED = frozenset(name for name, k in KINDS.items() if not k.compiled)
ROW_LEVEL = frozenset(name for name, k in KINDS.items() if k.row_level)

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


def parse_expression(text: str) -> exp.Expr:
    """A user's SQL predicate as a tree; a syntax error becomes a :class:`CompileError`."""
    try:
        return parse_predicate(text)
    except CheckSqlError as e:
        raise CompileError(str(e)) from None


@dataclass
class SqlScope:
    """The SQL helpers a kind compiles with (``steward.core.checkkinds.base.Scope``)."""

    files: Sequence[str]
    resolver: Resolver
    sample_rows: int = 20

    def col(self, name: str, qualified: bool = False) -> exp.Column:
        return col(name, qualified)

    def scan(self, files: Sequence[str], alias: str = ALIAS) -> exp.Expr:
        return scan(files, alias)

    def lit(self, value: Any) -> exp.Expr:
        return lit(value)

    def func(self, name: str, *args: exp.Expr) -> exp.Expr:
        return exp.Anonymous(this=name, expressions=list(args))

    def as_text(self, e: exp.Expr) -> exp.Expr:
        return exp.Cast(this=e, to=exp.DataType.build("VARCHAR"))

    def predicate(self, text: str) -> exp.Expr:
        return parse_expression(text)

    def custom_query(self, text: str) -> exp.Query:
        return custom_query(text, self.files, self.resolver)

    def resolve(self, product: str) -> list[str] | None:
        return self.resolver(product)


def failing_predicate(check: Any) -> exp.Expr | None:
    """The row-level predicate that is TRUE for a failing row (NULL counts as passing)."""
    kind = KINDS.get(check.type)
    if kind is None or kind.failing is None:
        return None
    result: exp.Expr = kind.failing(check, SqlScope((), lambda _n: None))
    return result


def compile_check(check: Any, name: str, idx: int, files: Sequence[str], resolve: Resolver,
                  sample_rows: int) -> Compiled:
    """Compile one check; raises :class:`CompileError` when it cannot run at all."""
    kind = KINDS.get(check.type)
    if kind is None or kind.compile is None:
        raise CompileError(f"check type {check.type!r} is not evaluated by the quality gate")
    out = Compiled(name, check, prefix=f"c{idx}")
    kind.compile(check, out, SqlScope(files, resolve, sample_rows))
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
        n = seen.get(base, 0) + 1
        seen[base] = n
        out.append((base if n == 1 else f"{base}_{n}", c))
    return out


def to_sql(e: exp.Expr) -> str:
    return e.sql(dialect=DIALECT)
