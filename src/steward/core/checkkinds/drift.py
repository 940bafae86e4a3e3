"""``drift``: a column's distribution against the previous version, from stored profiles.

Judged from the drift report of the previous version's profile to the candidate's
(``ProfileEvidence.compare``; the statistics are ``steward.profile.drift``'s), no SQL."""

from __future__ import annotations

from typing import Any, Literal

from steward.core.check_results import CheckResult
from steward.core.checkkinds.base import Kind, ProfileEvidence, Skipped, arg, profile_result

# the limit of each statistic when the check gives no ``threshold``
DEFAULT_THRESHOLDS = {"psi": 0.2, "ks": 0.1, "wasserstein": 0.1, "js": 0.1}


def judge(check: Any, evidence: ProfileEvidence) -> CheckResult | Skipped:
    """The worst of the columns checked (or the one named) against the threshold."""
    metric = check.metric
    threshold = check.threshold if check.threshold is not None else DEFAULT_THRESHOLDS[metric]
    current, report = evidence.current, evidence.compare()
    if current is None or report is None:
        return Skipped("no previous profile to compare with")
    if check.column:
        if check.column not in current.get("columns", {}):
            return profile_result(check, False, None,
                                  f"column {check.column!r} is missing from the new version")
        previous = evidence.previous() or {}
        if check.column not in previous.get("columns", {}):
            return Skipped(f"column {check.column!r} is new: nothing to compare")
        candidates = {check.column: report["columns"][check.column]}
    else:
        candidates = report["columns"]
    scored = [(c, d[metric]) for c, d in candidates.items() if d.get(metric) is not None]
    if not scored:
        why = next((d.get("note") for d in candidates.values() if d.get("note")), None)
        return Skipped(f"{metric} not available" + (f": {why}" if why else ""))
    col, worst = max(scored, key=lambda t: t[1])
    where = f"column {col!r}"
    if worst > threshold:
        return profile_result(check, False, worst, f"{metric} {worst:.3g} > {threshold:g} on "
                                                   f"{where}")
    return profile_result(check, True, worst,
                          f"{metric} {worst:.3g} <= {threshold:g} (worst: {where})")


KIND = Kind(("drift",), "Drift",
            {"column": arg(str | None, None),
             "metric": arg(Literal["psi", "ks", "wasserstein", "js"], "psi"),
             "threshold": arg(float | None, None)},
            judge_profiles=judge,
            example={"type": "drift", "column": "amount", "metric": "ks"})
