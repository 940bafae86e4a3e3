"""The in-process profile of small versions agrees with the DuckDB profile.

Fields both paths compute exactly (counts, distinct counts below a million rows, min/max,
histograms, top-k, string lengths, the CDF knots of small-range columns...) must be
equal; the sketches of the DuckDB path (T-Digest quantiles and knots) must be close to
the small path's exact values, which must equal DuckDB's own exact ``count(DISTINCT)``,
``quantile_cont`` and counts at each knot.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from steward.context import Context
from steward.meta import profiles as mp
from steward.profile.compute import QUANTILES, compute_profile
from steward.profile.small import SMALL_ROWS
from tests.conftest import write

MIXED = """
SELECT
  range AS id,
  CASE WHEN range % 9 = 0 THEN NULL ELSE (range % 40)::INTEGER - 15 END AS small_int,
  (range * 1000003) % 99991 * 1000 AS big_int,
  CASE WHEN range % 11 = 0 THEN 'nan'::DOUBLE WHEN range % 13 = 0 THEN 'inf'::DOUBLE
       WHEN range % 17 = 0 THEN '-inf'::DOUBLE WHEN range % 19 = 0 THEN NULL
       WHEN range % 23 = 0 THEN -0.0 ELSE (range * 7919 % 1000) * 0.37 - 50 END AS val,
  (range % 9)::FLOAT AS f32,
  CASE WHEN range % 7 = 0 THEN NULL ELSE DATE '2020-01-01' + (range % 400)::INTEGER END AS day,
  DATE '1900-01-01' + (range * 37)::INTEGER AS old_day,
  TIMESTAMP '2021-03-04 05:06:07.123456' + to_microseconds(range * 1234567891) AS ts,
  TIMESTAMPTZ '2024-03-31 01:30:00+01' + to_microseconds(range * 3600000017) AS tz,
  CASE WHEN range % 4 = 0 THEN NULL ELSE range % 3 = 0 END AS flag,
  NULL::BIGINT AS no_int, NULL::VARCHAR AS no_str, NULL::DOUBLE AS no_dbl,
  'k' || (floor(sqrt(range)))::INTEGER AS grp,
  CASE WHEN range % 5 = 0 THEN NULL
       WHEN range % 10 < 7 THEN repeat('é', 130) || (range % 3)::VARCHAR
       ELSE 'short' || (range % 4)::VARCHAR END AS longs,
  CASE WHEN range % 50 = 0 THEN '' ELSE md5(range::VARCHAR) END AS token
FROM range(3000)
"""

EXACT_KEYS = ("type", "kind", "count", "nulls", "null_fraction", "min", "max", "zeros",
              "negatives", "nan", "inf", "unit", "empty", "exact", "unique", "histogram",
              "top", "top_other")


def _exact_stats(con: Any, files: list[str], name: str, col: dict[str, Any]
                 ) -> tuple[int, list[float] | None]:
    """DuckDB's exact distinct count and ``quantile_cont`` quantiles of one column."""
    q = f'"{name}"'
    scan = f"read_parquet({files!r})"
    distinct = con.execute(f"SELECT count(DISTINCT {q}) FROM {scan}").fetchone()[0]
    if col["kind"] not in ("numeric", "float", "temporal"):
        return distinct, None
    if col["kind"] == "temporal":
        v = f"epoch_us({q}::TIMESTAMP)" if col["type"] == "DATE" else f"epoch_us({q})"
        scale = 1e6
    else:
        v, scale = f"CASE WHEN isfinite({q}::DOUBLE) THEN {q}::DOUBLE END", 1.0
    qs = con.execute(f"SELECT quantile_cont({v}, {list(QUANTILES)}) FROM {scan}").fetchone()[0]
    return distinct, None if qs is None else [x / scale for x in qs]


def _check_knots(con: Any, files: list[str], name: str, col: dict[str, Any]) -> None:
    """The CDF knots' counts are DuckDB's exact counts of values <= and == each knot."""
    cdf = col["cdf"]
    q = f'"{name}"'
    if col["kind"] == "temporal":
        v = f"epoch_us({q}::TIMESTAMP)" if col["type"] == "DATE" else f"epoch_us({q})"
        xs = [round(x * 1e6) for x in cdf["x"]]
    else:
        v, xs = f"CASE WHEN isfinite({q}::DOUBLE) THEN {q}::DOUBLE END", cdf["x"]
    aggs = ", ".join(f"count_if({v} <= {x!r}), count_if({v} = {x!r})" for x in xs)
    got = con.execute(f"SELECT {aggs} FROM read_parquet({files!r})").fetchone()
    assert list(got[0::2]) == cdf["le"] and list(got[1::2]) == cdf["eq"], name
    assert cdf["x"][0] == col["min"] and cdf["x"][-1] == col["max"], name
    assert cdf["le"][-1] == sum(col["histogram"]["counts"]), name


def _agree(con: Any, engine: Any, files: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    small = compute_profile(engine, files, method="arrow")
    duck = compute_profile(engine, files, method="duckdb")
    assert small["engine"] == "arrow" and duck["engine"] == "duckdb"
    for key in ("rows", "bytes", "column_count", "format"):
        assert small[key] == duck[key]
    assert list(small["columns"]) == list(duck["columns"])
    for name, d in duck["columns"].items():
        s = small["columns"][name]
        assert set(s) == set(d), name
        for key in EXACT_KEYS:
            assert s.get(key) == d.get(key), (name, key)
        for key in ("mean", "std"):
            if d.get(key) is None:
                assert s.get(key) is None, (name, key)
            else:
                # (DuckDB's one-pass variance loses digits when the mean is far from 0)
                assert s[key] == pytest.approx(d[key], rel=1e-7, abs=1e-9), (name, key)
        if "length" in d:
            assert s["length"]["min"] == d["length"]["min"]
            assert s["length"]["max"] == d["length"]["max"]
            if d["length"]["mean"] is None:
                assert s["length"]["mean"] is None
            else:
                assert s["length"]["mean"] == pytest.approx(d["length"]["mean"], rel=1e-12)
        distinct, quantiles = _exact_stats(con, files, name, d)
        assert s["distinct"] == distinct and d["distinct"] == distinct, name  # both exact
        if "cdf" in d:  # numeric and temporal columns: exact knots in process
            if s["cdf"] is None:
                assert d["cdf"] is None and s["min"] is None, name
            else:
                assert s["cdf"]["exact"] is True, name
                _check_knots(con, files, name, s)
                # DuckDB: exact knots for small-range columns, else T-Digest ranks
                assert d["cdf"]["exact"] is bool(d.get("exact")), name
                if d.get("exact"):
                    assert d["cdf"] == s["cdf"], name
                assert d["cdf"]["x"][0] == s["cdf"]["x"][0], name
                assert d["cdf"]["x"][-1] == s["cdf"]["x"][-1], name
                assert d["cdf"]["le"][-1] == s["cdf"]["le"][-1], name
        if d.get("exact"):
            assert d["quantiles"] == s["quantiles"]
        if quantiles is None:
            assert s.get("quantiles") is None and d.get("quantiles") is None
            continue
        span = (d["max"] - d["min"]) or 1.0
        for x, y, z in zip(s["quantiles"], quantiles, d["quantiles"], strict=True):
            assert x == pytest.approx(y, rel=1e-12, abs=1e-9), name  # exact: quantile_cont
            assert abs(z - y) <= 0.01 * span, name  # T-Digest: within 1 % of the range
    return small, duck


def test_small_path_agrees_with_duckdb_on_mixed_types(con, table, engine):
    files = table(MIXED)
    small, _ = _agree(con, engine, files)
    cols = small["columns"]
    # the cases the data was written for really happen
    assert cols["small_int"]["exact"] and cols["day"]["exact"]
    assert "exact" not in cols["big_int"] and "exact" not in cols["old_day"]
    assert cols["val"]["nan"] > 0 and cols["val"]["inf"] > 0 and cols["val"]["zeros"] > 0
    assert cols["no_int"]["count"] == 0 and cols["no_str"]["nulls"] == 3000
    assert cols["token"]["unique"] and cols["token"]["empty"] == 60
    assert cols["longs"]["length"]["max"] == 131
    assert [len(v) for v, _ in cols["longs"]["top"]][:3] == [120, 6, 6]  # PREFIX groups
    assert cols["grp"]["top"][:2] == [["k53", 107], ["k52", 105]]
    assert [v for v, _ in cols["flag"]["top"]] == [False, True]
    assert cols["tz"]["type"] == "TIMESTAMP WITH TIME ZONE"


def test_small_path_agrees_on_edge_shapes(con, table, engine):
    _agree(con, engine,
           table("SELECT range AS i, 'x' AS s, range::DOUBLE AS f, DATE '2020-01-01' AS d,"
                 " TIMESTAMP '2020-01-01' AS t, true AS b FROM range(10) WHERE false"))
    _agree(con, engine, table("SELECT 42 AS i, 'a' AS s, 2.5::DOUBLE AS f, DATE '2020-01-01' AS d, "
                      "TIMESTAMP '2020-01-01 01:02:03.5' AS t, true AS b, 'nan'::DOUBLE AS n"))
    _agree(con, engine, table("SELECT 'inf'::DOUBLE AS f, NULL::BOOLEAN AS b FROM range(20)"))


@pytest.mark.parametrize(("lo", "step"), [(1_234_567, 3_333_337),
                                          (1_089_718_263_828_863, 4_259_451),
                                          (-549_993_555_724_544, 808_618)])
def test_timestamp_histograms_match_bin_for_bin_on_the_edges(con, table, lo, step, engine):
    """Values exactly on the bin edges of a fractional-second range land in the same bins.

    (The last two ranges put a value in another bin if the SQL's exact BIGINT minus
    decimal-literal subtraction is done in floating point.)
    """
    files = table(f"SELECT make_timestamp({lo} + (range % 33) * {step}) AS ts, "
                  f"({lo} + (range % 33) * {step}) / 1e6 AS secs FROM range(700)")
    small, duck = _agree(con, engine, files)
    assert small["columns"]["ts"]["histogram"]["counts"].count(0) == 0


DECIMALS = """
SELECT
  CASE WHEN range % 7 = 0 THEN NULL ELSE (range * 1.5 - 300)::DECIMAL(12,2) END AS money,
  (range % 5)::DECIMAL(4,1) AS small,
  (range * 0.0001 - 0.05)::DECIMAL(30,4) AS wide,
  CASE WHEN range % 3 = 0 THEN 0 ELSE range * 1000003 % 99991 END::DECIMAL(18,0) AS whole,
  NULL::DECIMAL(10,2) AS none
FROM range(2500)
"""


def test_decimals_are_profiled_in_process_and_agree_with_duckdb(con, table, engine):
    files = table(DECIMALS)
    small, _ = _agree(con, engine, files)
    cols = small["columns"]
    assert cols["money"]["type"] == "DECIMAL(12,2)" and cols["money"]["nulls"] == 358
    assert cols["money"]["negatives"] > 0 and cols["whole"]["zeros"] == 834
    assert cols["small"]["distinct"] == 5 and cols["none"]["count"] == 0
    assert compute_profile(engine, files)["engine"] == "arrow"  # the default path too


def test_types_the_small_path_does_not_render_use_duckdb(con, table, engine):
    files = table("SELECT 1.5 AS dec, range AS i FROM range(10)")
    assert compute_profile(engine, files)["engine"] == "arrow"  # decimals: in process
    # a decimal beyond 64 bits, a nested column: the DuckDB path, and it says so
    files = table("SELECT (range::DECIMAL(38,0) * 1e30::DECIMAL(38,0))::DECIMAL(38,0) AS d"
                  " FROM range(10)")
    p = compute_profile(engine, files)
    assert p["engine"] == "duckdb" and p["columns"]["d"]["kind"] == "numeric"
    files = table("SELECT [range, 1] AS l, {'a': range} AS s FROM range(10)")
    p = compute_profile(engine, files)
    assert p["engine"] == "duckdb" and p["columns"]["l"]["kind"] == "other"
    files = table("SELECT CASE WHEN range = 0 THEN 'infinity'::TIMESTAMP "
                  "ELSE TIMESTAMP '2024-01-01' END AS ts FROM range(5)")
    assert compute_profile(engine, files, method="arrow")["engine"] == "duckdb"
    files = table("SELECT gen_random_uuid() AS u FROM range(5)")
    assert compute_profile(engine, files)["engine"] == "duckdb"


def test_large_versions_use_duckdb(con, table, engine):
    files = table("SELECT range AS i FROM range(10)")
    assert compute_profile(engine, files)["engine"] == "arrow"
    # a version known to be large is not even opened
    assert compute_profile(engine, files, rows=SMALL_ROWS + 1)["engine"] == "duckdb"
    big = table(f"SELECT range AS i FROM range({SMALL_ROWS + 1})")
    p = compute_profile(engine, big)
    assert p["engine"] == "duckdb" and p["rows"] == SMALL_ROWS + 1


def test_versions_of_long_values_use_duckdb(con, table, monkeypatch, engine):
    from steward.engine import arrowread

    files = table("SELECT repeat('ab', 5000) || range AS s FROM range(30)")
    assert compute_profile(engine, files)["engine"] == "arrow"
    monkeypatch.setattr(arrowread, "SMALL_BYTES", 100_000)  # 300 KB of strings: too big now
    assert compute_profile(engine, files)["engine"] == "duckdb"


def test_a_given_schema_is_kept(con, table, engine):
    files = table("SELECT range AS i, 'a' AS s FROM range(10)")
    p = compute_profile(engine, files, schema=[("i", "BIGINT"), ("s", "VARCHAR")])
    assert p["engine"] == "arrow" and p["columns"]["i"]["type"] == "BIGINT"
    # a schema that does not match the files: the DuckDB path decides
    q = compute_profile(engine, files, schema=[("s", "VARCHAR"), ("i", "BIGINT")])
    assert q["engine"] == "duckdb"


# -- the publish hook ---------------------------------------------------------------------
def _count(ctx: Context, sql: str) -> int:
    with ctx.metastore.sa_engine.connect() as conn:
        return int(conn.execute(sa.text(sql)).scalar())


def test_published_small_versions_are_profiled_in_process(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        description: Orders with positive amounts, dated.
        owner: data-team@example.com
        checks:
          - not_null: {column: amount}
        """)
    write(starter, "models/marts/daily_revenue.yml", """\
        description: Revenue and order count per day.
        owner: finance@example.com
        """)
    ctx = Context(starter)
    assert ctx.run().ok
    current = ctx.current()
    assert len(current) == 3
    for name, v in current.items():
        prof = mp.load_profile(ctx.metastore, v.id)
        assert prof is not None and prof["engine"] == "arrow", name
        assert prof["rows"] == v.row_count
    # the pass rate is a metric of checked versions only (the source has no checks)
    rated = {name for name, v in current.items()
             if mp.series(ctx.metastore, name, "check_pass_rate")}
    assert rated == {n for n, v in current.items() if v.check_status is not None}
    assert "staging.orders" in rated and "marts.daily_revenue" not in rated
    [rate] = mp.series(ctx.metastore, "staging.orders", "check_pass_rate")
    assert rate.value == 1.0


def test_record_is_one_idempotent_write(starter: Path):
    ctx = Context(starter)
    assert ctx.run().ok
    v = ctx.current()["staging.orders"]
    points = _count(ctx, f"SELECT count(*) FROM metrics WHERE version_id = '{v.id}'")
    assert points > 0
    prof = mp.load_profile(ctx.metastore, v.id)
    from steward.profile.service import Profiles

    Profiles(ctx.metastore, ctx.store, ctx.engine).record(v, {**prof, "rows": 99})
    assert mp.load_profile(ctx.metastore, v.id)["rows"] == 99  # replaced
    assert _count(ctx, f"SELECT count(*) FROM profiles WHERE version_id = '{v.id}'") == 1
    after = _count(ctx, f"SELECT count(*) FROM metrics WHERE version_id = '{v.id}'")
    assert after == points  # never appended twice
    assert math.isfinite(mp.series(ctx.metastore, "staging.orders", "row_count")[0].value)


EXTREME = """
SELECT CASE WHEN range % 2 = 0 THEN 1.7e308 ELSE -1.7e308 END AS wide,
       range::DOUBLE * 1e306 AS big, range * 5e-324 AS tiny, range::DOUBLE AS plain
FROM range(100)
"""


def test_float_ranges_beyond_a_double_profile_on_both_paths(engine, table):
    """A range wider than the largest double (or too narrow for its bins) has no
    histogram on either path, and the in-process moments do not overflow."""
    files = table(EXTREME)
    small = compute_profile(engine, files, method="arrow")["columns"]
    duck = compute_profile(engine, files, method="duckdb")["columns"]
    for cols in (small, duck):
        assert "histogram" not in cols["wide"]  # 3.4e308 wide: no equal bins
        assert cols["wide"]["min"] == -1.7e308 and cols["wide"]["max"] == 1.7e308
        assert sum(cols["big"]["histogram"]["counts"]) == 100
        assert cols["plain"]["histogram"] == small["plain"]["histogram"]
    # sums past the largest double: the mean and deviation of the values, not infinity
    assert small["wide"]["mean"] == 0.0
    assert small["wide"]["std"] == pytest.approx(1.7e308 * math.sqrt(100 / 99), rel=1e-12)
    assert small["big"]["mean"] == pytest.approx(4.95e307, rel=1e-12)
    assert small["big"]["std"] == pytest.approx(duck["plain"]["std"] * 1e306, rel=1e-9)
