"""Storing and reading check results per version (table ``check_results``, m0002)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from steward.core.check_results import CheckResult, overall_status
from steward.meta.store import Metastore, chunks
from steward.meta.tables import check_results  # noqa: F401


def record_results(metastore: Metastore, version_id: str, results: Sequence[CheckResult],
                   product: str | None = None, replace_types: Iterable[str] = (),
                   update_status: bool = False) -> str | None:
    """Store ``results`` for a version, replacing earlier results of the same checks.

    Other areas (drift, anomalies from profiles) store their results the same way, next
    to the quality gate's.

    Args:
        metastore: where to write.
        version_id: the version checked (it may still be ``building``).
        results: what the checks found.
        product: the product's name; looked up from the version when not given.
        replace_types: also drop earlier results of these check types (a full re-check
            removes results of checks that no longer exist).
        update_status: recompute the version's summary ``check_status`` from all its
            stored results, in the same transaction.

    Returns:
        The version's overall status (``pass`` / ``warn`` / ``fail``) if recomputed.
    """
    ts = datetime.now(UTC)
    status: str | None = None
    with metastore.begin() as conn:
        if product is None:
            product = conn.execute(sa.text("SELECT product FROM versions WHERE id = :v"),
                                   {"v": version_id}).scalar() or ""
        same = check_results.c.name.in_([r.name for r in results])
        types = list(replace_types)
        cond = sa.or_(same, check_results.c.type.in_(types)) if types else same
        conn.execute(check_results.delete().where(check_results.c.version_id == version_id,
                                                  cond))
        if results:
            conn.execute(check_results.insert(), [_row(version_id, product, r, ts)
                                                  for r in results])
        if update_status:
            stored = [_result(r) for r in conn.execute(
                sa.select(check_results).where(check_results.c.version_id == version_id))]
            status = overall_status(stored)
            metastore.update_version(version_id, conn, check_status=status)
    return status


def results_for(metastore: Metastore, version_id: str) -> list[CheckResult]:
    """Every stored result of one version, errors and failures first."""
    q = sa.select(check_results).where(check_results.c.version_id == version_id)
    with metastore.sa_engine.connect() as conn:
        rows = [_result(r) for r in conn.execute(q)]
    order = {"error": 0, "fail": 1, "pass": 2}
    return sorted(rows, key=lambda r: (order.get(r.status, 3), r.severity != "error", r.name))


def results_for_versions(metastore: Metastore, version_ids: Iterable[str],
                         not_passed: tuple[str, ...] = ()) -> dict[str, list[CheckResult]]:
    """Version id -> its stored check results; with ``not_passed``, only the results of
    those types that did not pass (what the alerts look for: no other row is decoded)."""
    ids = list(version_ids)
    out: dict[str, list[CheckResult]] = {}
    with metastore.sa_engine.connect() as conn:
        for chunk in chunks(ids):
            q = sa.select(check_results).where(check_results.c.version_id.in_(chunk))
            if not_passed:
                q = q.where(check_results.c.type.in_(not_passed),
                            sa.or_(check_results.c.status != "pass",
                                   check_results.c.status.is_(None)))
            for r in conn.execute(q):
                out.setdefault(r.version_id, []).append(_result(r))
    return out


def _row(version_id: str, product: str, r: CheckResult, ts: datetime) -> dict[str, Any]:
    return {
        "version_id": version_id, "name": r.name, "product": product, "type": r.type,
        "severity": r.severity, "status": r.status, "column_name": r.column,
        "failures": r.failures, "total": r.total,
        "observed_json": json.dumps(r.observed, default=str),
        "message": r.message, "sample_path": r.sample_path, "quarantined": r.quarantined,
        "details_json": json.dumps(r.details, default=str) if r.details else None,
        "checked_at": r.checked_at or ts,
    }


def _result(r: Any) -> CheckResult:
    checked = r.checked_at
    if checked is not None and checked.tzinfo is None:
        checked = checked.replace(tzinfo=UTC)
    return CheckResult(
        name=r.name, type=r.type, severity=r.severity, status=r.status,
        failures=int(r.failures or 0), total=r.total,
        observed=json.loads(r.observed_json) if r.observed_json else None,
        message=r.message or "", sample_path=r.sample_path, column=r.column_name,
        quarantined=int(r.quarantined or 0),
        details=json.loads(r.details_json) if r.details_json else {}, checked_at=checked,
    )
