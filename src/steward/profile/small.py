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

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from steward.profile import cdf as knots
from steward.profile.compute import (
    _INT,
    PREFIX,
    QUANTILES,
    SMALL_RANGE,
    UNIQUE_MIN_ROWS,
    column_kind,
)

SMALL_ROWS = 100_000  # versions with at most this many rows are profiled in process...
SMALL_BYTES = 64 << 20  # ...and at most this many bytes of uncompressed column data

_INT_ARROW = {"int8": "TINYINT", "int16": "SMALLINT", "int32": "INTEGER", "int64": "BIGINT",
              "uint8": "UTINYINT", "uint16": "USMALLINT", "uint32": "UINTEGER",
              "uint64": "UBIGINT"}
_FLOAT_ARROW = {"float": "FLOAT", "double": "DOUBLE", "halffloat": "FLOAT"}
_TS_TYPES = ("TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "DATETIME")
_DAY_US = 86_400_000_000
_INF_DATE = 2**31 - 1  # DuckDB's 'infinity' date, as days
_INF_TS = 2**63 - 1  # DuckDB's 'infinity' timestamp, as microseconds


class Unsupported(Exception):
    """A column this module does not profile exactly like DuckDB: use the DuckDB path."""


def read_small(files: Sequence[str], max_rows: int | None, rows: int | None = None) -> Any:
    """The Arrow table of ``files`` if it has at most ``max_rows`` rows, else None.

    The row count and uncompressed size (at most :data:`SMALL_BYTES`) come from the
    Parquet footers (``rows`` when the caller knows it), so a large version is never
    read. Remote or unreadable files give None.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    if max_rows is not None and rows is not None and rows > max_rows:
        return None
    try:
        pfs = [pq.ParquetFile(f, pre_buffer=False) for f in files]
    except (OSError, pa.ArrowException):
        return None
    if max_rows is not None:
        metas = [pf.metadata for pf in pfs]
        if sum(m.num_rows for m in metas) > max_rows:
            return None
        # few rows of very long values (documents, blobs) would still be a big read
        if sum(m.row_group(i).total_byte_size for m in metas
               for i in range(m.num_row_groups)) > SMALL_BYTES:
            return None
    try:
        tables = [pf.read(use_threads=False) for pf in pfs]
        return tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    except (OSError, pa.ArrowException):
        return None


def duckdb_type(arrow_type: Any) -> str | None:
    """The DuckDB type name of an Arrow type this module profiles, else None."""
    import pyarrow as pa

    t = arrow_type
    if pa.types.is_integer(t):
        return _INT_ARROW.get(str(t))
    if pa.types.is_floating(t):
        return _FLOAT_ARROW.get(str(t))
    if pa.types.is_boolean(t):
        return "BOOLEAN"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "VARCHAR"
    if pa.types.is_date32(t):
        return "DATE"
    if pa.types.is_timestamp(t) and t.unit == "us":
        return "TIMESTAMP WITH TIME ZONE" if t.tz else "TIMESTAMP"
    if pa.types.is_decimal128(t):
        return f"DECIMAL({t.precision},{t.scale})"
    return None


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
    n_rows = table.num_rows
    cols: dict[str, dict[str, Any]] = {}
    try:
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
def _values(arr: Any) -> Any:
    """The non-NULL values of ``arr`` as a numpy array.

    Fixed-width numbers are viewed in place (``np.frombuffer``): pyarrow's own
    conversion imports pandas when it is installed, about 50 MB and 0.3 s for nothing.
    """
    import numpy as np
    import pyarrow as pa

    if arr.null_count:
        arr = arr.drop_null()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        kind = "f" if pa.types.is_floating(t) else "i" if pa.types.is_signed_integer(t) else "u"
        dtype = np.dtype(f"{kind}{t.bit_width // 8}")
        return np.frombuffer(arr.buffers()[1], dtype=dtype, count=len(arr),
                             offset=arr.offset * dtype.itemsize)
    return arr.to_numpy(zero_copy_only=False)


def _quantiles(s: Any) -> list[float]:
    """Quantiles of the sorted float array ``s`` as ``quantile_cont`` computes them."""
    import numpy as np

    n = len(s)
    pos = np.array(QUANTILES) * (n - 1)
    r = pos.astype(np.int64)
    a = s[r]
    b = s[np.minimum(r + 1, n - 1)]
    return [float(x) for x in a + (pos - r) * (b - a)]


def _moments(v: Any) -> tuple[float, float | None]:
    """Mean and sample standard deviation (two passes) of the float array ``v``."""
    n = len(v)
    m = float(v.mean())
    std = None
    if n > 1:
        d = v - m
        std = math.sqrt(float((d * d).sum()) / (n - 1))
    return m, std


def _sql_bins(v: Any, lo: float, step: float, nb: int) -> list[int]:
    """Histogram of float values ``v`` with the SQL formula of ``compute._bin_expr``."""
    import numpy as np

    if nb == 1:
        return [len(v)]
    b = np.ceil((v - lo) / step) - 1
    b = np.clip(b, 0, nb - 1).astype(np.int64)
    return [int(x) for x in np.bincount(b, minlength=nb)]


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
        p["zeros"] = int(np.count_nonzero(ints == 0))
        p["negatives"] = int(np.count_nonzero(ints < 0))
    p["distinct"] = int(np.count_nonzero(ints[1:] != ints[:-1])) + 1
    lo_i = int(ints[0])
    # offsets from the min are small integers: their sum and mean are exact
    off = (ints - lo_i).astype(np.float64)
    mean, std = _moments(off)
    lo, hi = lo_i * scale, int(ints[-1]) * scale
    vals = ints.astype(np.float64) * scale
    p.update(min=float(lo), max=float(hi), mean=float(lo_i) * scale + mean * scale,
             std=None if std is None else std * scale)
    p["quantiles"] = _quantiles(vals)
    p["cdf"] = knots.from_sorted(ints, scale)
    nb = bins if hi > lo else 1
    step = (hi - lo) / nb
    bounds = np.array([lo + step * (i + 1) for i in range(nb - 1)] + [hi])
    idx = np.minimum(np.searchsorted(bounds, vals, side="left"), nb - 1)
    p["histogram"] = {"lo": float(lo), "hi": float(hi),
                      "counts": [int(x) for x in np.bincount(idx, minlength=nb)]}


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
    p["distinct"] = int(np.count_nonzero(v[1:] != v[:-1])) + 1 if len(v) else 0
    f = v.astype(np.float64)
    _sketched(p, f)
    p["zeros"] = int(np.count_nonzero(v == 0))
    p["negatives"] = int(np.count_nonzero(v < 0))
    _histogram(p, f, bins)


def _decimal(p: dict[str, Any], arr: Any, bins: int) -> None:
    """A decimal column, as the DuckDB path measures it: its values cast to ``DOUBLE``.

    The unscaled integers are read in place from the 128-bit little-endian words (low
    64 bits; a value that does not fit there is :class:`Unsupported`).
    """
    import numpy as np
    import pyarrow as pa

    if arr.null_count:
        arr = arr.drop_null()
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    words = np.frombuffer(arr.buffers()[1], dtype="<i8", count=2 * len(arr),
                          offset=arr.offset * 16)
    lo, hi = words[0::2], words[1::2]
    if np.any(hi != (lo >> 63)):
        raise Unsupported("decimal beyond 64 bits")
    v = np.sort(lo)
    p["distinct"] = int(np.count_nonzero(v[1:] != v[:-1])) + 1 if len(v) else 0
    p["zeros"] = int(np.count_nonzero(v == 0))
    p["negatives"] = int(np.count_nonzero(v < 0))
    # DuckDB's DECIMAL -> DOUBLE: the unscaled value as a double, divided by 10^scale
    f = v.astype(np.float64) / float(10 ** arr.type.scale)
    _sketched(p, f)
    _histogram(p, f, bins)


def _float(p: dict[str, Any], arr: Any, bins: int) -> None:
    import numpy as np

    v = _values(arr).astype(np.float64, copy=False)
    nan = np.isnan(v)
    n_nan = int(np.count_nonzero(nan))
    s = np.sort(v)  # NaN sort last
    real = s[:len(s) - n_nan]
    # -0.0 == 0.0 and every NaN is one value, as in DuckDB's DISTINCT
    p["distinct"] = (int(np.count_nonzero(real[1:] != real[:-1])) + 1 if len(real) else 0) \
        + (1 if n_nan else 0)
    fin = real[np.isfinite(real)]
    _sketched(p, fin)
    p["zeros"] = int(np.count_nonzero(real == 0))
    p["negatives"] = int(np.count_nonzero(real < 0))
    p["nan"] = n_nan
    p["inf"] = int(len(real) - len(fin))
    _histogram(p, fin, bins)


def _histogram(p: dict[str, Any], fin: Any, bins: int) -> None:
    if p.get("min") is None:
        return
    lo, hi = float(p["min"]), float(p["max"])
    nb = bins if hi > lo else 1
    p["histogram"] = {"lo": lo, "hi": hi, "counts": _sql_bins(fin, lo, (hi - lo) / nb, nb)}


# -- time ---------------------------------------------------------------------------------
def _date(p: dict[str, Any], arr: Any, bins: int) -> None:
    import numpy as np
    import pyarrow as pa

    days = np.sort(_values(arr.cast(pa.int32())).astype(np.int64))
    if len(days) and (days[-1] >= _INF_DATE or days[0] <= -_INF_DATE):
        raise Unsupported("infinite date")
    if len(days) and int(days[-1]) - int(days[0]) <= SMALL_RANGE:
        _exact_counts(p, days, 86400.0, bins)
        return
    _epoch_us(p, days * _DAY_US, bins)


def _timestamp(p: dict[str, Any], arr: Any, bins: int) -> None:
    import numpy as np
    import pyarrow as pa

    us = np.sort(_values(arr.cast(pa.int64())))
    if len(us) and (us[-1] >= _INF_TS or us[0] <= -_INF_TS):
        raise Unsupported("infinite timestamp")
    _epoch_us(p, us, bins)


def _epoch_us(p: dict[str, Any], us: Any, bins: int) -> None:
    """A temporal column from its sorted epoch microseconds (the DuckDB sketch path)."""
    import numpy as np

    p["distinct"] = int(np.count_nonzero(us[1:] != us[:-1])) + 1 if len(us) else 0
    if not len(us):
        p.update(quantiles=None, min=None, max=None, mean=None, std=None, unit="epoch_s",
                 cdf=None)
        return
    lo_us = int(us[0])
    off = (us - lo_us).astype(np.float64)
    mean, std = _moments(off)
    p["quantiles"] = [x / 1e6 for x in _quantiles(us.astype(np.float64))]
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
        diff = (us - whole).astype(np.float64) - float(lit - whole)
        step = (hi * 1e6 - lo * 1e6) / nb
        b = np.clip(np.ceil(diff / step) - 1, 0, nb - 1).astype(np.int64)
        counts = [int(x) for x in np.bincount(b, minlength=nb)]
    p["histogram"] = {"lo": lo, "hi": hi, "counts": counts}


# -- strings and booleans -----------------------------------------------------------------
def _string(p: dict[str, Any], arr: Any, count: int, top_k: int) -> None:
    import pyarrow as pa
    import pyarrow.compute as pc

    p["distinct"] = pc.count_distinct(arr).as_py() if count else 0
    mm = pc.min_max(arr)
    lo, hi = mm["min"].as_py(), mm["max"].as_py()
    p["min"] = None if lo is None else lo[:PREFIX]  # code points, like DuckDB's left()
    p["max"] = None if hi is None else hi[:PREFIX]
    lengths = pc.utf8_length(arr)
    lm = pc.min_max(lengths)
    len_max = lm["max"].as_py()
    p["length"] = {"min": lm["min"].as_py(), "max": len_max,
                   "mean": pc.mean(lengths).as_py()}
    # (no Python scalar in a compute call: converting one makes pyarrow import pandas)
    nonempty = pc.sum(pc.cast(lengths, pa.bool_())).as_py() or 0
    p["empty"] = int(len(lengths) - lengths.null_count - nonempty)
    if not count:
        return  # no values, no top-k (as the DuckDB path: no candidates)
    if count >= UNIQUE_MIN_ROWS and p["distinct"] >= 0.9 * count:
        p["top"] = []
        p["unique"] = True
    else:
        pre = arr if (len_max or 0) <= PREFIX else pc.utf8_slice_codeunits(arr, 0, PREFIX)
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


def _boolean(p: dict[str, Any], arr: Any, count: int) -> None:
    import pyarrow.compute as pc

    t = int(pc.sum(arr).as_py() or 0) if count else 0
    p["distinct"] = (1 if t else 0) + (1 if count - t else 0)
    p["top"] = [[v, n] for v, n in sorted([[True, t], [False, count - t]],
                                          key=lambda x: -x[1]) if n]
    p["mean"] = (t / count) if count else None
    p["top_other"] = max(count - sum(n for _, n in p["top"]), 0)
