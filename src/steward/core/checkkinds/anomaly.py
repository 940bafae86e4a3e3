"""``anomaly``: a metric far outside its recent band (robust z-score over the history).

For a history ``h`` (the last :data:`WINDOW` values before the new one) and a new value
``x``::

    z = 0.6745 * (x - median(h)) / MAD(h)        MAD = median(|h - median(h)|)

0.6745 makes the MAD a consistent estimate of the standard deviation for normal data,
so ``|z| > 3.5`` (Iglewicz and Hoaglin's cut-off) means "far outside the usual band"
whatever the metric's scale: the user picks no threshold. When more than half of the
history is identical the MAD is 0; the mean absolute deviation (times 1.2533) takes its
place, and when the history is entirely constant the scale is floored at 1 % of the
median (any change larger than ~3.5 % of a constant series is flagged; a series
constant at 0 flags any move). Fewer than ``min_history`` points: no verdict.

Judged from the metric's history (``ProfileEvidence.history``), no SQL.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds.base import Kind, ProfileEvidence, Skipped, arg, profile_result
from steward.core.words import counted

WINDOW = 30
CONSISTENCY = 0.6745
MEANAD = 1.2533
TINY = 1e-12


def center_scale(history: Sequence[float]) -> tuple[float, float]:
    """(median, robust scale) of a non-empty history; the scale is never 0."""
    med = statistics.median(history)
    dev = [abs(h - med) for h in history]
    mad = statistics.median(dev)
    if mad > 0:
        return med, mad / CONSISTENCY
    mean_ad = sum(dev) / len(dev)
    return med, (MEANAD * mean_ad if mean_ad > 0 else max(0.01 * abs(med), TINY))


def robust_z(history: Sequence[float], value: float) -> float:
    """The robust z-score of ``value`` against ``history`` (at least one point)."""
    med, scale = center_scale(history)
    return (value - med) / scale


def judge(check: Any, evidence: ProfileEvidence) -> CheckResult | Skipped:
    """The current value's robust z-score against the metric's recent history (None and
    non-finite values ignored; only the newest :data:`WINDOW` count)."""
    what = check.metric + (f"({check.column})" if getattr(check, "column", None) else "")
    value = evidence.value(check.metric, check.column)
    if value is None or not math.isfinite(value):
        return Skipped(f"{what}: no current value")
    history = evidence.history(check.metric, check.column)
    clean = [h for h in history if h is not None and math.isfinite(h)][-WINDOW:]
    if len(clean) < check.min_history:
        return Skipped(f"{what}: {counted(len(clean), 'past value')}, the anomaly check "
                       f"starts after {check.min_history}")
    z = robust_z(clean, value)
    med = statistics.median(clean)
    if abs(z) > check.threshold:
        return profile_result(check, False, z, (
            f"{what} = {value:.6g} is an anomaly: robust z {z:+.1f} (median of last "
            f"{len(clean)}: {med:.6g}; limit |z| <= {check.threshold:g})"))
    return profile_result(check, True, z,
                          f"{what} = {value:.6g}, robust z {z:+.1f} (median {med:.6g})")


KIND = Kind(("anomaly",), "Anomaly",
            {"metric": arg(str, "row_count"), "column": arg(str | None, None),
             "min_history": arg(int, 5, ge=3), "threshold": arg(float, 3.5, gt=0)},
            judge_profiles=judge,
            example={"type": "anomaly", "metric": "row_count"})
