"""``sql``: a query returning the failing rows; ``{{ this }}`` names the version's table."""

from __future__ import annotations

import re
from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds import odcs
from steward.core.checkkinds.base import Compiled, Judging, Kind, Scope, arg
from steward.core.sqltext import sql_value
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


def _to_odcs(check: Any, column: str | None, _q: odcs.OdcsScope) -> dict[str, Any]:
    body = re.sub(r"\{\{\s*this\s*\}\}", "${object}", check.query.strip().rstrip(";"))
    return {"type": "sql", "query": f"SELECT COUNT(*) FROM ({body}) AS failing",
            "mustBeLessOrEqualTo": check.max_failures or 0}


def _from_odcs(rule: dict[str, Any], column: str | None) -> dict[str, Any] | None:
    """An ODCS SQL rule (a query giving one value and an operator) as a query returning
    a row when the value breaks it; with ``unit: percent`` the value is compared as a
    percentage of the table's rows (an empty table breaks no percentage)."""
    if rule.get("type") != "sql" or not rule.get("query"):
        return None
    q = odcs.placeholders(str(rule["query"]).strip().rstrip(";"), column)
    cond = None
    for key, op in odcs.OPS.items():
        if key in rule:
            cond = f"value {op} {sql_value(rule[key])}"
            break
    if cond is None and "mustBeBetween" in rule:
        lo, hi = rule["mustBeBetween"]
        cond = f"value BETWEEN {sql_value(lo)} AND {sql_value(hi)}"
    if cond is None and "mustNotBeBetween" in rule:
        lo, hi = rule["mustNotBeBetween"]
        cond = f"value NOT BETWEEN {sql_value(lo)} AND {sql_value(hi)}"
    if cond is None:
        cond = "value = 0"
    value = f"({q})"
    if rule.get("unit") == "percent":  # the count as a percentage of the table's rows
        value = f"{value} * 100.0 / NULLIF((SELECT COUNT(*) FROM {{{{ this }}}}), 0)"
    return {"type": "sql",
            "query": f"SELECT value FROM (SELECT {value} AS value) AS r WHERE NOT ({cond})"}


KIND = Kind(("sql",), "CustomSql", {"query": arg(str)}, shorthand="query",
            column_scoped=False, compile=_compile, judge=_judge, to_odcs=_to_odcs,
            from_odcs=_from_odcs,
            example={"type": "sql",
                     "query": "SELECT * FROM {{ this }} WHERE amount < 0 AND status = 'paid'"})
