"""Drift between two stored profiles: pure functions, no data read.

Numeric and temporal columns: each profile's distribution is rebuilt as a piecewise
linear CDF with jumps, through its CDF knots (:mod:`steward.profile.cdf`: the values at
113 ranks with their exact counts, ties included). A profile of format 1 has no knots:
its CDF is drawn through its histogram edges (exact counts) and seven quantiles
(approximate), a much coarser picture; ``basis`` in the result says which was used
(``cdf`` when both sides have knots, else ``histogram``). From the two CDFs:

- **PSI** (population stability index) over ten buckets cut at the *reference*
  (previous) version's deciles -- its lower deciles, the smallest values ``x`` with
  ``F(x) >= k/10``, which are CDF knots -- plus one bucket for the values equal to its
  min, one below its min and one above its max (edges that coincide are merged; a bucket
  holds ``(edge[i-1], edge[i]]``); bucket shares are floored at 1e-4 so an empty bucket
  never divides by zero.
- **KS**: the largest distance between the two CDFs (evaluated at every knot, on both
  sides of a jump, where the maximum of two piecewise linear functions' difference lies).
- **Wasserstein-1**: the area between the two CDFs, integrated exactly piece by piece;
  ``wasserstein`` is in units of the reference's standard deviation (scale free, what
  thresholds use), ``wasserstein_abs`` in the column's own units (seconds for time).
- **JS**: Jensen-Shannon divergence (base 2, in [0, 1]) over the PSI buckets.

Strings and booleans: distributions over the union of both top-k lists plus an "other"
bucket; PSI and JS as above, ``ks`` is the total variation distance (the largest gap in
the probability of any set of values), Wasserstein is not defined.

Schema drift: columns added, removed and retyped.

The ``drift`` check kind (``steward.core.checkkinds.drift``) judges a version from the
report :func:`compare` makes.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from typing import Any

from steward.core.checkkinds.drift import DEFAULT_THRESHOLDS
from steward.profile.cdf import points
from steward.profile.compute import QUANTILES

__all__ = ["DEFAULT_THRESHOLDS", "compare"]  # (the drift check kind judges with them)

NUMERIC_KINDS = ("numeric", "float", "temporal")
CATEGORICAL_KINDS = ("string", "boolean")
EPS = 1e-4
_OTHER = "\x00other"


# -- distributions --------------------------------------------------------------------
class Cdf:
    """A piecewise linear CDF through (x, F(x)) knots; vertical steps allowed."""

    def __init__(self, points: list[tuple[float, float]]):
        self.xs = [p[0] for p in points]
        self.fs = [p[1] for p in points]

    def __call__(self, x: float) -> float:
        """F(x) = P(X <= x)."""
        i = bisect_right(self.xs, x)
        if i == 0:
            return 0.0
        if i == len(self.xs):
            return 1.0
        return self._interp(i, x)

    def left(self, x: float) -> float:
        """F(x-) = P(X < x)."""
        i = bisect_left(self.xs, x)
        if i == 0:
            return 0.0
        if i == len(self.xs):
            return 1.0
        return self._interp(i, x)

    def _interp(self, i: int, x: float) -> float:
        x0, x1, f0, f1 = self.xs[i - 1], self.xs[i], self.fs[i - 1], self.fs[i]
        if x1 <= x0:
            return f1
        return f0 + (f1 - f0) * (x - x0) / (x1 - x0)

    def inverse(self, p: float) -> float:
        """The smallest x with F(x) >= p (up to rounding: shares are ratios of counts)."""
        p -= 1e-12
        for i in range(len(self.xs)):
            if self.fs[i] >= p:
                if i == 0 or self.xs[i] <= self.xs[i - 1]:
                    return self.xs[i]
                f0, f1 = self.fs[i - 1], self.fs[i]
                share = min(max((p - f0) / (f1 - f0), 0.0), 1.0)
                return self.xs[i - 1] + (self.xs[i] - self.xs[i - 1]) * share
        return self.xs[-1]


def has_knots(col: dict[str, Any]) -> bool:
    return bool(col.get("cdf"))


def cdf_of(col: dict[str, Any]) -> Cdf | None:
    """The column's CDF, or None when it has no values.

    From its CDF knots when the profile has them (format 2), else from its histogram and
    quantiles (format 1).
    """
    if has_knots(col):
        corners = points(col["cdf"])
        return Cdf(corners) if corners else None
    return _histogram_cdf(col)


def _histogram_cdf(col: dict[str, Any]) -> Cdf | None:
    """A format 1 profile's CDF: through its histogram edges and seven quantiles."""
    lo, hi = col.get("min"), col.get("max")
    if lo is None or hi is None:
        return None
    lo, hi = float(lo), float(hi)
    if hi <= lo:
        return Cdf([(lo, 0.0), (lo, 1.0)])  # a single value: one vertical step
    pts: list[tuple[float, float]] = [(lo, 0.0), (hi, 1.0)]
    h = col.get("histogram")
    if h and sum(h["counts"]):
        total = sum(h["counts"])
        nb = len(h["counts"])
        width = (h["hi"] - h["lo"]) / nb
        acc = 0
        for i, n in enumerate(h["counts"][:-1]):
            acc += n
            pts.append((h["lo"] + width * (i + 1), acc / total))
    for q, x in zip(QUANTILES, col.get("quantiles") or (), strict=False):
        if x is not None and lo < x < hi:
            pts.append((float(x), q))
    pts.sort()
    # histogram counts are exact, quantiles approximate: force a non-decreasing CDF
    out: list[tuple[float, float]] = []
    best = 0.0
    for x, f in pts:
        best = max(best, min(f, 1.0))
        out.append((x, best))
    out[-1] = (out[-1][0], 1.0)
    return Cdf(out)


def _buckets(ref: Cdf, cur: Cdf) -> tuple[list[float], list[float]]:
    """Shares of both distributions in buckets cut at the reference's deciles."""
    edges = sorted({ref.xs[0], ref.xs[-1], *(ref.inverse(k / 10) for k in range(1, 10))})
    out: tuple[list[float], list[float]] = ([], [])
    for cdf, shares in ((ref, out[0]), (cur, out[1])):
        shares.append(cdf.left(edges[0]))  # below the reference's min
        prev = cdf.left(edges[0])
        for e in edges:
            now = cdf(e)
            shares.append(max(now - prev, 0.0))
            prev = now
        shares.append(max(1.0 - prev, 0.0))  # above the reference's max
    return out


def psi(expected: list[float], actual: list[float]) -> float:
    total = 0.0
    for e, a in zip(expected, actual, strict=True):
        e, a = max(e, EPS), max(a, EPS)
        total += (a - e) * math.log(a / e)
    return total


def js(p: list[float], q: list[float]) -> float:
    """Jensen-Shannon divergence, base 2: 0 for equal distributions, at most 1."""
    sp, sq = sum(p) or 1.0, sum(q) or 1.0
    total = 0.0
    for a, b in zip(p, q, strict=True):
        a, b = a / sp, b / sq
        m = (a + b) / 2
        if a > 0:
            total += 0.5 * a * math.log2(a / m)
        if b > 0:
            total += 0.5 * b * math.log2(b / m)
    return max(0.0, min(total, 1.0))


def ks(f: Cdf, g: Cdf) -> float:
    xs = sorted(set(f.xs) | set(g.xs))
    return max((max(abs(f(x) - g(x)), abs(f.left(x) - g.left(x))) for x in xs), default=0.0)


def wasserstein(f: Cdf, g: Cdf) -> float:
    xs = sorted(set(f.xs) | set(g.xs))
    total = 0.0
    for x0, x1 in zip(xs, xs[1:], strict=False):
        w = x1 - x0
        d0, d1 = f(x0) - g(x0), f.left(x1) - g.left(x1)
        if d0 * d1 >= 0:
            total += w * (abs(d0) + abs(d1)) / 2
        else:  # the difference changes sign inside the piece
            total += w * (d0 * d0 + d1 * d1) / (2 * (abs(d0) + abs(d1)))
    return total


def _categorical(col: dict[str, Any]) -> dict[Any, float]:
    count = col.get("count") or 0
    if not count:
        return {}
    dist = {k: n / count for k, n in col.get("top") or ()}
    dist[_OTHER] = max(1.0 - sum(dist.values()), 0.0)
    return dist


# -- comparing ------------------------------------------------------------------------
def column_drift(prev: dict[str, Any], cur: dict[str, Any]) -> dict[str, Any]:
    """Drift statistics of one column between a reference and a current profile."""
    out: dict[str, Any] = {
        "kind": cur.get("kind"),
        "null_fraction": [prev.get("null_fraction"), cur.get("null_fraction")],
        "psi": None, "ks": None, "wasserstein": None, "js": None,
    }
    pk, ck = prev.get("kind"), cur.get("kind")
    if pk in NUMERIC_KINDS and ck in NUMERIC_KINDS and (pk == "temporal") == (ck == "temporal"):
        f, g = cdf_of(prev), cdf_of(cur)
        out["mean"] = [prev.get("mean"), cur.get("mean")]
        out["basis"] = "cdf" if has_knots(prev) and has_knots(cur) else "histogram"
        if f is None or g is None:
            out["note"] = "no values to compare"
            return out
        e, a = _buckets(f, g)
        out["psi"] = psi(e, a)
        out["js"] = js(e, a)
        out["ks"] = ks(f, g)
        w = wasserstein(f, g)
        scale = prev.get("std") or cur.get("std") or max(abs(prev.get("mean") or 0.0), 1.0)
        out["wasserstein_abs"] = w
        out["wasserstein"] = w / scale
    elif pk in CATEGORICAL_KINDS and ck in CATEGORICAL_KINDS:
        p, q = _categorical(prev), _categorical(cur)
        if not p or not q:
            out["note"] = "no values to compare"
            return out
        keys = list(dict.fromkeys([*p, *q]))
        e = [p.get(k, 0.0) for k in keys]
        a = [q.get(k, 0.0) for k in keys]
        out["psi"] = psi(e, a)
        out["js"] = js(e, a)
        out["ks"] = 0.5 * sum(abs(x - y) for x, y in zip(e, a, strict=True))
    else:
        out["note"] = f"not comparable ({prev.get('type')} -> {cur.get('type')})"
    return out


def schema_drift(prev: dict[str, Any], cur: dict[str, Any]) -> dict[str, list[Any]]:
    pc, cc = prev.get("columns", {}), cur.get("columns", {})
    return {
        "added": [c for c in cc if c not in pc],
        "removed": [c for c in pc if c not in cc],
        "retyped": [[c, pc[c]["type"], cc[c]["type"]] for c in cc
                    if c in pc and pc[c]["type"] != cc[c]["type"]],
    }


def compare(prev: dict[str, Any], cur: dict[str, Any]) -> dict[str, Any]:
    """Table and per-column drift from ``prev`` (the reference) to ``cur``."""
    rows0, rows1 = prev.get("rows") or 0, cur.get("rows") or 0
    change = None if not rows0 else (rows1 - rows0) / rows0 * 100
    pc, cc = prev.get("columns", {}), cur.get("columns", {})
    return {
        "rows": [rows0, rows1],
        "row_change_pct": change,
        "bytes": [prev.get("bytes"), cur.get("bytes")],
        "schema": schema_drift(prev, cur),
        "columns": {c: column_drift(pc[c], cc[c]) for c in cc if c in pc},
    }


# -- the drift check --------------------------------------------------------------------
