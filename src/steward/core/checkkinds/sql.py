"""``sql``: a query returning the failing rows; ``{{ this }}`` names the version's table."""

from __future__ import annotations

from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds.base import Compiled, Judging, Kind, Scope, arg
from steward.core.words import counted


def _compile(check: Any, out: Compiled, q: Scope) -> None:
    from sqlglot import exp

    sub = q.custom_query(check.query).subquery("__q")
    out.query = exp.select(exp.Count(this=exp.Star())).from_(sub)
    out.sample = exp.select("*").from_(sub.copy()).limit(q.sample_rows)


def _judge(comp: Compiled, values: dict[str, Any], run: Judging) -> CheckResult:
    check = comp.check
    failures = int(run.first(comp.query)[0])
    ok = failures <= (check.max_failures or 0)
    return CheckResult(comp.name, comp.type, check.severity, "pass" if ok else "fail", failures,
                       None, failures, f"query returned {counted(failures, 'failing row')}",
                       column=None)


KIND = Kind(("sql",), "CustomSql", {"query": arg(str)}, shorthand="query",
            column_scoped=False, compile=_compile, judge=_judge,
            example={"type": "sql",
                     "query": "SELECT * FROM {{ this }} WHERE amount < 0 AND status = 'paid'"})
