"""Run compiled checks on a version's Parquet files through the compute engine.

One aggregate scan answers every row-level, uniqueness and statistical check; the few
relationships and custom-SQL checks add one query each. Failing-row samples are fetched
only for checks that fail, bounded, and written as Parquet next to the version.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlglot import exp

from steward.core.check_results import CheckResult
from steward.core.checkkinds import KINDS
from steward.core.records import Column
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
    """Turn the scan's numbers into a pass or fail with a readable message (the kind's)."""
    judge = KINDS[comp.type].judge
    assert judge is not None
    return judge(comp, values, _Judging(run))


@dataclass
class _Judging:
    """What a kind's judgement may use besides the scan (``checkkinds.base.Judging``)."""

    run: CheckRun

    @property
    def previous_rows(self) -> int | None:
        return self.run.previous_rows

    @property
    def now(self) -> datetime | None:
        return self.run.now

    def first(self, query: Any) -> Sequence[Any]:
        row: Sequence[Any] = self.run.engine.first(query)
        return row


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
