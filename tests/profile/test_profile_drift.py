"""Drift from stored profiles: statistics, schema changes, the drift check."""

from __future__ import annotations

import copy
import json
import math

import pytest

from steward.core.checkkinds.base import Skipped
from steward.core.checks import Drift
from steward.profile.drift import compare
from steward.profile.service import Evidence, judge


def evaluate_drift_check(check, current, previous):
    """(status, observed, message) of the drift kind's judgement of ``current`` against
    ``previous`` (status ``warn`` for a failing ``severity: warn`` check)."""
    [r] = judge([check], Evidence(current, lambda: previous))
    if isinstance(r, Skipped):
        return "skip", None, r.reason
    status = ("warn" if r.severity == "warn" else "fail") if r.failed else "pass"
    assert r.type == "drift" and r.name == check.label() and r.column == check.column
    return status, r.observed, r.message

NORMAL = ("SELECT {mu} + sqrt(-2 * ln(random())) * cos(2 * pi() * random()) AS x, "
          "CASE WHEN random() < {pa} THEN 'a' WHEN random() < 0.5 THEN 'b' ELSE 'c' END AS cat "
          "FROM range(50000)")


@pytest.fixture
def normals(con, profile_of):
    con.execute("SELECT setseed(0.42)")
    return lambda mu=0.0, pa=0.3: profile_of(NORMAL.format(mu=mu, pa=pa))


def test_same_distribution_has_no_drift(normals):
    d = compare(normals(), normals())
    x = d["columns"]["x"]
    assert x["psi"] < 0.02 and x["ks"] < 0.03 and x["wasserstein"] < 0.05
    assert d["columns"]["cat"]["js"] < 0.01
    assert d["schema"] == {"added": [], "removed": [], "retyped": []}


def test_a_shifted_normal_is_measured_close_to_theory(normals):
    d = compare(normals(0.0), normals(0.5))
    x = d["columns"]["x"]
    # N(0,1) vs N(0.5,1): KS = 2*Phi(0.25) - 1 = 0.197, W1 = 0.5 (in units of sigma)
    assert abs(x["ks"] - 0.197) < 0.03
    assert abs(x["wasserstein"] - 0.5) < 0.05
    assert x["psi"] > 0.2  # "significant shift" by the usual PSI rule of thumb


def test_categorical_drift(normals):
    d = compare(normals(pa=0.3), normals(pa=0.8))
    cat = d["columns"]["cat"]
    assert cat["psi"] > 0.2 and cat["js"] > 0.05 and cat["wasserstein"] is None
    assert 0.4 < cat["ks"] < 0.6  # total variation: 'a' went from 30 % to 80 %


def test_schema_change_between_versions(profile_of):
    a = profile_of("SELECT range AS id, range * 2 AS v, 'x' AS gone FROM range(100)")
    b = profile_of("SELECT range AS id, (range * 2)::VARCHAR AS v, 1.5 AS new FROM range(100)")
    d = compare(a, b)
    assert d["schema"]["added"] == ["new"] and d["schema"]["removed"] == ["gone"]
    assert d["schema"]["retyped"] == [["v", "BIGINT", "VARCHAR"]]
    assert "not comparable" in d["columns"]["v"]["note"] and d["columns"]["v"]["psi"] is None
    assert d["columns"]["id"]["psi"] == pytest.approx(0.0, abs=1e-9)
    json.dumps(d, allow_nan=False)


def test_widened_integer_type_is_still_compared(profile_of):
    a = profile_of("SELECT range::INTEGER AS v FROM range(100)")
    b = profile_of("SELECT range::BIGINT AS v FROM range(100)")
    d = compare(a, b)
    assert d["schema"]["retyped"] == [["v", "INTEGER", "BIGINT"]]
    assert d["columns"]["v"]["ks"] == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("other", [
    "SELECT NULL::DOUBLE AS x FROM range(10)",           # all null
    "SELECT 1.0 AS x FROM range(10) WHERE false",        # empty
    "SELECT 5.0 AS x FROM range(10)",                    # one value
    "SELECT 'nan'::DOUBLE AS x FROM range(10)",          # only NaN
    "SELECT 'inf'::DOUBLE AS x UNION ALL SELECT 1.0",    # inf and one value
])
def test_degenerate_columns_never_crash(profile_of, other):
    normal = profile_of("SELECT range / 7.0 AS x FROM range(1000)")
    odd = profile_of(other)
    for a, b in ((normal, odd), (odd, normal), (odd, odd)):
        d = compare(a, b)
        x = d["columns"]["x"]
        for m in ("psi", "ks", "wasserstein", "js"):
            assert x[m] is None or math.isfinite(x[m])
        json.dumps(d, allow_nan=False)


def test_point_masses_far_apart_are_maximal_drift(profile_of):
    d = compare(profile_of("SELECT 1.0 AS x FROM range(10)"),
                profile_of("SELECT 9.0 AS x FROM range(10)"))
    x = d["columns"]["x"]
    assert x["ks"] == pytest.approx(1.0) and x["js"] == pytest.approx(1.0)
    assert x["wasserstein_abs"] == pytest.approx(8.0)


def test_empty_previous_table_row_change_is_not_a_division_by_zero(profile_of):
    d = compare(profile_of("SELECT 1 AS x WHERE false"), profile_of("SELECT 1 AS x"))
    assert d["row_change_pct"] is None and d["rows"] == [0, 1]


def test_drift_check_statuses(normals):
    base, shifted = normals(0.0), normals(1.0)
    assert evaluate_drift_check(Drift(type="drift", column="x"), shifted, None)[0] == "skip"
    status, observed, msg = evaluate_drift_check(Drift(type="drift", column="x"), shifted, base)
    assert status == "fail" and observed > 0.2 and "'x'" in msg
    warn = Drift(type="drift", column="x", metric="ks", severity="warn")
    assert evaluate_drift_check(warn, shifted, base)[0] == "warn"
    loose = Drift(type="drift", metric="wasserstein", threshold=5.0)
    assert evaluate_drift_check(loose, shifted, base)[0] == "pass"
    same = Drift(type="drift", metric="js")
    assert evaluate_drift_check(same, base, base)[0] == "pass"


def test_drift_check_on_a_removed_or_new_column(profile_of):
    a = profile_of("SELECT range AS x FROM range(10)")
    b = profile_of("SELECT range AS y FROM range(10)")
    assert evaluate_drift_check(Drift(type="drift", column="x"), b, a)[0] == "fail"
    assert evaluate_drift_check(Drift(type="drift", column="y"), b, a)[0] == "skip"
    assert evaluate_drift_check(Drift(type="drift", metric="wasserstein", column="y"), b, a)[0] \
        == "skip"


def _format_1(profile: dict) -> dict:
    """The same profile as format 1 stored it: histogram and seven quantiles, no knots."""
    out = copy.deepcopy(profile)
    out["format"] = 1
    for col in out["columns"].values():
        col.pop("cdf", None)
    return out


def test_profiles_of_format_1_are_still_compared(normals):
    a, b = normals(0.0), normals(0.5)
    assert a["format"] == 2 and a["columns"]["x"]["cdf"]
    new = compare(a, b)["columns"]["x"]
    assert new["basis"] == "cdf"
    for old_a, old_b in ((_format_1(a), b), (a, _format_1(b)), (_format_1(a), _format_1(b))):
        x = compare(old_a, old_b)["columns"]["x"]
        assert x["basis"] == "histogram"  # either side without knots: the coarse picture
        # a smooth shift is still measured about right (the coarse CDF is worst on skewed
        # or discrete columns, docs/profiles.md)
        assert abs(x["ks"] - new["ks"]) < 0.03 and abs(x["wasserstein"] - new["wasserstein"]) < 0.05
        assert abs(x["psi"] - new["psi"]) < 0.25 * new["psi"]
        assert abs(x["js"] - new["js"]) < 0.25 * new["js"]
        status, observed, _ = evaluate_drift_check(Drift(type="drift", column="x", metric="ks"),
                                                   old_b, old_a)
        assert status == "fail" and observed == pytest.approx(x["ks"])
    same = compare(_format_1(a), a)["columns"]["x"]
    assert same["ks"] < 0.03 and same["psi"] < 0.02
