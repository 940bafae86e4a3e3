"""``anomaly``: a metric far outside its recent band (robust z-score over the history).

Judged by ``steward.profile.service`` from the metric history (no SQL)."""

from __future__ import annotations

from steward.core.checkkinds.base import Kind, arg

KIND = Kind(("anomaly",), "Anomaly",
            {"metric": arg(str, "row_count"), "column": arg(str | None, None),
             "min_history": arg(int, 5, ge=3), "threshold": arg(float, 3.5, gt=0)},
            compiled=False,
            example={"type": "anomaly", "metric": "row_count"})
