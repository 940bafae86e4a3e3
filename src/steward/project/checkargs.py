"""What the spec models cannot see in a declaration, checked when the project loads.

Pydantic checks shapes and types. A check can still never make sense — a bound that is
not a number, a date or a time (``min: ten``), ``min`` above ``max``, SQL that does not
parse, a placeholder other than ``{{ this }}`` — and a column can declare a type DuckDB
does not know (``DATETIMEE``). Each is reported at its file and line with a hint, with
every other load problem, instead of failing the build later.

This runs only when a declaration is validated, that is only for files that changed
(the load memo keeps validated specs; see docs/architecture.md). It reads the
declaration as written, short check forms included, so each problem has its line. The
verdict on each check's SQL is kept in the load memo by its text, so editing a sidecar's
description does not parse (nor import sqlglot for) the SQL of its checks again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

from steward.core.checkforms import normalise_check
from steward.core.checkkinds import KINDS
from steward.core.errors import Problem
from steward.project.yamlload import Located
from steward.sql.types import is_text, type_problem

# (last load's memo, this load's, the keys consulted for the spec being validated), as
# the loader keeps them: see steward.project.loader
Memos = tuple[dict[Any, Any], dict[Any, Any], list[Any]]

_BOUNDED = frozenset(name for name, k in KINDS.items() if k.bounded)


def check_arguments(declared: Any, doc: Located, prefix: tuple[Any, ...],
                    problems: list[Problem], memo: Memos | None = None) -> None:
    """Record the problems of the declaration ``declared`` (found at ``prefix`` in ``doc``)."""
    if not isinstance(declared, dict):
        return
    columns = declared.get("columns")
    types: dict[str, str] = {}
    if isinstance(columns, dict):
        for name, col in columns.items():
            if not (isinstance(col, dict) and isinstance(col.get("type"), str)):
                continue
            types[str(name)] = col["type"]
            wrong = type_problem(col["type"])
            if wrong:
                problems.append(Problem(doc.file, doc.line((*prefix, "columns", name, "type")),
                                        f"column {str(name)!r}: {wrong[0]}", wrong[1]))
    for where, column, items in _check_lists(declared):
        for i, raw in enumerate(items):
            try:
                check = normalise_check(raw, column)
            except ValueError:
                continue  # reported where the short forms are expanded
            at = (*prefix, *where, i)
            for arg, message, hint in _problems(check, types, memo):
                problems.append(Problem(doc.file, _line(doc, at, check.get("type"), arg),
                                        f"check '{_label(check)}': {message}", hint))


def _check_lists(declared: dict[str, Any]
                 ) -> Iterator[tuple[tuple[Any, ...], str | None, list[Any]]]:
    if isinstance(declared.get("checks"), list):
        yield ("checks",), None, declared["checks"]
    columns = declared.get("columns")
    if isinstance(columns, dict):
        for name, col in columns.items():
            if isinstance(col, dict) and isinstance(col.get("checks"), list):
                yield ("columns", name, "checks"), str(name), col["checks"]


def _line(doc: Located, at: tuple[Any, ...], kind: Any, arg: str | None) -> int:
    """The line of argument ``arg`` of the check at ``at`` (short or full form)."""
    if arg is not None:
        for loc in ((*at, kind, arg), (*at, arg)):
            if loc in doc.lines:
                return doc.lines[loc]
    return doc.line(at)


def _label(check: dict[str, Any]) -> str:
    """The check's label as results name it (``range_amount``, ``row_count``)."""
    if check.get("name"):
        return str(check["name"])
    cols = check.get("columns") if check.get("type") == "unique" else None
    cols = cols or ([check["column"]] if check.get("column") else [])
    return f"{check.get('type')}_{'_'.join(map(str, cols))}" if cols else str(check.get("type"))


def _problems(check: dict[str, Any], types: dict[str, str], memo: Memos | None
              ) -> Iterator[tuple[str | None, str, str]]:
    """(argument, what is wrong, hint) for each problem of one check."""
    kind = check.get("type")
    if kind == "range":
        text_ok = is_text(types.get(str(check.get("column"))))
        for arg in ("min", "max"):
            value = check.get(arg)
            if value is not None and not _is_bound(value, text_ok):
                yield (arg, f"{arg} {value!r} is not a number, a date or a time",
                       f"write a number ({arg}: 10), or a date or time in ISO form "
                       f"('2026-01-31', '2026-01-31 08:00:00')")
    if kind in _BOUNDED:
        lo, hi = check.get("min"), check.get("max")
        if _greater(lo, hi):
            yield "max", f"min {lo} is greater than max {hi}", "no value can pass: swap them"
    for arg, predicate in (("expression", True), ("query", False)):
        if kind == ("expression" if predicate else "sql") and isinstance(check.get(arg), str):
            wrong = _sql_verdict(check[arg], predicate, memo)
            if wrong:
                yield arg, wrong[0], wrong[1]


def _sql_verdict(text: str, predicate: bool, memo: Memos | None) -> tuple[str, str] | None:
    """(what is wrong, hint) with a check's SQL, or None; the last load's verdict on the
    same text when there is one."""
    key = ("checksql", predicate, text)
    if memo is not None and key in memo[0]:
        verdict: tuple[str, str] | None = memo[0][key]
    else:
        from steward.sql.checksql import CheckSqlError, parse_check_query, parse_predicate

        try:
            if predicate:
                parse_predicate(text)
            else:
                parse_check_query(text)
            verdict = None
        except CheckSqlError as e:
            verdict = (e.message, e.hint)
    if memo is not None:
        memo[1][key] = verdict
        memo[2].append(key)
    return verdict


def _is_bound(value: Any, text_ok: bool) -> bool:
    """A range bound: a number, a date or a time (or any text, on a text column)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | dt.date | dt.time):
        return True
    if not isinstance(value, str):
        return False
    if text_ok:
        return True
    for parse in (dt.date.fromisoformat, dt.datetime.fromisoformat, dt.time.fromisoformat):
        try:
            parse(value)
        except ValueError:
            continue
        return True
    return False


def _greater(lo: Any, hi: Any) -> bool:
    if lo is None or hi is None or isinstance(lo, bool) or isinstance(hi, bool):
        return False
    try:
        return bool(lo > hi)
    except TypeError:  # a date and a number, say: the bounds' own problems say it
        return False
