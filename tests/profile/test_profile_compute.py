"""Profiles computed in DuckDB: accuracy, compactness and every kind of bad input."""

from __future__ import annotations

import json
import math

from steward.profile.compute import QUANTILES, column_kind


def _strict_json(profile: dict) -> str:
    return json.dumps(profile, allow_nan=False)  # NaN/inf in a profile would fail here


def test_numeric_statistics_match_exact_sql(con, table, engine):
    files = table("SELECT range AS i, (range % 100) - 20 AS k, range / 3.0 AS f FROM range(10000)")
    from steward.profile.compute import compute_profile

    p = compute_profile(engine, files)
    assert p["rows"] == 10000 and p["column_count"] == 3 and p["bytes"] > 0
    i = p["columns"]["i"]
    assert (i["min"], i["max"], i["mean"]) == (0.0, 9999.0, 4999.5)
    exact = con.execute("SELECT stddev_samp(range) FROM range(10000)").fetchone()[0]
    assert abs(i["std"] - exact) < 1e-6
    assert len(i["quantiles"]) == len(QUANTILES)
    assert abs(i["quantiles"][3] - 4999.5) < 100  # approx_quantile: close, not exact
    assert sum(i["histogram"]["counts"]) == 10000
    k = p["columns"]["k"]
    assert k["zeros"] == 100 and k["negatives"] == 2000


def test_top_k_frequencies_are_exact(profile_of):
    p = profile_of("SELECT CASE WHEN range % 10 < 6 THEN 'a' WHEN range % 10 < 9 THEN 'b' "
                   "ELSE 'c' || range END AS s FROM range(1000)")
    s = p["columns"]["s"]
    top = dict(map(tuple, s["top"]))
    assert top["a"] == 600 and top["b"] == 300
    assert s["top_other"] == 1000 - sum(top.values())
    assert s["length"]["min"] == 1 and s["length"]["max"] == 4


def test_profile_is_compact(profile_of):
    # full-precision random doubles: the longest CDF knots there are
    cols = ", ".join(f"range * {i} + random() AS n{i}" for i in range(8))
    p = profile_of(f"SELECT {cols}, md5(range::VARCHAR) AS s1, md5((range % 50)::VARCHAR) AS s2, "
                   "now() - to_seconds(range) AS ts, range % 2 = 0 AS b FROM range(50000)")
    assert p["column_count"] == 12
    sizes = {name: len(_strict_json(col)) for name, col in p["columns"].items()}
    assert max(sizes.values()) < 4608, sizes  # docs/profiles.md: at most 4.5 KB a column
    assert sizes["b"] < 300 and sizes["s1"] < 1000 and sizes["s2"] < 1500
    assert len(_strict_json(p)) < 12 * 4608


def test_all_null_column(profile_of):
    p = profile_of("SELECT NULL::DOUBLE AS x, NULL::VARCHAR AS s, range AS i FROM range(50)")
    x, s = p["columns"]["x"], p["columns"]["s"]
    assert x["nulls"] == 50 and x["null_fraction"] == 1.0 and x["count"] == 0
    assert x["min"] is None and x["mean"] is None and "histogram" not in x
    assert s["distinct"] == 0 and "top" not in s or s["top"] == []
    _strict_json(p)


def test_empty_table(profile_of):
    p = profile_of("SELECT range AS i, 'x' AS s, range / 2.0 AS f FROM range(10) WHERE false")
    assert p["rows"] == 0 and p["column_count"] == 3
    for col in p["columns"].values():
        assert col["count"] == 0 and col["null_fraction"] == 0.0
    _strict_json(p)


def test_one_distinct_value(profile_of):
    p = profile_of("SELECT 7 AS c, 'same' AS s FROM range(100)")
    c = p["columns"]["c"]
    assert c["min"] == c["max"] == 7.0 and c["std"] == 0.0
    assert c["histogram"]["counts"] == [100]
    assert p["columns"]["s"]["top"] == [["same", 100]]


def test_nan_and_infinities_are_counted_apart(profile_of):
    p = profile_of("SELECT CASE WHEN range % 10 = 0 THEN 'nan'::DOUBLE "
                   "WHEN range % 10 = 1 THEN 'inf'::DOUBLE WHEN range % 10 = 2 THEN '-inf'::DOUBLE "
                   "ELSE range END AS d FROM range(1000)")
    d = p["columns"]["d"]
    assert d["nan"] == 100 and d["inf"] == 200
    assert math.isfinite(d["mean"]) and math.isfinite(d["max"]) and d["max"] == 999.0
    assert sum(d["histogram"]["counts"]) == 700  # finite values only
    _strict_json(p)


def test_only_nan_column(profile_of):
    p = profile_of("SELECT 'nan'::DOUBLE AS d FROM range(10)")
    d = p["columns"]["d"]
    assert d["nan"] == 10 and d["min"] is None and "histogram" not in d
    _strict_json(p)


def test_very_long_strings_are_truncated_in_the_profile(profile_of):
    p = profile_of("SELECT repeat('ab', 50000) || range % 3 AS s FROM range(30)")
    s = p["columns"]["s"]
    assert s["length"]["max"] == 100001
    assert all(len(v) <= 120 for v, _ in s["top"]) and len(s["max"]) <= 120
    assert len(_strict_json(p)) < 5000


def test_timestamps_with_time_zones(profile_of):
    p = profile_of("SELECT TIMESTAMPTZ '2024-03-31 01:30:00+01' + to_hours(range) AS ts, "
                   "DATE '2024-01-01' + range::INT AS d FROM range(48)")
    ts = p["columns"]["ts"]
    assert ts["kind"] == "temporal" and ts["unit"] == "epoch_s"
    assert ts["min"] == 1711845000.0  # 2024-03-31 00:30 UTC
    assert ts["max"] - ts["min"] == 47 * 3600
    assert sum(ts["histogram"]["counts"]) == 48
    assert p["columns"]["d"]["min"] == 1704067200.0


def test_unsupported_types_still_get_counts(profile_of):
    p = profile_of("SELECT [range, 1] AS l, {'a': range} AS st FROM range(5)")
    assert p["columns"]["l"]["kind"] == "other" and p["columns"]["l"]["count"] == 5


def test_column_kinds():
    assert column_kind("DECIMAL(18,3)") == "numeric"
    assert column_kind("TIMESTAMP WITH TIME ZONE") == "temporal"
    assert column_kind("DOUBLE") == "float"
    assert column_kind("VARCHAR") == "string"
    assert column_kind("STRUCT(a INTEGER)") == "other"


def test_infinite_timestamps_and_decimals(profile_of):
    p = profile_of("SELECT CASE WHEN range = 0 THEN 'infinity'::TIMESTAMP "
                   "ELSE TIMESTAMP '2024-01-01' + to_days(range) END AS ts, "
                   "(range / 4)::DECIMAL(10, 2) AS dec FROM range(10)")
    ts = p["columns"]["ts"]
    assert ts["min"] == 1704153600.0 and ts["max"] == 1704153600.0 + 8 * 86400  # finite only
    assert math.isfinite(ts["mean"]) and sum(ts["histogram"]["counts"]) == 9
    dec = p["columns"]["dec"]
    assert dec["kind"] == "numeric" and dec["max"] == 2.25 and isinstance(dec["mean"], float)
    _strict_json(p)


def test_nearly_unique_strings_get_no_top_k(profile_of):
    p = profile_of("SELECT md5(range::VARCHAR) AS token, (range % 3)::VARCHAR AS small "
                   "FROM range(5000)")
    assert p["columns"]["token"]["unique"] is True and p["columns"]["token"]["top"] == []
    assert len(p["columns"]["small"]["top"]) == 3 and "unique" not in p["columns"]["small"]


def test_small_range_integers_and_dates_are_exact(con, profile_of):
    sql = ("SELECT ((range * 7) % 5000)::INTEGER - 100 AS v, "
           "DATE '2024-01-01' + (range % 400)::INTEGER AS d, range * 1000 AS wide "
           "FROM range(20000)")
    p = profile_of(sql)
    v = p["columns"]["v"]
    assert v["exact"] is True and v["distinct"] == 5000
    qs = ", ".join(f"quantile_cont(v, {q})" for q in QUANTILES)
    want = con.execute(f"SELECT {qs}, stddev_samp(v), count_if(v < 0) FROM ({sql})").fetchone()
    assert v["quantiles"] == [float(x) for x in want[:7]]
    assert abs(v["std"] - want[7]) < 1e-9 and v["negatives"] == want[8]
    assert sum(v["histogram"]["counts"]) == 20000
    d = p["columns"]["d"]
    assert d["exact"] is True and d["min"] == 1704067200.0 and d["distinct"] == 400
    assert "exact" not in p["columns"]["wide"]  # too wide a range: sketches
