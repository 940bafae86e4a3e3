"""The robust z-score anomaly detector and the anomaly check."""

from __future__ import annotations

import math

from steward.core.checkkinds.base import Skipped
from steward.core.checks import Anomaly
from steward.profile.anomaly import band, robust_z
from steward.profile.service import Evidence, judge


def evaluate_anomaly_check(check, history, value):
    """(status, observed z, message) of the anomaly kind's judgement of a row count
    ``value`` against ``history`` (status ``warn`` for a failing ``severity: warn``)."""
    asked = []

    def history_of(metric, column):
        asked.append((metric, column))
        return history

    [r] = judge([check], Evidence({"rows": value}, history_of=history_of))
    assert asked in ([], [("row_count", None)])
    if isinstance(r, Skipped):
        return "skip", None, r.reason
    status = ("warn" if r.severity == "warn" else "fail") if r.failed else "pass"
    return status, r.observed, r.message

CHECK = Anomaly(type="anomaly", metric="row_count")


def test_robust_z_ignores_one_past_outlier():
    history = [100, 102, 98, 101, 99, 5000, 100]
    assert abs(robust_z(history, 101)) < 1
    assert robust_z(history, 150) > 3.5


def test_short_history_gives_no_verdict():
    status, z, msg = evaluate_anomaly_check(CHECK, [100, 101, 99], 10_000)
    assert status == "skip" and z is None and "3 past value" in msg


def test_far_value_fails_and_usual_value_passes():
    history = [1000, 1010, 995, 1003, 990, 1008, 1001]
    assert evaluate_anomaly_check(CHECK, history, 1004)[0] == "pass"
    status, z, msg = evaluate_anomaly_check(CHECK, history, 600)
    assert status == "fail" and z < -3.5 and "anomaly" in msg
    warn = Anomaly(type="anomaly", metric="row_count", severity="warn")
    assert evaluate_anomaly_check(warn, history, 600)[0] == "warn"


def test_constant_history_never_divides_by_zero():
    history = [0.0] * 10
    assert evaluate_anomaly_check(CHECK, history, 0.0)[0] == "pass"
    status, z, _ = evaluate_anomaly_check(CHECK, history, 0.2)
    assert status == "fail" and math.isfinite(z)
    steady = [500.0] * 10
    assert evaluate_anomaly_check(CHECK, steady, 505.0)[0] == "pass"  # within 3.5 % floor
    assert evaluate_anomaly_check(CHECK, steady, 600.0)[0] == "fail"


def test_mostly_constant_history_uses_the_mean_absolute_deviation():
    history = [10.0] * 8 + [12.0, 8.0]
    assert evaluate_anomaly_check(CHECK, history, 10.5)[0] == "pass"
    assert evaluate_anomaly_check(CHECK, history, 30.0)[0] == "fail"


def test_missing_and_non_finite_values_are_ignored():
    history = [None, 100, float("nan"), 101, 99, 100, 102, 98]
    assert evaluate_anomaly_check(CHECK, history, 100)[0] == "pass"
    assert evaluate_anomaly_check(CHECK, history, None)[0] == "skip"
    assert evaluate_anomaly_check(CHECK, history, float("inf"))[0] == "skip"


def test_band_contains_the_median():
    lo, hi = band([10, 11, 9, 10, 12, 10])
    assert lo < 10 < hi
    assert band([]) is None
