"""Statistical profile of one version, computed inside the engine in a few scans.

(Small versions are profiled in process instead, with the same keys and conventions and
exact statistics: :mod:`steward.profile.small`. What follows is the DuckDB path.)

Scan 1 is one aggregate query over every column: counts, nulls, distinct counts (exact
``count(DISTINCT)`` up to :data:`steward.profile.distinct.EXACT_ROWS` rows), min, max,
mean, sample stddev, the values at the ranks of :data:`steward.profile.cdf.GRID`
(``approx_quantile``, a T-Digest: approximate; the 1/5/25/50/75/95/99 % quantiles are
among them), zeros, negatives, NaN and infinity counts and string lengths. A larger
version's distinct counts come from one more query (:mod:`steward.profile.distinct`, a
sketch with a tested error); an engine that declares ``distinct_in_scan`` (Spark, whose
``count(DISTINCT)`` of several columns copies every row once per column) counts them
with its own sketch inside scan 1 instead, at every size. Scan 2 reads only the columns
that need it and counts, in one ``GROUPING SETS`` query, a fixed-bin histogram between
each numeric or temporal column's min and max, the exact value counts of small-range
columns, and every string column's values, of which it keeps the ``top_k`` most
frequent: top values are exact.
The data never enters Python; the result is a compact dict that
:mod:`steward.profile.drift` compares without rescanning.

Integer and date columns spanning at most :data:`SMALL_RANGE` values (min and max read
from the Parquet footers' statistics with pyarrow: no scan, on any engine) are instead
profiled from their exact value counts: one cheap aggregate, and exact distinct count,
quantiles, CDF knots, moments and histogram.

Floats: NaN and +-inf are counted apart and left out of min/max/mean/quantiles/histogram.
Temporal columns are measured in epoch seconds (UTC for ``TIMESTAMPTZ``).
Strings are grouped for top-k by their first :data:`PREFIX` characters, which bounds
the profile's size whatever the strings' length; a column where (nearly) every value is
distinct (identifiers, hashes) is marked ``unique`` and gets no top-k.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import math
import os
import time
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlglot import exp

from steward.core.sqltext import sql_string
from steward.profile import cdf as knots
from steward.profile.distinct import EXACT_ROWS, sketch_distinct
from steward.sql.parse import DIALECT

# 2: exact top-k and distinct counts, CDF knots ("cdf") for drift. Format 1 profiles
# (histogram and seven quantiles only) are still compared, less precisely.
PROFILE_FORMAT = 2
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
BINS = 32
TOP_K = 10
PREFIX = 120
SMALL_RANGE = 10_000  # integer/date columns spanning at most this many values: exact counts
# where the seven quantiles sit among the CDF knots' ranks
_Q_AT = tuple(knots.GRID.index(round(q * knots.DEN)) for q in QUANTILES)
UNIQUE_MIN_ROWS = 1000  # from this many values, a (nearly) unique column gets no top-k

_INT = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
        "UINTEGER", "UBIGINT", "UHUGEINT", "INT", "INT1", "INT2", "INT4", "INT8", "LONG")
_FLOAT = ("FLOAT", "DOUBLE", "REAL", "FLOAT4", "FLOAT8")
_TEMPORAL = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ", "TIMESTAMP_S",
             "TIMESTAMP_MS", "TIMESTAMP_NS", "DATETIME", "TIME")
_EPOCH = date(1970, 1, 1)
_STRING = ("VARCHAR", "TEXT", "STRING", "CHAR", "BPCHAR", "UUID")


def column_kind(sql_type: str) -> str:
    """``numeric`` | ``float`` | ``temporal`` | ``string`` | ``boolean`` | ``other``."""
    t = sql_type.upper().strip()
    if t in _FLOAT:
        return "float"
    if t in _INT or t.startswith("DECIMAL") or t.startswith("NUMERIC"):
        return "numeric"
    if t in _TEMPORAL or t.startswith("TIMESTAMP"):
        return "temporal"
    if t in _STRING or t.startswith("VARCHAR") or t.startswith("ENUM"):
        return "string"
    if t in ("BOOLEAN", "BOOL"):
        return "boolean"
    return "other"


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=DIALECT)  # type: ignore[union-attr]


_lit = sql_string


def _scan(files: Sequence[str]) -> str:
    return "read_parquet([" + ", ".join(_lit(f) for f in files) + "])"


def _finite(col: str, kind: str, sql_type: str) -> str:
    c = _ident(col)
    if kind == "float":
        return f"CASE WHEN isfinite({c}) THEN {c}::DOUBLE END"
    if kind == "temporal":
        if sql_type.upper() == "TIME":
            return f"epoch({c})::DOUBLE"
        return f"CASE WHEN isfinite({c}) THEN epoch({c})::DOUBLE END"
    return f"{c}::DOUBLE"


def _numeric_aggs(col: str, kind: str, sql_type: str, safe: bool) -> dict[str, str]:
    """min, max, mean, std and the values at the CDF knots' ranks of a numeric or temporal
    column.

    The fast form lets DuckDB answer min/max from Parquet statistics and aggregates the
    raw values (temporal ones as epoch microseconds); the safe form first drops NaN and
    infinities, and is used for floats and for any column whose fast min/max came back
    non-finite (an 'infinity' timestamp).
    """
    c = _ident(col)
    qlist = "[" + ", ".join(repr(q) for q in knots.FRACTIONS) + "]"
    if safe or kind == "float":
        v = _finite(col, kind, sql_type)
        return {"min": f"min({v})", "max": f"max({v})", "mean": f"avg({v})",
                "std": f"stddev_samp({v})", "q": f"approx_quantile({v}, {qlist})"}
    if kind == "temporal":
        us = f"epoch_us({c}::TIMESTAMP)" if sql_type.upper() == "DATE" else f"epoch_us({c})"
        return {"min": f"epoch(min({c}))", "max": f"epoch(max({c}))",
                "mean": f"avg({us}) / 1e6", "std": f"stddev_samp({us}) / 1e6",
                "q_us": f"approx_quantile({us}, {qlist})"}
    return {"min": f"min({c})::DOUBLE", "max": f"max({c})::DOUBLE", "mean": f"avg({c})",
            "std": f"stddev_samp({c})", "q": f"approx_quantile({c}, {qlist})"}


def describe(engine: Any, files: Sequence[str]) -> list[tuple[str, str]]:
    rows = engine.rows(f"DESCRIBE SELECT * FROM {_scan(files)}")
    return [(str(r[0]), str(r[1])) for r in rows]


def _jsonable(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, float):
        return v if math.isfinite(v) else None
    if isinstance(v, bool | int | str):
        return v
    try:
        return float(v)
    except (TypeError, ValueError):
        return str(v)


def compute_profile(engine: Any, files: Sequence[str], *, bins: int = BINS, top_k: int = TOP_K,
                    byte_size: int | None = None,
                    schema: Sequence[tuple[str, str]] | None = None,
                    rows: int | None = None, method: str = "auto",
                    table: Any = None) -> dict[str, Any]:
    """Profile the Parquet ``files`` of one version.

    A version of at most ``steward.profile.small.SMALL_ROWS`` rows is profiled in
    process from Arrow (:mod:`steward.profile.small`: every statistic exact, about a
    millisecond); a larger one, or one with a type only DuckDB renders, on the ``engine`` in
    two scans (plus a look at the Parquet footers, and above
    :data:`~steward.profile.distinct.EXACT_ROWS` rows one query for distinct counts). Both
    give the same keys, units and conventions; ``engine`` says which path ran (``arrow``
    or ``duckdb``).

    Args:
        engine: the compute engine (its queries: :class:`steward.engine.base.Engine`).
        files: the version's Parquet files.
        bins: histogram bins for numeric and temporal columns.
        top_k: most frequent values kept for strings and booleans.
        byte_size: the version's size on disk; summed from ``files`` when omitted.
        schema: (name, type) pairs when already known (saves a query).
        rows: the version's row count when known (a large version's files are then
            not opened to count it).
        method: ``auto`` (by size), ``duckdb`` or ``arrow`` (in process whatever the
            size; DuckDB still for unsupported types).
        table: the version's data as an Arrow table, when a caller already read it
            (the in-process path then reads no file).

    Returns:
        A JSON-ready dict: ``rows``, ``bytes``, ``column_count``, ``columns`` (name ->
        statistics), ``engine`` and ``seconds`` (time taken).
    """
    t0 = time.perf_counter()
    if byte_size is None:
        byte_size = 0
        for f in files:
            with contextlib.suppress(OSError):  # a remote file: size unknown here
                byte_size += os.path.getsize(f)
    if not files:
        return {"format": PROFILE_FORMAT, "rows": 0, "bytes": 0, "column_count": 0,
                "columns": {}, "engine": "none", "seconds": 0.0}
    if method != "duckdb":
        from steward.profile.small import SMALL_ROWS, small_profile

        in_process = small_profile(files, schema, bins=bins, top_k=top_k, rows=rows,
                                  max_rows=SMALL_ROWS if method == "auto" else None,
                                  table=table)
        if in_process is not None:
            n, used, small_cols = in_process
            return {"format": PROFILE_FORMAT, "rows": n, "bytes": byte_size,
                    "column_count": len(used), "columns": small_cols, "engine": "arrow",
                    "seconds": round(time.perf_counter() - t0, 4)}
    schema = list(schema) if schema else describe(engine, files)
    kinds = {name: column_kind(t) for name, t in schema}
    footer_rows, small = _footer_stats(engine, files, schema, kinds)
    # an engine whose count(DISTINCT) of several columns multiplies the rows it shuffles
    # (Spark: one copy per column) counts them with its sketch, in the same scan
    in_scan = getattr(engine, "distinct_in_scan", None)
    exact_distinct = in_scan is None and (
        rows if rows is not None else footer_rows) <= EXACT_ROWS
    select: list[str] = ["count(*)"]
    slots: dict[str, dict[str, int]] = {}

    def add(col: str, key: str, sql: str) -> None:
        slots.setdefault(col, {})[key] = len(select)
        select.append(sql)

    for name, sql_type in schema:
        kind = kinds[name]
        c = _ident(name)
        add(name, "count", f"count({c})")
        if name in small:
            continue  # profiled from its exact value counts in the second scan
        if exact_distinct and kind in ("numeric", "float", "temporal", "string"):
            add(name, "distinct", f"count(DISTINCT {c})")
        elif in_scan and kind in ("numeric", "float", "temporal", "string"):
            add(name, "distinct", in_scan.format(c))
        if kind in ("numeric", "float", "temporal"):
            for key, sql in _numeric_aggs(name, kind, sql_type, safe=False).items():
                add(name, key, sql)
            if kind != "temporal":
                add(name, "zeros", f"count_if({c} = 0)")
                add(name, "negatives", f"count_if({c} < 0)")
            if kind == "float":
                add(name, "nan", f"count_if(isnan({c}))")
                add(name, "inf", f"count_if(isinf({c}))")
        elif kind == "string":
            s = f"{c}::VARCHAR" if sql_type.upper() != "VARCHAR" else c
            # left(min(s)) == min(left(s)), and min/max of a column come from Parquet stats
            add(name, "min", f"left(min({s}), {PREFIX})")
            add(name, "max", f"left(max({s}), {PREFIX})")
            add(name, "len_min", f"min(length({s}))")
            add(name, "len_max", f"max(length({s}))")
            add(name, "len_mean", f"avg(length({s}))")
            add(name, "empty", f"count_if({s} = '')")
        elif kind == "boolean":
            add(name, "true", f"count_if({c})")
    row = engine.first(f"SELECT {', '.join(select)} FROM {_scan(files)}")
    n_rows = int(row[0] or 0)

    cols: dict[str, dict[str, Any]] = {}
    for name, sql_type in schema:
        kind = kinds[name]
        got = {k: row[i] for k, i in slots[name].items()}
        count = int(got.pop("count") or 0)
        nulls = n_rows - count
        p: dict[str, Any] = {
            "type": sql_type, "kind": kind, "count": count, "nulls": nulls,
            "null_fraction": (nulls / n_rows) if n_rows else 0.0,
        }
        if name in small:
            p["exact"] = True
            cols[name] = p
            continue
        if "distinct" in got:
            p["distinct"] = min(int(got.pop("distinct") or 0), count)
            if in_scan:
                p["distinct_approx"] = True
        if kind in ("numeric", "float", "temporal"):
            if "q_us" in got:
                q_us = got.pop("q_us")
                q = [None if x is None else x / 1e6 for x in q_us] if q_us else None
            else:
                q = got.pop("q")
            p["_q"] = [_jsonable(x) for x in q] if q else None
            for k in ("min", "max", "mean", "std"):
                p[k] = _jsonable(got.pop(k))
            for k in ("zeros", "negatives", "nan", "inf"):
                if k in got:
                    p[k] = int(got.pop(k) or 0)
            if kind == "temporal":
                p["unit"] = "epoch_s"
        elif kind == "string":
            p["min"] = got.pop("min")
            p["max"] = got.pop("max")
            p["length"] = {"min": _jsonable(got.pop("len_min")),
                           "max": _jsonable(got.pop("len_max")),
                           "mean": _jsonable(got.pop("len_mean"))}
            p["empty"] = int(got.pop("empty") or 0)
        elif kind == "boolean":
            t = int(got.pop("true") or 0)
            p["distinct"] = (1 if t else 0) + (1 if count - t else 0)
            p["top"] = [[v, n] for v, n in sorted([[True, t], [False, count - t]],
                                                  key=lambda x: -x[1]) if n]
            p["mean"] = (t / count) if count else None
        cols[name] = p

    _fix_non_finite(engine, files, schema, kinds, cols)
    if not exact_distinct and not in_scan:
        sketched = [n for n, _ in schema if "distinct" not in cols[n]
                    and kinds[n] in ("numeric", "float", "temporal", "string")
                    and not cols[n].get("exact")]
        found = sketch_distinct(engine, _scan(files), [_ident(n) for n in sketched],
                                [cols[n]["count"] for n in sketched])
        for name, d in zip(sketched, found, strict=True):
            cols[name]["distinct"] = d
            cols[name]["distinct_approx"] = True
    _second_scan(engine, files, schema, kinds, cols, bins, top_k, n_rows)
    return {"format": PROFILE_FORMAT, "rows": n_rows, "bytes": byte_size,
            "column_count": len(schema), "columns": cols, "engine": "duckdb",
            "seconds": round(time.perf_counter() - t0, 4)}


def _footer_stats(engine: Any, files: Sequence[str], schema: list[tuple[str, str]],
                  kinds: dict[str, str]) -> tuple[int, set[str]]:
    """The row count, and the integer and date columns spanning at most :data:`SMALL_RANGE`.

    Both come from the Parquet footers (no scan). A small-range column is profiled from
    its exact value counts: one cheap aggregate instead of distinct, quantile, moment
    and histogram sketches, and every statistic is exact.
    """
    cands = [(n, t) for n, t in schema
             if (kinds[n] == "numeric" and t.upper() in _INT) or t.upper() == "DATE"]
    row = _footer_min_max(files, [n for n, _ in cands])
    if row is None:
        sel = "".join(f", min({_ident(n)}), max({_ident(n)})" for n, _ in cands)
        row = engine.first(f"SELECT count(*){sel} FROM {_scan(files)}")
    out = set()
    for i, (name, _) in enumerate(cands):
        lo, hi = row[1 + 2 * i], row[2 + 2 * i]
        if isinstance(lo, date) and isinstance(hi, date):
            span = (hi - lo).days
        elif isinstance(lo, int) and isinstance(hi, int):
            span = hi - lo
        else:
            continue  # NULL, or a date past year 9999 (DuckDB returns it as a string)
        if span <= SMALL_RANGE:
            out.add(name)
    return int(row[0] or 0), out


def _footer_min_max(files: Sequence[str], columns: Sequence[str]) -> tuple[Any, ...] | None:
    """``(rows, min(c1), max(c1), min(c2), ...)`` from the Parquet footers' statistics, as
    ``SELECT count(*), min(c1), max(c1) ...`` would answer (no scan, on any engine); None
    when a file is not readable here or a row group holding values has no statistics."""
    import pyarrow.parquet as pq

    rows = 0
    lo: list[Any] = [None] * len(columns)
    hi: list[Any] = [None] * len(columns)
    try:
        for f in files:
            meta = pq.ParquetFile(f).metadata
            rows += meta.num_rows
            paths = [meta.schema.column(i).path for i in range(meta.num_columns)]
            where = [paths.index(c) if c in paths else -1 for c in columns]
            for g in range(meta.num_row_groups):
                group = meta.row_group(g)
                for k, i in enumerate(where):
                    if i < 0:
                        return None
                    st = group.column(i).statistics
                    if st is None or st.null_count is None:
                        return None
                    if st.null_count == group.num_rows:
                        continue  # only NULLs: no min or max
                    if not st.has_min_max:
                        return None
                    lo[k] = st.min if lo[k] is None else min(lo[k], st.min)
                    hi[k] = st.max if hi[k] is None else max(hi[k], st.max)
    except (OSError, ValueError):
        return None
    return (rows, *(v for pair in zip(lo, hi, strict=True) for v in pair))


def _from_counts(p: dict[str, Any], counts: dict[Any, int], bins: int) -> None:
    """Fill a column's statistics from its exact value -> count map."""
    if p["kind"] == "temporal":  # DATE: epoch seconds, like other temporal columns
        items = sorted(((d - _EPOCH).days * 86400.0, int(n)) for d, n in counts.items())
        p["unit"] = "epoch_s"
    else:
        items = sorted((float(v), int(n)) for v, n in counts.items())
        p["zeros"] = sum(n for v, n in items if v == 0)
        p["negatives"] = sum(n for v, n in items if v < 0)
    total = sum(n for _, n in items)
    p["distinct"] = len(items)
    p["exact"] = True
    if not total:
        p.update(min=None, max=None, mean=None, std=None, quantiles=None, cdf=None)
        return
    p["cdf"] = knots.from_counts(items)
    mean = sum(v * n for v, n in items) / total
    var = sum(n * (v - mean) ** 2 for v, n in items) / (total - 1) if total > 1 else None
    lo, hi = items[0][0], items[-1][0]
    p.update(min=lo, max=hi, mean=mean, std=None if var is None else math.sqrt(var))
    values = [v for v, _ in items]
    cum = list(itertools.accumulate(n for _, n in items))

    def at(rank: int) -> float:  # the value of the rank-th smallest item (0-based)
        return values[bisect.bisect_right(cum, rank)]

    qs = []
    for q in QUANTILES:  # linear interpolation between order statistics (quantile_cont)
        pos = q * (total - 1)
        r = int(pos)
        a = at(r)
        qs.append(a + (pos - r) * (at(min(r + 1, total - 1)) - a))
    p["quantiles"] = qs
    nb = bins if hi > lo else 1
    step = (hi - lo) / nb
    bounds = [lo + step * (i + 1) for i in range(nb - 1)] + [hi]
    hist = [0] * nb
    for v, n in items:  # bin i holds (bound[i-1], bound[i]], as in the SQL histograms
        hist[min(bisect.bisect_left(bounds, v), nb - 1)] += n
    p["histogram"] = {"lo": lo, "hi": hi, "counts": hist}


def _fix_non_finite(engine: Any, files: Sequence[str], schema: list[tuple[str, str]],
                    kinds: dict[str, str], cols: dict[str, dict[str, Any]]) -> None:
    """Recompute, without infinities, the columns whose fast statistics met one."""
    redo = [(n, t) for n, t in schema if kinds[n] in ("numeric", "temporal")
            and cols[n]["count"] and not cols[n].get("exact")
            and (cols[n].get("min") is None or cols[n].get("max") is None)]
    if not redo:
        return
    select: list[str] = []
    keys: list[tuple[str, str]] = []
    for name, sql_type in redo:
        for key, sql in _numeric_aggs(name, kinds[name], sql_type, safe=True).items():
            select.append(sql)
            keys.append((name, key))
    row = engine.first(f"SELECT {', '.join(select)} FROM {_scan(files)}")
    for name, _ in redo:
        cols[name]["_unsafe"] = True  # holds infinities: its histogram filters them too
    for (name, key), value in zip(keys, row, strict=True):
        if key == "q":
            cols[name]["_q"] = [_jsonable(x) for x in value] if value else None
        else:
            cols[name][key] = _jsonable(value)


def binnable(lo: float, hi: float, nb: int) -> bool:
    """Whether ``nb`` bins of equal width fit between ``lo`` and ``hi`` in doubles.

    Not when the range is wider than the largest double (``-1e308`` to ``1e308``) or so
    narrow that its width over ``nb`` is zero (a few subnormals apart): such a float
    column gets no histogram, on both paths alike; its other statistics stay.
    """
    if nb == 1:
        return True
    step = (hi - lo) / nb
    return 0.0 < step < math.inf


def _bin_expr(col: str, kind: str, sql_type: str, lo: float, hi: float, nb: int,
              p: dict[str, Any]) -> str:
    """The histogram bin of each value, in SQL: bin i holds (edge[i], edge[i+1]].

    Edges are ``lo + i * (hi - lo) / nb``; the min falls in bin 0. NaN, infinities and
    NULL give NULL (not counted). Temporal columns are binned as epoch microseconds.
    """
    c = _ident(col)
    if kind == "temporal":
        v = f"epoch_us({c}::TIMESTAMP)" if sql_type.upper() == "DATE" else f"epoch_us({c})"
        if p.get("_unsafe"):
            v = f"CASE WHEN isfinite({c}) THEN {v} END"
        lo, hi = lo * 1e6, hi * 1e6
    else:
        v = _finite(col, kind, sql_type)
    if nb == 1:
        return f"CASE WHEN {v} IS NOT NULL THEN 0 END"
    step = (hi - lo) / nb
    # (least/greatest skip NULLs, hence the outer CASE)
    return (f"CASE WHEN {v} IS NOT NULL THEN least(greatest(ceil(({v} - {lo!r}) / {step!r}) - 1,"
            f" 0), {nb - 1})::INTEGER END")


def _second_scan(engine: Any, files: Sequence[str], schema: list[tuple[str, str]],
                 kinds: dict[str, str], cols: dict[str, dict[str, Any]], bins: int,
                 top_k: int, n_rows: int) -> None:
    """Histograms, exact value counts and exact top-k in one GROUPING SETS scan.

    One grouping set per column: its histogram bin, its value (small-range integers and
    dates) or its value (strings, by their first :data:`PREFIX` characters). Of a string
    column's groups only the ``top_k`` most frequent come back (ties: the smaller value
    first), with the number of groups; a histogram or value-count set comes back whole.
    Hash aggregation over a few thousand groups keeps memory low (the ``histogram()``
    aggregate, next to the other sketches, took several hundred MB on the benchmark
    table). Finally each numeric or temporal column's CDF knots are set.
    """
    keys: list[str] = []
    plan: list[tuple[str, str, Any]] = []
    for name, sql_type in schema:
        p = cols[name]
        kind = kinds[name]
        if p.get("exact"):
            keys.append(_ident(name))
            plan.append((name, "values", None))
        elif kind in ("numeric", "float", "temporal") and p.get("min") is not None:
            lo, hi = float(p["min"]), float(p["max"])
            nb = bins if hi > lo else 1
            if not binnable(lo, hi, nb):
                continue
            keys.append(_bin_expr(name, kind, sql_type, lo, hi, nb, p))
            plan.append((name, "hist", (lo, hi, nb)))
        elif kind == "string" and p["count"]:
            if p["count"] >= UNIQUE_MIN_ROWS and p["distinct"] >= 0.9 * p["count"]:
                # (nearly) every value is distinct: no value is frequent, grouping them
                # would cost a hash table of the longest strings for nothing
                p["top"] = []
                p["unique"] = True
                continue
            c = _ident(name)
            s = f"{c}::VARCHAR" if sql_type.upper() != "VARCHAR" else c
            whole = ((p.get("length") or {}).get("max") or 0) <= PREFIX
            keys.append(s if whole else f"left({s}, {PREFIX})")  # skip left() if short
            plan.append((name, "top", whole))
    found: list[dict[Any, int]] = [{} for _ in plan]
    groups: list[int] = [0 for _ in plan]
    if keys and n_rows:
        proj = ", ".join(f"{k} AS k{i}" for i, k in enumerate(keys))
        names = ", ".join(f"k{i}" for i in range(len(keys)))
        sets = ", ".join(f"(k{i})" for i in range(len(keys)))
        # each row belongs to one set, the one whose key is not NULL (NULL groups: dropped)
        which = " ".join(f"WHEN k{i} IS NOT NULL THEN {i}" for i in range(len(keys)))
        tops = [i for i, (_, what, _) in enumerate(plan) if what == "top"]
        keep = ""
        if tops:
            keep = (f" QUALIFY s NOT IN ({', '.join(map(str, tops))}) OR row_number() OVER "
                    f"(PARTITION BY s ORDER BY n DESC, {names}) <= {int(top_k)}")
        rows = engine.rows(
            f"SELECT * FROM (SELECT {names}, n, CASE {which} END AS s, "
            f"count(*) OVER (PARTITION BY CASE {which} END) AS g "
            f"FROM (SELECT {names}, count(*) AS n FROM (SELECT {proj} FROM {_scan(files)}) "
            f"GROUP BY GROUPING SETS ({sets}))) WHERE s IS NOT NULL{keep}"
        )
        nk = len(keys)
        for r in rows:
            i = r[nk + 1]
            found[i][r[i]] = int(r[nk])
            groups[i] = int(r[nk + 2])
    for (name, what, arg), counts, n_groups in zip(plan, found, groups, strict=True):
        p = cols[name]
        if what == "values":
            _from_counts(p, counts, bins)
        elif what == "hist":
            lo, hi, nb = arg
            p["histogram"] = {"lo": lo, "hi": hi,
                              "counts": [counts.get(i, 0) for i in range(nb)]}
        else:
            p["top"] = sorted(([k, n] for k, n in counts.items()), key=lambda x: (-x[1], x[0]))
            if arg:  # grouped by the whole value: the groups are the distinct values
                p["distinct"] = n_groups
                p.pop("distinct_approx", None)
    for p in cols.values():
        if p["kind"] in ("numeric", "float", "temporal") and not p.get("exact"):
            q = p.pop("_q", None)
            p["quantiles"] = [q[i] for i in _Q_AT] if q else None
            h = p.get("histogram")
            n = sum(h["counts"]) if h else 0  # the finite values
            approx = knots.from_quantiles(q, p["min"], p["max"], n) if q and n else None
            p["cdf"] = knots.fit_to_histogram(approx, h) if approx and h else approx
        p.pop("_unsafe", None)
        if "top" in p:
            p["top_other"] = max(p["count"] - sum(n for _, n in p["top"]), 0)
