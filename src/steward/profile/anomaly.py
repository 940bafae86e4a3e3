"""Anomalies in a metric's history: the band a new value may take.

The robust z-score and its scale are the ``anomaly`` check kind's
(``steward.core.checkkinds.anomaly``, whose docstring gives the formula); this module
draws the band from them for reports and ``steward profile``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from steward.core.checkkinds.anomaly import WINDOW, center_scale, robust_z

__all__ = ["WINDOW", "band", "robust_z"]


def band(history: Sequence[float | None], threshold: float = 3.5
         ) -> tuple[float, float] | None:
    """The (low, high) range a new value may take without being an anomaly."""
    clean = [h for h in history if h is not None and math.isfinite(h)][-WINDOW:]
    if not clean:
        return None
    med, scale = center_scale(clean)
    return med - threshold * scale, med + threshold * scale
