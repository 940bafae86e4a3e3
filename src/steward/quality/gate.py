"""The quality gate: a post-build hook that checks every candidate before publication.

The contract runs first, then every check in one scan. Results are stored for the
candidate's version whatever the outcome. A failing ``error`` check raises
:class:`CheckFailed` (the executor keeps the candidate as a failed version, with its
failing-row samples under ``checks/``); with ``on_fail: quarantine_rows`` the failing
rows move to ``quarantine/failed_rows.parquet`` and the passing ones are published.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlglot import exp

from steward.core.check_results import CheckResult, overall_status
from steward.core.errors import CheckFailed
from steward.core.words import counted
from steward.meta.checks import record_results
from steward.meta.store import Metastore
from steward.quality.compile import NOT_COMPILED, ROW_LEVEL, Compiled, scan
from steward.quality.contract import Contract, contract_of
from steward.quality.run import CheckRun, Evaluation, evaluate
from steward.sql.parse import DIALECT

SAMPLES_DIR = "checks"
QUARANTINE_FILE = os.path.join("quarantine", "failed_rows.parquet")
_PARQUET = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"


def product_checks(product: Any) -> list[Any]:
    """Every check a product declares: product-level first, then per column."""
    spec = product.spec
    out = list(spec.checks)
    for c in spec.columns.values():
        out.extend(c.checks)
    return out


def own_types(checks: Sequence[Any]) -> set[str]:
    """Check types whose stored results the quality area owns (not drift / anomaly)."""
    return {"contract", *(c.type for c in checks if c.type not in NOT_COMPILED)}


@dataclass
class QualityGate:
    """The post-build hook. ``Context.post_build_hooks()`` creates one per run."""

    metastore: Metastore
    store: Any
    engine: Any
    default_contract: str = "lenient"
    default_on_fail: str = "block"
    on_recheck = True  # also evaluates a kept version's new or changed checks

    def __call__(self, candidate: Any) -> None:
        product = candidate.product
        checks = product_checks(product)
        contract = contract_of(product.spec, self.default_contract)
        if not checks and not contract.enforced:
            return

        def resolve(name: str) -> list[str] | None:
            # the version the product has in this run (built before this one)
            v = candidate.resolve(name)
            return None if v is None else self.store.data_files(v.path)

        run = CheckRun(
            engine=self.engine, files=list(candidate.files),
            schema=candidate.result.schema,
            previous_rows=candidate.previous.row_count if candidate.previous else None,
            resolve=resolve, sample_dir=candidate.sample_dir,
            sample_prefix=candidate.sample_prefix,
        )
        on_fail = product.spec.on_fail or self.default_on_fail
        new_files = _new_rows_only(candidate, on_fail)
        if new_files:
            ev = _scoped(checks, run, contract, new_files)
        else:
            ev = evaluate(checks, run, contract)
        results = ev.results
        if on_fail == "quarantine_rows" and candidate.recheck is None \
                and _quarantinable(results, ev):
            results = self._quarantine(candidate, checks, contract, run, ev)
        status = overall_status(results)
        record_results(self.metastore, candidate.version_id, results, product.name,
                       replace_types=own_types(checks))
        candidate.check_status = worst(candidate.check_status, status)
        for r in results:
            if r.failed and not r.blocking:
                what = "quarantined" if r.quarantined else r.severity
                candidate.notes.append(f"check {r.name} ({what}): {r.message}")
        if status == "fail":
            raise CheckFailed(failure_summary(product.name, results))

    def _quarantine(self, candidate: Any, checks: list[Any], contract: Contract, run: CheckRun,
                    ev: Evaluation) -> list[CheckResult]:
        """Publish the passing rows, set the failing ones aside, re-check what is left."""
        bad = [ev.compiled[r.name] for r in ev.results
               if r.blocking and r.status == "fail" and r.name in ev.compiled
               and ev.compiled[r.name].row_level]
        moved = quarantine_rows(run.engine, candidate.files, bad, candidate.scratch)
        candidate.result = replace(candidate.result, rows=candidate.result.rows - moved)
        candidate.table = None  # (the rows read before are no longer the version's)
        second = evaluate(checks, replace(run, files=list(candidate.files)), contract)
        names = {c.name for c in bad}
        out = []
        first = {r.name: r for r in ev.results}
        for r in second.results:
            if r.name in names:
                f = first[r.name]
                out.append(replace(f, quarantined=f.failures,
                                   message=f"{f.message}; {counted(f.failures, 'row')} "
                                           f"quarantined to {QUARANTINE_FILE}"))
            else:
                out.append(r)
        candidate.notes.append(f"{counted(moved, 'row')} failing {', '.join(sorted(names))} "
                               f"quarantined ({QUARANTINE_FILE})")
        return out


def worst(*statuses: str | None) -> str | None:
    """The most severe of several summary statuses (other hooks may have set one)."""
    rank = {None: 0, "pass": 1, "warn": 2, "fail": 3}
    return max(statuses, key=lambda s: rank.get(s, 2))


def _quarantinable(results: list[CheckResult], ev: Evaluation) -> bool:
    """Quarantine helps only if every blocking failure is a row-level check."""
    blocking = [r for r in results if r.blocking]
    return bool(blocking) and all(
        r.status == "fail" and r.name in ev.compiled and ev.compiled[r.name].row_level
        for r in blocking)


def quarantine_rows(engine: Any, files: list[str], failing: list[Compiled], folder: str
                    ) -> int:
    """Rewrite ``files`` in place without the failing rows; write those to the quarantine.

    The quarantined rows carry a ``_failed_checks`` column naming the checks they fail.
    Returns the number of rows moved.
    """
    pred = exp.or_(*[exp.Coalesce(this=c.predicate.copy(), expressions=[exp.false()])  # type: ignore[union-attr]
                     for c in failing])
    reasons = exp.Anonymous(this="concat_ws", expressions=[
        exp.Literal.string(", "),
        *[exp.Case(ifs=[exp.If(this=c.predicate.copy(),  # type: ignore[union-attr]
                               true=exp.Literal.string(c.name))]) for c in failing],
    ])
    qfile = os.path.join(folder, QUARANTINE_FILE)
    os.makedirs(os.path.dirname(qfile), exist_ok=True)
    bad_q = exp.select("*", exp.alias_(reasons, "_failed_checks")).from_(scan(files)).where(pred)
    moved = engine.copy(bad_q, qfile)
    tmp_dir = os.path.join(folder, "quarantine", ".passing")
    os.makedirs(tmp_dir, exist_ok=True)
    tmp = os.path.join(tmp_dir, "part-0.parquet")
    good_q = exp.select("*").from_(scan(files)).where(exp.Not(this=exp.Paren(this=pred.copy())))
    engine.copy(good_q, tmp)
    for f in files[1:]:
        os.remove(f)
    os.replace(tmp, files[0])
    del files[1:]
    shutil.rmtree(tmp_dir, ignore_errors=True)
    return moved


def _new_rows_only(candidate: Any, on_fail: str) -> list[str]:
    """The files of an incremental version's new rows when its row checks look at those
    only (``incremental: {check_rows: new}``); none otherwise (quarantine reads every row)."""
    inc = candidate.product.spec_dump.get("incremental") or {}
    new = list(getattr(candidate.result, "new_files", ()) or ())
    if inc.get("check_rows") != "new" or candidate.recheck is not None \
            or on_fail == "quarantine_rows":
        return []
    return new


def _scoped(checks: list[Any], run: CheckRun, contract: Contract, new_files: list[str]
            ) -> Evaluation:
    """Row checks on the new rows, table checks and the contract on the whole version."""
    row = [c for c in checks if c.type in ROW_LEVEL]
    rest = [c for c in checks if c.type not in ROW_LEVEL]
    whole = evaluate(rest, run, contract)
    fresh = evaluate(row, replace(run, files=new_files), None)
    scoped = [replace(r, message=f"{r.message} (new rows)") for r in fresh.results]
    return Evaluation([*whole.results, *scoped], {**whole.compiled, **fresh.compiled},
                      whole.rows)


def failure_summary(product: str, results: list[CheckResult]) -> str:
    """One readable paragraph: which checks refused the version and why."""
    bad = [r for r in results if r.blocking]
    warn = [r for r in results if r.failed and not r.blocking]
    lines = [f"{product}: {counted(len(bad), 'blocking check')} failed; the version was not "
             "published"]
    for r in bad:
        state = "ERROR" if r.status == "error" else "FAIL"
        lines.append(f"  {state} {r.name}: {r.message}")
    if warn:
        lines.append(f"  (+{counted(len(warn), 'warning')})")
    lines.append(f"  inspect: steward check show {product}")
    return "\n".join(lines)


def _lit(value: str) -> str:
    return exp.Literal.string(value).sql(dialect=DIALECT)
