"""Anomalies in a metric's history: a robust z-score on the median absolute deviation.

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
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

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


def band(history: Sequence[float | None], threshold: float = 3.5
         ) -> tuple[float, float] | None:
    """The (low, high) range a new value may take without being an anomaly."""
    clean = [h for h in history if h is not None and math.isfinite(h)][-WINDOW:]
    if not clean:
        return None
    med, scale = center_scale(clean)
    return med - threshold * scale, med + threshold * scale


def evaluate_anomaly_check(check: Any, history: Sequence[float | None], value: float | None
                           ) -> tuple[str, float | None, str]:
    """Evaluate an ``anomaly`` check spec (core.checks.Anomaly).

    Args:
        check: the spec (``metric``, ``column``, ``min_history``, ``threshold``, ``severity``).
        history: the metric's past values, oldest first (None and non-finite are ignored;
            only the newest :data:`WINDOW` count).
        value: the new value.

    Returns:
        ``(status, observed z-score, message)``; status ``pass``, ``warn`` or ``fail``
        (severity applied) or ``skip`` (no value, or too short a history).
    """
    what = check.metric + (f"({check.column})" if getattr(check, "column", None) else "")
    if value is None or not math.isfinite(value):
        return "skip", None, f"{what}: no current value"
    clean = [h for h in history if h is not None and math.isfinite(h)][-WINDOW:]
    if len(clean) < check.min_history:
        return "skip", None, (f"{what}: {counted(len(clean), 'past value')}, the anomaly "
                              f"check starts "
                              f"after {check.min_history}")
    z = robust_z(clean, value)
    med = statistics.median(clean)
    if abs(z) > check.threshold:
        bad = "warn" if check.severity == "warn" else "fail"
        return bad, z, (f"{what} = {value:.6g} is an anomaly: robust z {z:+.1f} "
                        f"(median of last {len(clean)}: {med:.6g}; limit |z| <= "
                        f"{check.threshold:g})")
    return "pass", z, f"{what} = {value:.6g}, robust z {z:+.1f} (median {med:.6g})"
