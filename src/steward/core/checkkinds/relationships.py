"""``relationships``: every non-NULL value of a column exists in another product's field."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds.base import (
    Compiled,
    CompileError,
    Judging,
    Kind,
    Scope,
    arg,
    rows_result,
)
from steward.core.words import counted


def _compile(check: Any, out: Compiled, q: Scope) -> None:
    from sqlglot import exp

    parent_files = q.resolve(check.to)
    if parent_files is None:
        raise CompileError(f"relationship target {check.to!r} has no current version "
                           "in this environment; build it first")
    if not parent_files:
        raise CompileError(f"relationship target {check.to!r} has no data files")
    src = q.scan(q.files)
    parent = q.scan(parent_files, "__p")
    match = (exp.select(q.lit(1)).from_(parent)
             .where(exp.EQ(this=exp.column(check.field, table="__p", quoted=True),
                           expression=q.col(check.column, qualified=True))))
    pred = exp.and_(q.col(check.column, qualified=True).is_(exp.null()).not_(),
                    exp.Not(this=exp.Exists(this=match)))
    out.predicate = pred
    out.add("nonnull", exp.Count(this=q.col(check.column)))
    # failing rows, and the distinct values they hold that the parent lacks
    out.query = (exp.select(exp.Count(this=exp.Star()),
                            exp.Count(this=exp.Distinct(
                                expressions=[q.col(check.column, qualified=True)])))
                 .from_(src).where(pred.copy()))
    out.sample = exp.select("*").from_(src.copy()).where(pred.copy()).limit(q.sample_rows)


def _judge(comp: Compiled, values: dict[str, Any], run: Judging) -> CheckResult:
    check = comp.check
    failures, missing = (int(x or 0) for x in run.first(comp.query))
    nonnull = int(comp.value(values, "nonnull") or 0)
    r = rows_result(check, comp.name, failures, nonnull, check.column)
    r = replace(r, details={**r.details, "missing_values": missing})
    if failures:
        r = replace(r, message=f"{counted(failures, 'row')} "
                               f"({counted(missing, 'distinct value')}) of {check.column} "
                               f"not found in {check.to}.{check.field}; {r.message}")
    return r


KIND = Kind(("relationships",), "Relationships",
            {"column": arg(str), "to": arg(str), "field": arg(str)},
            row_level=True, compile=_compile, judge=_judge,
            from_dbt={"relationships": lambda t: {
                "type": "relationships", "column": t.column(),
                "to": t.relation(t.args.get("to")), "field": str(t.args.get("field"))}},
            example={"type": "relationships", "column": "customer_id", "to": "customers",
                     "field": "id"})
