"""CDF knots: exact from sorted values and value counts, approximate from a sketch."""

from __future__ import annotations

import numpy as np
import pytest

from steward.profile import cdf as knots
from steward.profile.distinct import M, estimate
from steward.profile.drift import Cdf


def _counts(v: np.ndarray, x: float) -> tuple[int, int]:
    return int(np.count_nonzero(v <= x)), int(np.count_nonzero(v == x))


@pytest.fixture
def mixed() -> np.ndarray:
    """A continuous part, a 30 % atom at 0 and a 0.5 % atom at 7 (unsorted)."""
    rng = np.random.default_rng(7)
    v = np.concatenate([rng.lognormal(0, 1, 6_965), np.zeros(3_000), np.full(35, 7.0)])
    rng.shuffle(v)
    return v


def test_exact_knots_count_exactly_and_keep_heavy_values(mixed):
    s = np.sort(mixed)
    c = knots.from_sorted(s)
    assert c["exact"] is True and len(c["x"]) <= len(knots.GRID) == 113
    assert c["x"][0] == s[0] and c["x"][-1] == s[-1] and c["le"][-1] == len(s)
    for x, le, eq in zip(c["x"], c["le"], c["eq"], strict=True):
        assert (le, eq) == _counts(mixed, x)
    zero = c["x"].index(0.0)
    assert c["eq"][zero] == 3_000  # the atom is a knot, with its exact weight
    # between two knots at most 1 % of the values (the grid's widest step), 0.01 % in
    # the far (upper) tail
    between = [c["le"][i + 1] - c["eq"][i + 1] - c["le"][i] for i in range(len(c["x"]) - 1)]
    assert max(between) <= len(s) // 100 and between[-1] <= len(s) // 10_000


def test_knots_from_value_counts_equal_knots_from_sorted_values(mixed):
    ints = np.sort(np.round(mixed * 3).astype(np.int64))
    vals, cnts = np.unique(ints, return_counts=True)
    items = [(float(v), int(n)) for v, n in zip(vals, cnts, strict=True)]
    assert knots.from_counts(items) == knots.from_sorted(ints)
    assert knots.from_counts([]) is None and knots.from_sorted(ints[:0]) is None


def test_the_lower_deciles_are_knots(mixed):
    """PSI's bucket edges: the smallest x with F(x) >= k/10, read off the knots."""
    s = np.sort(mixed)
    f = Cdf(knots.points(knots.from_sorted(s)))
    n = len(s)
    for k in range(1, 10):
        assert f.inverse(k / 10) == s[-(-k * n // 10) - 1]


def test_approximate_knots_from_quantiles(mixed):
    s = np.sort(mixed)
    n = len(s)
    qs = [float(np.quantile(s, f, method="inverted_cdf")) for f in knots.FRACTIONS]
    c = knots.from_quantiles(qs, float(s[0]), float(s[-1]), n)
    assert c["exact"] is False and c["le"][-1] == n and c["x"][-1] == s[-1]
    assert all(b >= a for a, b in zip(c["le"], c["le"][1:], strict=False))
    for x, le, eq in zip(c["x"], c["le"], c["eq"], strict=True):
        true_le, true_eq = _counts(mixed, x)
        assert abs(le - true_le) <= 0.01 * n and abs(eq - true_eq) <= 0.01 * n + 1
    zero = c["x"].index(0.0)
    assert abs(c["eq"][zero] - 3_000) <= 0.01 * n  # a tie across ranks is an atom
    assert knots.from_quantiles(qs, float(s[0]), float(s[-1]), 0) is None


def test_fitting_approximate_knots_to_the_exact_histogram():
    rng = np.random.default_rng(3)
    s = np.sort(rng.normal(0, 1, 20_000))
    n = len(s)
    # a sketch whose ranks are 2 % off in the middle
    skew = [min(max(f + 0.02 * np.sin(np.pi * f), 0.0), 1.0) for f in knots.FRACTIONS]
    qs = [float(np.quantile(s, f, method="inverted_cdf")) for f in skew]
    c = knots.from_quantiles(qs, float(s[0]), float(s[-1]), n)
    lo, hi, nb = float(s[0]), float(s[-1]), 32
    step = (hi - lo) / nb
    b = np.clip(np.ceil((s - lo) / step) - 1, 0, nb - 1).astype(np.int64)
    hist = {"lo": lo, "hi": hi, "counts": np.bincount(b, minlength=nb).tolist()}
    fitted = knots.fit_to_histogram(c, hist)

    def worst(cc):
        return max(abs(le - np.count_nonzero(s <= x)) for x, le in zip(cc["x"], cc["le"],
                                                                      strict=True)) / n
    assert worst(c) > 0.015 and worst(fitted) < 0.005
    assert fitted["x"] == c["x"] and fitted["le"][-1] == n
    assert knots.fit_to_histogram(c, {**hist, "counts": [n]}) == c  # one bin: nothing to fit


def test_points_are_both_sides_of_each_jump():
    pts = knots.points({"x": [1.0, 2.0, 5.0], "le": [2, 2, 4], "eq": [2, 0, 1]})
    assert pts == [(1.0, 0.0), (1.0, 0.5), (2.0, 0.5), (5.0, 0.75), (5.0, 1.0)]
    f = Cdf(pts)
    assert (f.left(1.0), f(1.0), f(3.5), f.left(5.0), f(5.0)) == (0.0, 0.5, 0.625, 0.75, 1.0)
    assert knots.points({"x": [1.0], "le": [0], "eq": [0]}) is None
    assert knots.points({"x": [1.0, 2.0], "le": [1], "eq": [1]}) is None


def test_distinct_estimate_stays_within_its_bounds():
    assert estimate(0, 0.0, 0) == 0
    # a few values, each alone in its bucket: linear counting, exact
    assert estimate(5, -5 * 0.5 / M, 5) == 5
    # never more than the values, never fewer than the buckets they filled
    assert estimate(M, -3.0, 10) == 10
    assert estimate(1000, -1000 * 2.0 / M, 10**9) == 1000


@pytest.mark.parametrize("n", [1, 10, 1_000, 40_000, 400_000])
def test_distinct_estimate_of_random_hashes(n):
    """The estimator on uniform 64-bit hashes, as DuckDB's hash() feeds it in SQL."""
    from steward.profile import distinct

    h = np.random.default_rng(n).integers(0, 2**64, size=n, dtype=np.uint64, endpoint=False)
    bucket = h >> np.uint64(distinct._SHIFT)
    w = (h & np.uint64(distinct._MASK)).astype(np.float64)
    order = np.lexsort((w, bucket))
    first = np.r_[True, bucket[order][1:] != bucket[order][:-1]]
    u = (w[order][first] + 1) / float(1 << distinct._SHIFT)
    got = estimate(int(first.sum()), float(np.log1p(-u / M).sum()), 10**12)  # (no clamp)
    assert abs(got - n) <= max(0.02 * n, 0), (got, n)
