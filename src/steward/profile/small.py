"""Exact profile of a small version, computed in process from an Arrow table.

For a version of at most :data:`SMALL_ROWS` rows, reading its Parquet files into Arrow
and measuring each column with ``pyarrow.compute`` and numpy costs about a millisecond,
where the DuckDB scans of :mod:`steward.profile.compute` cost tens (they are many
small queries, each with its own planning). The result has the same keys, units and
conventions as the DuckDB profile, and every statistic is exact:

- distinct counts and top-k are exact (as DuckDB's up to a million rows), quantiles are
  exact with the linear interpolation of DuckDB's ``quantile_cont`` (DuckDB: T-Digest),
  and the CDF knots are exact order statistics with exact counts (DuckDB: T-Digest
  ranks, except for small-range columns);
- histogram bins are computed with the same floating-point formulas as the SQL ones, so
  the counts match bin for bin;
- the ``exact`` flag is set where the DuckDB path sets it (small-range integers and
  dates), so that a profile means the same whichever path computed it.

Decimals are measured as the DuckDB path measures them, as ``DOUBLE`` values (their
unscaled integers divided by ten to the scale), with distinct, zero and negative counts
taken exactly on the unscaled integers; a decimal of more than 18 digits is profiled
here as long as its values fit in 64 bits.

Columns whose values this module does not reproduce faithfully (huge integers, UUIDs,
enums, ``TIME``, nanosecond timestamps, infinite timestamps, nested types...) make
:func:`small_profile` return None, and the caller uses the DuckDB path (the profile's
``engine`` says which path ran).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from steward.engine.arrowread import SMALL_ROWS, duckdb_type, read_small
from steward.profile import cdf as knots
from steward.profile.compute import (
    _INT,
    PREFIX,
    QUANTILES,
    SMALL_RANGE,
    UNIQUE_MIN_ROWS,
    binnable,
    column_kind,
)

_TS_TYPES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "DATETIME")
_DAY_US = 86_400_000_000
_INF_DATE = 2**31 - 1  # DuckDB's 'infinity' date, as days
_INF_TS = 2**63 - 1  # DuckDB's 'infinity' timestamp, as microseconds


class Unsupported(Exception):
    """A column this module does not profile exactly like DuckDB: use the DuckDB path."""


def shared_table(holder: Any, files: Sequence[str], rows: int | None) -> Any:
    """A new version's Arrow table when it is small (:func:`read_small` with
    :data:`SMALL_ROWS`), read once: kept on ``holder.table`` (a build's candidate), so
    the hooks that read the version (PII sampling, then its profile) share one read."""
    table = getattr(holder, "table", None)
    if table is None:
        table = read_small(files, SMALL_ROWS, rows)
        holder.table = table
    return table


def small_profile(files: Sequence[str], schema: Sequence[tuple[str, str]] | None, *,
                  bins: int, top_k: int, max_rows: int | None = SMALL_ROWS,
                  rows: int | None = None, table: Any = None
                  ) -> tuple[int, list[tuple[str, str]], dict[str, dict[str, Any]]] | None:
    """Profile ``files`` in process when small enough and of supported types.

    Args:
        files: the version's (local) Parquet files.
        schema: (name, DuckDB type) pairs; mapped from the Arrow types when None.
        bins: histogram bins.
        top_k: most frequent values kept for strings.
        max_rows: the largest version profiled here (None: any size).
        rows: the version's row count when known (skips reading footers of big ones).
        table: the version's data already read (:func:`shared_table`), if it was.

    Returns:
        (row count, schema, column name -> statistics), or None when the caller must
        use the DuckDB path (too many rows, an unsupported type, an unreadable file).
    """
    if table is None or (max_rows is not None and table.num_rows > max_rows):
        table = read_small(files, max_rows, rows)
    if table is None:
        return None
    if schema is None:
        mapped = [(f.name, duckdb_type(f.type)) for f in table.schema]
        if any(t is None for _, t in mapped):
            return None
        schema = [(n, str(t)) for n, t in mapped]
    else:
        schema = list(schema)
        if [n for n, _ in schema] != table.column_names:
            return None
    import numpy as np

    n_rows = table.num_rows
    cols: dict[str, dict[str, Any]] = {}
    try:
        # a sum of doubles past the largest double is infinite, as DuckDB's is: quietly
        with np.errstate(over="ignore", invalid="ignore"):
            for i, (name, sql_type) in enumerate(schema):
                arr = table.column(i)
                arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
                cols[name] = _column(arr, sql_type, n_rows, bins, top_k)
    except Unsupported:
        return None
    return n_rows, schema, cols


def _column(arr: Any, sql_type: str, n_rows: int, bins: int, top_k: int) -> dict[str, Any]:
    import pyarrow as pa

    kind = column_kind(sql_type)
    t = sql_type.upper().strip()
    count = len(arr) - arr.null_count
    nulls = n_rows - count
    p: dict[str, Any] = {"type": sql_type, "kind": kind, "count": count, "nulls": nulls,
                         "null_fraction": (nulls / n_rows) if n_rows else 0.0}
    at = arr.type
    if kind == "numeric":
        if pa.types.is_decimal128(at) and (t.startswith("DECIMAL") or t.startswith("NUMERIC")):
            _decimal(p, arr, bins)
        elif t not in _INT or not pa.types.is_integer(at):
            raise Unsupported(sql_type)  # huge integers
        else:
            _integer(p, arr, bins)
    elif kind == "float":
        if not pa.types.is_floating(at):
            raise Unsupported(sql_type)
        _float(p, arr, bins)
    elif kind == "temporal":
        if t == "DATE" and pa.types.is_date32(at):
            _date(p, arr, bins)
        elif t in _TS_TYPES and pa.types.is_timestamp(at) and at.unit == "us":
            _timestamp(p, arr, bins)
        else:
            raise Unsupported(sql_type)  # TIME, other units
    elif kind == "string":
        if t not in ("VARCHAR", "TEXT", "STRING") or not (
                pa.types.is_string(at) or pa.types.is_large_string(at)):
            raise Unsupported(sql_type)  # UUID, ENUM, CHAR...: DuckDB renders them
        _string(p, arr, count, top_k)
    elif kind == "boolean":
        if not pa.types.is_boolean(at):
            raise Unsupported(sql_type)
        _boolean(p, arr, count)
    return p


# -- numbers ------------------------------------------------------------------------------
# A version of 1,000 rows is profiled in about a millisecond, and most of it is the fixed
# cost of each numpy or pyarrow call (a few microseconds for numpy, 10 to 25 for a
# pyarrow.compute kernel), not work on the values. So the code below makes few calls per
# column: NULLs are dropped with the validity bitmap (no pyarrow kernel), everything
# that can be read from the sorted values is (NaNs, infinities, zeros and negatives are
# runs of it), and results of a handful of elements are finished in Python floats (the
# same IEEE operations in the same order as numpy's, so the same bits).
def _values(arr: Any) -> Any:
    """The non-NULL values of the fixed-width array ``arr`` as a numpy array.

    Integers, floats, dates (days, int32) and timestamps (int64) are viewed in place
    (``np.frombuffer``): pyarrow's own conversion imports pandas when it is installed,
    about 50 MB and 0.3 s for nothing. Decimals give their 16-byte words (``V16``).
    """
    import numpy as np
    import pyarrow as pa

    t = arr.type
    if pa.types.is_floating(t):
        dtype = np.dtype(f"f{t.bit_width // 8}")
    elif pa.types.is_unsigned_integer(t):
        dtype = np.dtype(f"u{t.bit_width // 8}")
    elif pa.types.is_decimal128(t):
        dtype = np.dtype("V16")
    else:  # signed integers, date32, timestamp
        dtype = np.dtype(f"i{t.bit_width // 8}")
    n = len(arr)
    if arr.null_count == n:
        return np.empty(0, dtype=dtype)
    bufs = arr.buffers()
    v = np.frombuffer(bufs[1], dtype=dtype, count=n, offset=arr.offset * dtype.itemsize)
    if arr.null_count:
        # (a NULL's slot holds anything: keep the valid ones, bit i of the bitmap)
        bits = np.frombuffer(bufs[0], dtype=np.uint8)
        valid = np.unpackbits(bits, count=arr.offset + n, bitorder="little")[arr.offset:]
        v = v[valid.view(bool)]
    return v


@functools.lru_cache(maxsize=256)
def _quantile_at(n: int) -> tuple[Any, list[float]]:
    """Where :func:`_quantiles` reads ``n`` sorted values: both neighbours' positions, and
    the fraction between them."""
    import numpy as np

    pos = np.array(QUANTILES) * (n - 1)
    r = pos.astype(np.int64)
    idx = np.concatenate([r, np.minimum(r + 1, n - 1)])
    idx.flags.writeable = False  # (shared)
    return idx, (pos - r).tolist()


def _quantiles(s: Any) -> list[float]:
    """Quantiles of the sorted array ``s`` as ``quantile_cont`` computes them (as doubles).

    Only the two neighbours of each quantile are converted; the interpolation
    ``a + f * (b - a)`` is done on Python floats, bit for bit numpy's.
    """
    import numpy as np

    idx, frac = _quantile_at(len(s))
    x = s[idx].astype(np.float64, copy=False).tolist()
    k = len(frac)
    return [a + f * (b - a) for a, f, b in zip(x[:k], frac, x[k:], strict=True)]


def _moments(v: Any) -> tuple[float, float | None]:
    """Mean and sample standard deviation (two passes) of the float array ``v``.

    ``np.add.reduce`` is what ``v.mean()`` and ``v.sum()`` run (the same pairwise sum),
    without their Python wrappers; the mean is that sum over ``n``, as ``mean()`` does.
    """
    import numpy as np

    n = len(v)
    m = float(np.add.reduce(v)) / n
    if not math.isfinite(m):  # a sum past the largest double: the sum of v / n instead
        m = float(np.add.reduce(v / n))
    std = None
    if n > 1 and math.isfinite(m):
        d = v - m
        d *= d
        var = float(np.add.reduce(d)) / (n - 1)
        if math.isfinite(var):
            std = math.sqrt(var)
        else:  # squares past the largest double: deviations scaled by the largest one
            d = np.abs(v - m)
            c = float(d.max())
            if 0.0 < c < math.inf:
                d /= c
                d *= d
                std = c * math.sqrt(float(np.add.reduce(d)) / (n - 1))
                std = std if math.isfinite(std) else None
    return m, std


def _sign_counts(p: dict[str, Any], s: Any) -> None:
    """Zeros and negatives of the sorted (NaN-free) array ``s``: two binary searches."""
    neg = int(s.searchsorted(0, side="left"))
    p["zeros"] = int(s.searchsorted(0, side="right")) - neg  # -0.0 == 0 too
    p["negatives"] = neg


def _distinct(s: Any) -> int:
    """Distinct values of the sorted array ``s`` (NaN-free)."""
    import numpy as np

    return int(np.count_nonzero(s[1:] != s[:-1])) + 1 if len(s) else 0


@functools.lru_cache(maxsize=64)
def _edges(nb: int) -> Any:
    """The integers 1 .. nb - 1 as floats (numpy): the upper edges of the first bins."""
    import numpy as np

    edges = np.arange(1, nb, dtype=np.float64)
    edges.flags.writeable = False  # (shared)
    return edges


def _ceil_bins(q: Any, nb: int) -> list[int]:
    """Counts of the SQL bins ``ceil(q) - 1`` (clamped to ``0 .. nb - 1``) of the sorted
    floats ``q``.

    ``ceil(q) <= j`` exactly when ``q <= j``: the first ``k`` bins hold the values
    ``q <= k``, counted by one binary search per bin edge (``q`` is sorted: it is
    computed from sorted values by operations that never invert an order, and it is
    finite but for the case below).
    """
    import numpy as np

    if not (q[0] == q[0] and q[-1] == q[-1]):
        # a step of 0 or infinity (a range below or beyond what doubles resolve) makes
        # the first or last q NaN: the formula as it always was evaluated (NaN cast to
        # an integer: bincount raises on x86)
        b = np.clip(np.ceil(q) - 1, 0, nb - 1).astype(np.int64)
        return [int(x) for x in np.bincount(b, minlength=nb)]
    below = q.searchsorted(_edges(nb), side="right").tolist()
    return [b - a for a, b in zip([0, *below], [*below, len(q)], strict=True)]


def _sql_bins(v: Any, lo: float, step: float, nb: int) -> list[int]:
    """Histogram of the sorted float values ``v`` with the SQL formula of
    ``compute._bin_expr``."""
    if nb == 1:
        return [len(v)]
    return _ceil_bins((v - lo) / step, nb)


def _exact_counts(p: dict[str, Any], ints: Any, scale: float, bins: int) -> None:
    """A small-range integer or date column, as ``compute._from_counts`` fills it.

    ``ints`` are the sorted integer values (days for dates); statistics are of
    ``ints * scale``.
    """
    import numpy as np

    p["exact"] = True
    if p["kind"] == "temporal":
        p["unit"] = "epoch_s"
    else:
        _sign_counts(p, ints)
    p["distinct"] = _distinct(ints)
    lo_i = int(ints[0])
    # offsets from the min are small integers: their sum and mean are exact
    off = (ints - lo_i).astype(np.float64)
    mean, std = _moments(off)
    lo, hi = lo_i * scale, int(ints[-1]) * scale
    vals = ints.astype(np.float64)
    vals *= scale
    p.update(min=float(lo), max=float(hi), mean=float(lo_i) * scale + mean * scale,
             std=None if std is None else std * scale)
    p["quantiles"] = _quantiles(vals)
    p["cdf"] = knots.from_sorted(ints, scale)
    nb = bins if hi > lo else 1
    step = (hi - lo) / nb
    # bin i holds the values in (bound[i - 1], bound[i]], the last one all above its lower
    # bound: with the values sorted, a bin's count is the difference of the numbers of
    # values <= its two bounds (the bounds never decrease)
    bounds = lo + step * _edges(nb)  # lo + step * (i + 1), i < nb - 1
    below = vals.searchsorted(bounds, side="right").tolist()
    p["histogram"] = {"lo": float(lo), "hi": float(hi),
                      "counts": [b - a for a, b in zip([0, *below], [*below, len(vals)],
                                                       strict=True)]}


def _sketched(p: dict[str, Any], s: Any) -> None:
    """The fields the DuckDB path sketches, exact, from the sorted finite floats ``s``."""
    if not len(s):
        p.update(quantiles=None, min=None, max=None, mean=None, std=None, cdf=None)
        return
    mean, std = _moments(s)
    p.update(quantiles=_quantiles(s), min=float(s[0]), max=float(s[-1]), mean=mean, std=std,
             cdf=knots.from_sorted(s))


def _integer(p: dict[str, Any], arr: Any, bins: int) -> None:
    import numpy as np

    v = np.sort(_values(arr))
    if len(v) and int(v[-1]) - int(v[0]) <= SMALL_RANGE:
        _exact_counts(p, v, 1.0, bins)
        return
    p["distinct"] = _distinct(v)
    f = v.astype(np.float64)
    _sketched(p, f)
    _sign_counts(p, v)
    _histogram(p, f, bins)


def _decimal(p: dict[str, Any], arr: Any, bins: int) -> None:
    """A decimal column, as the DuckDB path measures it: its values cast to ``DOUBLE``.

    The unscaled integers are read in place from the 128-bit little-endian words (low
    64 bits; a value that does not fit there is :class:`Unsupported`).
    """
    import numpy as np

    words = _values(arr).view("<i8")
    lo, hi = words[0::2], words[1::2]
    if np.count_nonzero(hi != (lo >> 63)):
        raise Unsupported("decimal beyond 64 bits")
    v = np.sort(lo)
    p["distinct"] = _distinct(v)
    _sign_counts(p, v)
    # DuckDB's DECIMAL -> DOUBLE: the unscaled value as a double, divided by 10^scale
    f = v.astype(np.float64)
    f /= float(10 ** arr.type.scale)
    _sketched(p, f)
    _histogram(p, f, bins)


def _float(p: dict[str, Any], arr: Any, bins: int) -> None:
    import numpy as np

    s = np.sort(_values(arr).astype(np.float64, copy=False))
    # NaNs sort last, -inf first and inf last among the others: all are runs of s
    n_nan = len(s) - int(s.searchsorted(np.nan)) if len(s) and np.isnan(s[-1]) else 0
    real = s[:len(s) - n_nan]
    # -0.0 == 0.0 and every NaN is one value, as in DuckDB's DISTINCT
    p["distinct"] = _distinct(real) + (1 if n_nan else 0)
    first = int(real.searchsorted(-np.inf, side="right")) if len(real) and real[0] == -np.inf \
        else 0
    end = int(real.searchsorted(np.inf)) if len(real) and real[-1] == np.inf else len(real)
    fin = real[first:end]
    _sketched(p, fin)
    _sign_counts(p, real)
    p["nan"] = n_nan
    p["inf"] = int(len(real) - len(fin))
    _histogram(p, fin, bins)


def _histogram(p: dict[str, Any], fin: Any, bins: int) -> None:
    if p.get("min") is None:
        return
    lo, hi = float(p["min"]), float(p["max"])
    nb = bins if hi > lo else 1
    if not binnable(lo, hi, nb):
        return
    p["histogram"] = {"lo": lo, "hi": hi, "counts": _sql_bins(fin, lo, (hi - lo) / nb, nb)}


# -- time ---------------------------------------------------------------------------------
def _date(p: dict[str, Any], arr: Any, bins: int) -> None:
    import numpy as np

    days = np.sort(_values(arr)).astype(np.int64)  # (int32 sort faster than int64)
    if len(days) and (days[-1] >= _INF_DATE or days[0] <= -_INF_DATE):
        raise Unsupported("infinite date")
    if len(days) and int(days[-1]) - int(days[0]) <= SMALL_RANGE:
        _exact_counts(p, days, 86400.0, bins)
        return
    _epoch_us(p, days * _DAY_US, bins)


def _timestamp(p: dict[str, Any], arr: Any, bins: int) -> None:
    import numpy as np

    us = np.sort(_values(arr))
    if len(us) and (us[-1] >= _INF_TS or us[0] <= -_INF_TS):
        raise Unsupported("infinite timestamp")
    _epoch_us(p, us, bins)


def _epoch_us(p: dict[str, Any], us: Any, bins: int) -> None:
    """A temporal column from its sorted epoch microseconds (the DuckDB sketch path)."""
    import numpy as np

    p["distinct"] = _distinct(us)
    if not len(us):
        p.update(quantiles=None, min=None, max=None, mean=None, std=None, unit="epoch_s",
                 cdf=None)
        return
    lo_us = int(us[0])
    off = (us - lo_us).astype(np.float64)
    mean, std = _moments(off)
    p["quantiles"] = [x / 1e6 for x in _quantiles(us)]
    p["cdf"] = knots.from_sorted(us, div=1e6)  # seconds as DuckDB's epoch(): us / 1e6
    lo, hi = float(lo_us) / 1e6, float(us[-1]) / 1e6  # DuckDB's epoch(): us / 1e6
    p.update(min=lo, max=hi, mean=(lo_us + mean) / 1e6,
             std=None if std is None else std / 1e6, unit="epoch_s")
    nb = bins if hi > lo else 1
    if nb == 1:
        counts = [len(us)]
    else:
        # SQL: ceil((epoch_us - <lo*1e6 literal>) / <step literal>) - 1. The BIGINT minus
        # the decimal literal is exact in DuckDB: subtract its integer part exactly, then
        # its fraction in floating point
        lit = Decimal(repr(lo * 1e6))
        whole = int(lit.to_integral_value(rounding="ROUND_FLOOR"))
        diff = (us - whole).astype(np.float64)
        diff -= float(lit - whole)
        diff /= (hi * 1e6 - lo * 1e6) / nb
        counts = _ceil_bins(diff, nb)
    p["histogram"] = {"lo": lo, "hi": hi, "counts": counts}


# -- strings and booleans -----------------------------------------------------------------
_FEW_VALUES = 64  # up to this many distinct strings, their statistics are taken in Python


def _string(p: dict[str, Any], arr: Any, count: int, top_k: int) -> None:
    """A string column, from its value counts (one hash of the values).

    Everything but the top-k of a column of long values is a function of its distinct
    values and their counts. Up to :data:`_FEW_VALUES` of them (a category, a code: the
    common string column) are finished in Python, which is much cheaper than a
    pyarrow.compute call per statistic; Python orders ``str`` by code point, as Arrow
    orders UTF-8 by byte, and ``len`` counts code points, as ``utf8_length`` does.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if not count:  # no values, no top-k (as the DuckDB path: no candidates)
        p.update(distinct=0, min=None, max=None,
                 length={"min": None, "max": None, "mean": None}, empty=0)
        return
    # (NULL is one of the counted values when there are NULLs: taken out below)
    vc = pc.value_counts(arr)
    values = vc.field("values")
    distinct = p["distinct"] = len(values) - (1 if arr.null_count else 0)
    few = distinct <= _FEW_VALUES
    if few:
        vals = values.to_pylist()
        ns = vc.field("counts").to_pylist()
        if arr.null_count:
            del ns[vals.index(None)]
            vals.remove(None)
        lo, hi = min(vals), max(vals)
        lens = [len(v) for v in vals]
        len_min, len_max = min(lens), max(lens)
        total = sum(n * k for n, k in zip(ns, lens, strict=True))
        empty = sum(n for n, k in zip(ns, lens, strict=True) if not k)
    else:
        if arr.null_count:
            vc = vc.filter(values.is_valid())
            values = vc.field("values")
        mm = pc.min_max(values)
        lo, hi = mm["min"].as_py(), mm["max"].as_py()
        lengths = _code_points(values)
        counts = _values(vc.field("counts"))
        len_min, len_max = int(np.minimum.reduce(lengths)), int(np.maximum.reduce(lengths))
        total = int(np.dot(lengths.astype(np.int64), counts))  # integers: exact
        empty = int(counts[lengths == 0].sum())
    p["min"] = lo[:PREFIX]  # code points, like DuckDB's left()
    p["max"] = hi[:PREFIX]
    # utf8_length's mean: the integer sum over the count, as one division of doubles
    p["length"] = {"min": len_min, "max": len_max, "mean": total / count}
    p["empty"] = empty
    if count >= UNIQUE_MIN_ROWS and distinct >= 0.9 * count:
        p["top"] = []
        p["unique"] = True
    elif few:
        if len_max > PREFIX:  # the top-k groups values by their first PREFIX code points
            grouped: dict[str, int] = {}
            for v, n in zip(vals, ns, strict=True):
                grouped[v[:PREFIX]] = grouped.get(v[:PREFIX], 0) + n
            pairs = list(grouped.items())
        else:
            pairs = list(zip(vals, ns, strict=True))
        pairs.sort(key=lambda vn: (-vn[1], vn[0]))
        p["top"] = [[v, n] for v, n in pairs[:top_k]]
    else:
        if len_max > PREFIX:
            pre = pc.utf8_slice_codeunits(arr, 0, PREFIX)
            vc = pc.value_counts(pre.drop_null() if pre.null_count else pre)
        tab = pa.RecordBatch.from_arrays([vc.field("values"), vc.field("counts")],
                                         names=["v", "n"])
        # (v, n) pairs are unique: the unstable selection is deterministic
        order = pc.select_k_unstable(tab, min(top_k, len(tab)),
                                     [("n", "descending"), ("v", "ascending")])
        top = tab.take(order)
        p["top"] = [[v, n] for v, n in zip(top.column("v").to_pylist(),
                                           top.column("n").to_pylist(), strict=True)]
    p["top_other"] = max(count - sum(n for _, n in p["top"]), 0)


def _code_points(values: Any) -> Any:
    """The lengths of the non-NULL strings ``values`` in code points (``utf8_length``).

    An ASCII text (every byte below 0x80, checked in one pass) has one code point per
    byte: its lengths are the differences of its offsets, with no pyarrow call.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    width = 8 if pa.types.is_large_string(values.type) else 4
    bufs = values.buffers()
    off = np.frombuffer(bufs[1], dtype=np.dtype(f"i{width}"), count=len(values) + 1,
                        offset=values.offset * width)
    data = b"" if bufs[2] is None else bufs[2]
    text = np.frombuffer(data, dtype=np.uint8)[off[0]:off[-1]]
    if not len(text) or np.maximum.reduce(text) < 0x80:
        return off[1:] - off[:-1]
    return _values(pc.utf8_length(values))


def _boolean(p: dict[str, Any], arr: Any, count: int) -> None:
    t = arr.true_count if count else 0  # (NULLs not counted)
    p["distinct"] = (1 if t else 0) + (1 if count - t else 0)
    p["top"] = [[v, n] for v, n in sorted([[True, t], [False, count - t]],
                                          key=lambda x: -x[1]) if n]
    p["mean"] = (t / count) if count else None
    p["top_other"] = max(count - sum(n for _, n in p["top"]), 0)
