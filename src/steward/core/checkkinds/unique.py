"""``unique``: no two rows share a key (one column or several); NULL keys are skipped."""

from __future__ import annotations

from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import Compiled, Judging, Kind, Scope, arg, rows_result
from steward.core.words import counted


class _Key:
    column: str | None
    columns: tuple[str, ...] | None

    @property
    def key(self) -> tuple[str, ...]:
        return self.columns or ((self.column,) if self.column else ())

    @property
    def columns_used(self) -> tuple[str, ...]:
        return self.key


def _validate(check: Any) -> None:
    if not check.column and not check.columns:
        raise ValueError("unique needs 'column' or 'columns'")


def _compile(check: Any, out: Compiled, q: Scope) -> None:
    # A separate GROUP BY, not count(DISTINCT) in the shared scan: DuckDB then holds
    # one hash table at a time, which keeps the scan's memory low and is as fast.
    from sqlglot import exp

    src = q.scan(q.files)
    key = [q.col(c) for c in check.key]
    notnull = exp.and_(*[k.copy().is_(exp.null()).not_() for k in key])
    groups = (exp.select(*[k.copy() for k in key], exp.alias_(exp.Count(this=exp.Star()), "n"))
              .from_(src).where(notnull.copy()).group_by(*[k.copy() for k in key]))
    n = exp.column("n")
    out.query = exp.select(
        exp.Coalesce(this=exp.Sum(this=n.copy()), expressions=[q.lit(0)]),
        exp.Coalesce(this=exp.Sub(this=exp.Sum(this=n.copy()),
                                  expression=exp.Count(this=exp.Star())),
                     expressions=[q.lit(0)]),
    ).from_(groups.subquery("__g"))
    out.sample = (exp.select(*[k.copy() for k in key],
                             exp.alias_(exp.Count(this=exp.Star()), "duplicates"))
                  .from_(src.copy()).where(notnull.copy())
                  .group_by(*[k.copy() for k in key])
                  .having(exp.GT(this=exp.Count(this=exp.Star()), expression=q.lit(1)))
                  .order_by(exp.Ordered(this=exp.column("duplicates"), desc=True))
                  .limit(q.sample_rows))


def _judge(comp: Compiled, values: dict[str, Any], run: Judging) -> CheckResult:
    from dataclasses import replace

    check = comp.check
    nonnull, dups = (int(x or 0) for x in run.first(comp.query))
    r = rows_result(check, comp.name, dups, nonnull, check.column)
    key = ", ".join(check.key)
    return replace(r, message=f"({key}) unique: {r.message}" if dups == 0 else
                   f"{counted(dups, 'duplicate row')} on ({key}); {r.message}")


def _to_odcs(check: Any, column: str | None, _q: odcs.OdcsScope) -> dict[str, Any]:
    if column is not None:
        return odcs.library("duplicateValues", "uniqueness", **odcs.tolerance(check))
    return odcs.library("duplicateValues", "uniqueness",
                        arguments={"properties": list(check.key)}, **odcs.tolerance(check))


def _from_odcs(rule: dict[str, Any], column: str | None) -> dict[str, Any] | None:
    if not odcs.is_library(rule, "duplicateValues"):
        return None
    cols = odcs.arguments(rule).get("properties") or ([column] if column else None)
    if not cols:
        return None
    key = {"column": cols[0]} if len(cols) == 1 else {"columns": list(cols)}
    return {"type": "unique", **key, **odcs.from_tolerance(rule)}


KIND = Kind(("unique",), "Unique",
            {"column": arg(str | None, None), "columns": arg(tuple[str, ...] | None, None)},
            validate=_validate, shorthand="columns", column_unless=("columns",),
            compile=_compile, judge=_judge, mixin=_Key, to_odcs=_to_odcs, from_odcs=_from_odcs,
            from_dbt={"unique": lambda t: {"type": "unique", "column": t.column()},
                      "dbt_utils.unique_combination_of_columns": lambda t: {
                          "type": "unique",
                          "columns": list(t.args.get("combination_of_columns") or [])}},
            example={"type": "unique", "columns": ["order_id", "line"]})
