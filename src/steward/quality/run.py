"""Run compiled checks on a version's Parquet files inside DuckDB.

One aggregate scan answers every row-level, uniqueness and statistical check; the few
relationships and custom-SQL checks add one query each. Failing-row samples are fetched
only for checks that fail, bounded, and written as Parquet next to the version.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

from sqlglot import exp

from steward.core.check_results import CheckResult
from steward.core.durations import parse_duration
from steward.core.records import Column
from steward.core.words import counted, verb
from steward.quality.compile import (
    NOT_COMPILED,
    Compiled,
    CompileError,
    Resolver,
    compile_check,
    label_all,
    scan_query,
)
from steward.quality.contract import Contract, contract_result, schema_problems

SAMPLE_ROWS = 20


@dataclass
class CheckRun:
    """Everything one evaluation needs besides the checks themselves."""

    engine: Any  # the compute engine (steward.engine.base.Engine): queries go through it
    files: list[str]
    schema: Sequence[Column] = ()
    previous_rows: int | None = None
    resolve: Resolver = lambda _name: None  # noqa: E731
    sample_dir: str | None = None  # absolute folder for failing-row samples
    sample_prefix: str = "checks"  # how sample paths are recorded (relative to the version)
    sample_rows: int = SAMPLE_ROWS
    now: datetime | None = None


@dataclass
class Evaluation:
    """Results plus the compiled checks (the gate needs their predicates to quarantine)."""

    results: list[CheckResult]
    compiled: dict[str, Compiled]
    rows: int | None


def evaluate(checks: Sequence[Any], run: CheckRun, contract: Contract | None = None
             ) -> Evaluation:
    """Evaluate ``checks`` (and the contract) on ``run.files``; never raises for bad checks.

    A check that cannot compile or whose SQL fails gets status ``error`` with the reason;
    the others still run.
    """
    results: dict[str, CheckResult] = {}
    compiled: dict[str, Compiled] = {}
    known = {c.name for c in run.schema} if run.schema else None
    for i, (name, check) in enumerate(label_all(checks)):
        if check.type in NOT_COMPILED:
            continue
        missing = [c for c in check.columns_used if known is not None and c not in known]
        if missing:
            results[name] = _error(name, check, f"column {missing[0]!r} is not in the data "
                                                f"(columns: {', '.join(sorted(known or ()))})")
            continue
        try:
            compiled[name] = compile_check(check, name, i, run.files, run.resolve,
                                           run.sample_rows)
        except CompileError as e:
            results[name] = _error(name, check, str(e))

    # the contract: schema first (no query), nulls in not-nullable columns in the scan
    issues: list[str] = []
    null_aggs: dict[str, exp.Expr] = {}
    if contract is not None and contract.enforced:
        issues = schema_problems(contract, run.schema)
        for j, colname in enumerate(contract.not_null):
            if known is None or colname in known:
                null_aggs[f"k{j}_nulls"] = exp.CountIf(
                    this=exp.column(colname, quoted=True).is_(exp.null()))

    values, scan_errors = _scan(run, compiled, null_aggs)
    rows = values.get("__rows")
    if contract is not None and contract.enforced:
        nulls = {c: int(values.get(f"k{j}_nulls") or 0) for j, c in enumerate(contract.not_null)
                 if f"k{j}_nulls" in values}
        results["contract"] = contract_result(contract, issues, nulls, rows)
    for name, comp in compiled.items():
        if name in scan_errors:
            results[name] = _error(name, comp.check, scan_errors[name])
            continue
        try:
            results[name] = _judge(comp, values, run)
        except Exception as e:  # a failing extra query is this check's error, not the run's
            results[name] = _error(name, comp.check, _db_message(e))
    out = list(results.values())
    for k, r in enumerate(out):
        failing = compiled.get(r.name)
        if r.status == "fail" and failing is not None and failing.sample is not None \
                and run.sample_dir:
            out[k] = _with_sample(r, failing, run)
    return Evaluation(out, compiled, rows)


def _scan(run: CheckRun, compiled: dict[str, Compiled], extra: dict[str, exp.Expr]
          ) -> tuple[dict[str, Any], dict[str, str]]:
    """The single aggregate scan; if it fails, each check alone to find the culprit."""
    aggs = dict(extra)
    for comp in compiled.values():
        aggs.update(comp.aggregates)
    try:
        return run.engine.record(scan_query(run.files, aggs)), {}
    except Exception as first:
        values: dict[str, Any] = {}
        errors: dict[str, str] = {}
        try:
            values = run.engine.record(scan_query(run.files, extra))
        except Exception:
            values = run.engine.record(scan_query(run.files, {}))
        for name, comp in compiled.items():
            if not comp.aggregates:
                continue
            try:
                values.update(run.engine.record(scan_query(run.files, comp.aggregates)))
            except Exception as e:
                errors[name] = _db_message(e)
        if not errors and not values:
            raise first
        return values, errors




def _judge(comp: Compiled, values: dict[str, Any], run: CheckRun) -> CheckResult:
    """Turn the scan's numbers into a pass or fail with a readable message."""
    check, name, t = comp.check, comp.name, comp.type
    rows = int(values.get("__rows") or 0)
    a = _prefix(comp)
    column = getattr(check, "column", None)
    if t in ("not_null", "accepted_values", "range", "regex", "length", "expression"):
        return _rows_result(check, name, int(values[f"{a}_fail"] or 0), rows, column)
    if t == "unique":
        nonnull, dups = (int(x or 0) for x in run.engine.first(comp.query))  # type: ignore[arg-type]
        r = _rows_result(check, name, dups, nonnull, column)
        key = ", ".join(check.key)
        return replace(r, message=f"({key}) unique: {r.message}" if dups == 0 else
                       f"{counted(dups, 'duplicate row')} on ({key}); {r.message}")
    if t == "relationships":
        failures, missing = (int(x or 0) for x in run.engine.first(comp.query))  # type: ignore[union-attr, arg-type]
        nonnull = int(values[f"{a}_nonnull"] or 0)
        r = _rows_result(check, name, failures, nonnull, column)
        r = replace(r, details={**r.details, "missing_values": missing})
        if failures:
            r = replace(r, message=f"{counted(failures, 'row')} "
                                   f"({counted(missing, 'distinct value')}) of {check.column} "
                                   f"not found in {check.to}.{check.field}; {r.message}")
        return r
    if t == "sql":
        failures = int(run.engine.first(comp.query)[0])  # type: ignore[arg-type]
        ok = failures <= (check.max_failures or 0)
        return CheckResult(name, t, check.severity, "pass" if ok else "fail", failures, None,
                           failures, f"query returned {counted(failures, 'failing row')}",
                           column=None)
    if t == "row_count":
        return _bounds(check, name, rows, check.min, check.max, rows, "row count")
    if t == "row_count_change":
        prev = run.previous_rows
        if not prev:
            return CheckResult(name, t, check.severity, "pass", 0, rows, None,
                               "no previous version to compare with")
        pct = 100.0 * (rows - prev) / prev
        ok = abs(pct) <= check.max_change_pct
        return CheckResult(name, t, check.severity, "pass" if ok else "fail", 0 if ok else 1,
                           rows, round(pct, 3),
                           f"row count {prev:,} -> {rows:,} ({pct:+.1f}%, allowed "
                           f"+-{check.max_change_pct:g}%)", details={"previous": prev})
    if t == "freshness":
        newest = values[f"{a}_max"]
        limit = parse_duration(check.max_age)
        if newest is None:
            return CheckResult(name, t, check.severity, "fail", 1, rows, None,
                               f"{check.column} has no values", column=column)
        age = _age_seconds(newest, run.now)
        ok = age <= limit
        return CheckResult(name, t, check.severity, "pass" if ok else "fail", 0 if ok else 1,
                           rows, round(age, 1),
                           f"newest {check.column} is {newest} ({_human(age)} old, allowed "
                           f"{check.max_age})", column=column, details={"newest": str(newest)})
    # statistics
    value = values[f"{a}_value"]
    if t == "null_fraction":
        value = (int(value or 0) / rows) if rows else 0.0
    what = f"{t}({check.column}" + (f", q={check.q}" if t == "quantile" else "") + ")"
    return _bounds(check, name, value, check.min, check.max, rows, what, column)


def _prefix(comp: Compiled) -> str:
    for alias in comp.aggregates:
        return alias.rsplit("_", 1)[0]
    return ""


def _rows_result(check: Any, name: str, failures: int, total: int, column: str | None
                 ) -> CheckResult:
    """A row-level result, with the check's tolerance (``mostly`` / ``max_failures``)."""
    if check.mostly is not None:
        ok = total == 0 or (total - failures) / total >= check.mostly
        allowed = f"mostly {check.mostly:g}"
    elif check.max_failures is not None:
        ok = failures <= check.max_failures
        allowed = f"max_failures {check.max_failures:,}"
    else:
        ok = failures == 0
        allowed = "none allowed"
    pct = (100.0 * failures / total) if total else 0.0
    if failures:
        msg = (f"{failures:,} of {counted(total, 'row')} {verb(failures, 'fails', 'fail')} "
               f"({pct:.2f}%; {allowed})")
    else:
        msg = {0: "no rows to check", 1: "the 1 row passes"}.get(total, f"all {total:,} rows pass")
    return CheckResult(name, check.type, check.severity, "pass" if ok else "fail", failures,
                       total, round(pct, 4), msg, column=column)


def _bounds(check: Any, name: str, value: Any, lo: Any, hi: Any, rows: int, what: str,
            column: str | None = None) -> CheckResult:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return CheckResult(name, check.type, check.severity, "fail", 1, rows, None,
                           f"{what} is NULL (no values)", column=column)
    num = float(value) if not isinstance(value, int) else value
    ok = (lo is None or num >= lo) and (hi is None or num <= hi)
    span = f"[{'' if lo is None else f'{lo:g}'}, {'' if hi is None else f'{hi:g}'}]"
    shown = f"{num:,}" if isinstance(num, int) else f"{num:.6g}"
    return CheckResult(name, check.type, check.severity, "pass" if ok else "fail",
                       0 if ok else 1, rows, num,
                       f"{what} is {shown}" + (f", within {span}" if ok else f", outside {span}"),
                       column=column)


def _age_seconds(newest: Any, now: datetime | None) -> float:
    if isinstance(newest, datetime):
        if newest.tzinfo is None:
            ref = (now.replace(tzinfo=None) if now else datetime.now())
        else:
            ref = now or datetime.now(UTC)
        return (ref - newest).total_seconds()
    if isinstance(newest, date):
        ref_d = (now or datetime.now()).date()
        return float((ref_d - newest).days * 86400)
    raise CompileError(f"freshness needs a date or timestamp column; got {type(newest).__name__}")


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if abs(seconds) >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds:.0f}s"


def _error(name: str, check: Any, message: str) -> CheckResult:
    return CheckResult(name, str(check.type), check.severity, "error", 0, None, None,
                       f"could not run: {message}", column=getattr(check, "column", None))


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _with_sample(r: CheckResult, comp: Compiled, run: CheckRun) -> CheckResult:
    """Write a bounded sample of failing rows; a failure to sample never hides the result."""
    assert run.sample_dir and comp.sample is not None
    os.makedirs(run.sample_dir, exist_ok=True)
    fname = _SAFE.sub("_", r.name) + ".parquet"
    target = os.path.join(run.sample_dir, fname)
    try:
        run.engine.copy(comp.sample, target)
    except Exception as e:
        return replace(r, details={**r.details, "sample_error": _db_message(e)})
    return replace(r, sample_path=f"{run.sample_prefix}/{fname}")


def _db_message(e: Exception) -> str:
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    head = lines[0] if lines else type(e).__name__
    more = next((ln.strip() for ln in lines[1:] if "LINE" in ln or "Candidate" in ln), "")
    return head + (f" ({more})" if more else "")
