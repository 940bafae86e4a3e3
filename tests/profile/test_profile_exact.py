"""Profiles and drift against exact computations on the same data.

The flights example is built into a temporary folder, then delivered a late January
2014 (``scenario.py late-2014``), so ``staging.flights`` has two versions (336,776 and
363,780 rows, both profiled inside DuckDB). What ``steward profile --json`` and
``steward drift --json`` print is compared with pandas, exact SQL (``GROUP BY``,
``count(DISTINCT)``) and scipy on the raw values. Subsets of it and synthetic tables of
other column types cover the in-process path and the sketches of large versions.

The tolerances are those of docs/profiles.md (:data:`TOL`); PSI and JS on raw values use
the binning documented there (:func:`raw_buckets`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy import stats
from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context
from steward.profile import compute
from steward.profile.compute import compute_profile
from steward.profile.drift import compare, js, psi

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flights"
NUMERIC = ("numeric", "float", "temporal")

# docs/profiles.md, "Accuracy": |Steward - exact| at most this
TOL = {
    "ks": {True: 0.01, False: 0.02},  # exact knots: True; T-Digest knots: False
    "wasserstein": 0.01,  # in the reference's standard deviations
    "psi": lambda exact_psi: 0.02 + 0.05 * exact_psi,
    "js": 0.005,
    "sketched_distinct": 0.02,  # relative, versions above a million rows
}


# -- exact computations on raw values --------------------------------------------------
def raw_buckets(ref: np.ndarray, cur: np.ndarray) -> tuple[list[float], list[float]]:
    """Shares of both samples in the PSI buckets of docs/profiles.md, from raw values.

    Edges: the reference's min, its lower deciles (the value of rank ceil(k n / 10)) and
    its max, equal edges merged; buckets: below the min, equal to the min, each
    (edge[i-1], edge[i]], above the max.
    """
    ref, cur = np.sort(ref), np.sort(cur)
    n = len(ref)
    deciles = [ref[-(-k * n // 10) - 1] for k in range(1, 10)]
    edges = sorted({ref[0], ref[-1], *deciles})
    out: tuple[list[float], list[float]] = ([], [])
    for s, shares in ((ref, out[0]), (cur, out[1])):
        prev = np.searchsorted(s, edges[0], "left") / len(s)
        shares.append(prev)
        for e in edges:
            now = np.searchsorted(s, e, "right") / len(s)
            shares.append(now - prev)
            prev = now
        shares.append(1.0 - prev)
    return out


def values(con: Any, files: list[str], name: str, kind: str) -> np.ndarray:
    """A column's finite values as floats (temporal: epoch seconds, like profiles)."""
    v = f'epoch("{name}")' if kind == "temporal" else f'"{name}"::DOUBLE'
    got = con.execute(f"SELECT {v} AS v FROM read_parquet({files!r}) "
                      f"WHERE {v} IS NOT NULL AND isfinite({v})").fetchnumpy()["v"]
    return np.asarray(got, dtype=np.float64)


def check_drift(con: Any, d: dict[str, Any], ref_prof: dict[str, Any], a: list[str],
                b: list[str], names: list[str] | None = None) -> int:
    """Every numeric column's PSI, KS, Wasserstein and JS within :data:`TOL` of exact."""
    checked = 0
    for name, got in d["columns"].items():
        col = ref_prof["columns"][name]
        if col["kind"] not in NUMERIC or got["ks"] is None or (names and name not in names):
            continue
        ref, cur = values(con, a, name, col["kind"]), values(con, b, name, col["kind"])
        e, q = raw_buckets(ref, cur)
        exact = {"psi": psi(e, q), "js": js(e, q), "ks": stats.ks_2samp(ref, cur).statistic,
                 "w": stats.wasserstein_distance(ref, cur)}
        sigma = np.std(ref, ddof=1)
        knots_exact = bool(col["cdf"]["exact"])
        assert got["basis"] == "cdf", name
        assert abs(got["ks"] - exact["ks"]) <= TOL["ks"][knots_exact], \
            (name, got["ks"], exact["ks"])
        assert abs(got["wasserstein_abs"] - exact["w"]) <= TOL["wasserstein"] * sigma, \
            (name, got["wasserstein_abs"], exact["w"], sigma)
        assert abs(got["psi"] - exact["psi"]) <= TOL["psi"](exact["psi"]), \
            (name, got["psi"], exact["psi"])
        assert abs(got["js"] - exact["js"]) <= TOL["js"], (name, got["js"], exact["js"])
        checked += 1
    return checked


def exact_top(con: Any, files: list[str], name: str, k: int = 10) -> list[list[Any]]:
    """The k most frequent values by their first 120 characters; ties: smaller first."""
    v = f'left("{name}"::VARCHAR, 120)'
    rows = con.execute(f"SELECT {v} AS v, count(*) AS n FROM read_parquet({files!r}) "
                       f"WHERE v IS NOT NULL GROUP BY v ORDER BY n DESC, v LIMIT {k}").fetchall()
    return [[v, n] for v, n in rows]


# -- the flights example ---------------------------------------------------------------
def _cli(*args: str) -> Any:
    res = CliRunner().invoke(app, list(args))
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


@pytest.fixture(scope="module")
def flights(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("example") / "flights"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".steward", "__pycache__",
                                                                  "2*.csv"))
    first = Context(root).run()
    assert first.ok
    subprocess.check_call([sys.executable, str(root / "scenario.py"), "late-2014"],
                          stdout=subprocess.DEVNULL)
    second = Context(root).run()
    assert second.ok
    for result in (first, second):  # the publish hook profiled without a failure
        assert not any("hook failed" in n for ns in result.notes.values() for n in ns)
    ctx = Context(root)
    old, new = reversed(ctx.metastore.versions("staging.flights", status="published")[:2])
    files = [ctx.store.data_files(v.path) for v in (old, new)]
    profiles = [_cli("profile", "staging.flights", "-V", v.id, "--json", "-p", str(root))
                ["profile"] for v in (old, new)]
    drift = _cli("drift", "staging.flights", old.id, new.id, "--json", "-p", str(root))
    return {"root": root, "files": files, "profiles": profiles, "drift": drift,
            "rows": (old.row_count, new.row_count)}


@pytest.mark.slow
def test_example_profiles_are_the_stored_duckdb_profiles(flights):
    assert flights["rows"] == (336_776, 363_780)
    for prof, n in zip(flights["profiles"], flights["rows"], strict=True):
        assert prof["engine"] == "duckdb" and prof["format"] == compute.PROFILE_FORMAT
        assert prof["rows"] == n and prof["column_count"] == 20
        size = {name: len(json.dumps(col)) for name, col in prof["columns"].items()}
        assert max(size.values()) < 4608, size  # docs: at most 4.5 KB a column


@pytest.mark.slow
def test_example_top_values_are_the_exact_group_by(con, flights):
    import pandas as pd

    for files, prof in zip(flights["files"], flights["profiles"], strict=True):
        df = pd.read_parquet(files[0], columns=["carrier", "tailnum", "origin", "dest", "route"])
        checked = 0
        for name, col in prof["columns"].items():
            if col["kind"] != "string":
                continue
            if col.get("unique"):  # flight_id: every value distinct, no top-k by design
                assert col["top"] == [] and col["distinct"] == col["count"] == prof["rows"]
                continue
            want = exact_top(con, files, name)
            assert col["top"] == want, name
            assert col["top_other"] == col["count"] - sum(n for _, n in want)
            # and pandas agrees with the SQL
            vc = df[name].value_counts().rename_axis("v").reset_index(name="n")
            vc = vc.sort_values(["n", "v"], ascending=[False, True]).head(10)
            assert [[v, int(n)] for v, n in vc.itertuples(index=False)] == col["top"], name
            checked += 1
        assert checked == 5
    # the numbers of the issue: the true top three tail numbers
    tail = flights["profiles"][0]["columns"]["tailnum"]["top"]
    assert tail[:3] == [["N725MQ", 575], ["N722MQ", 513], ["N723MQ", 507]]
    assert tail[-1][1] == 396


@pytest.mark.slow
def test_example_distinct_counts_are_exact(con, flights):
    import pandas as pd

    for files, prof in zip(flights["files"], flights["profiles"], strict=True):
        df = pd.read_parquet(files[0])
        for name, col in prof["columns"].items():
            want = con.execute(f'SELECT count(DISTINCT "{name}") FROM read_parquet({files!r})'
                               ).fetchone()[0]
            assert col["distinct"] == want == df[name].nunique(), name
            assert "distinct_approx" not in col, name


@pytest.mark.slow
def test_example_distinct_sketch_is_within_two_percent(con, flights, monkeypatch, engine):
    """Above a million rows distinct counts are sketched: forced here on the real columns."""
    monkeypatch.setattr(compute, "EXACT_ROWS", 0)
    files = flights["files"][0]
    prof = compute_profile(engine, files, method="duckdb")
    sketched = 0
    for name, col in prof["columns"].items():
        want = con.execute(f'SELECT count(DISTINCT "{name}") FROM read_parquet({files!r})'
                           ).fetchone()[0]
        if col.get("distinct_approx"):
            sketched += 1
            assert abs(col["distinct"] - want) <= TOL["sketched_distinct"] * want, \
                (name, col["distinct"], want)
        else:  # small-range numbers, booleans, grouped strings: still exact
            assert col["distinct"] == want, name
    # flight_id and the five timestamps (6,936 to 336,776 distinct values)
    assert sketched == 6
    assert prof["columns"]["tailnum"]["top"] == flights["profiles"][0]["columns"]["tailnum"]["top"]


@pytest.mark.slow
def test_example_drift_matches_scipy(con, flights):
    d = flights["drift"]
    old, new = flights["files"]
    assert d["rows"] == list(flights["rows"])
    ref = flights["profiles"][0]
    # dep_delay: every delay of the late January is 25 minutes longer
    dep = d["columns"]["dep_delay"]
    ks = stats.ks_2samp(values(con, old, "dep_delay", "numeric"),
                        values(con, new, "dep_delay", "numeric")).statistic
    assert abs(dep["ks"] - ks) <= TOL["ks"][True] and dep["ks"] < 0.1  # no false alarm at 0.1
    assert ref["columns"]["dep_delay"]["cdf"]["exact"]  # small range: exact knots
    assert not ref["columns"]["sched_dep_at"]["cdf"]["exact"]  # T-Digest knots
    assert check_drift(con, d, ref, old, new) == 11  # 5 integers, 5 timestamps, a date


MONTHS = ("dep_delay", "arr_delay", "air_time", "distance", "flight", "sched_dep_at",
          "dep_at", "time_hour", "flight_date")


@pytest.mark.slow
@pytest.mark.parametrize(("a", "b"), [("month(flight_date) = 1", "month(flight_date) = 7"),
                                      ("carrier = 'UA'", "carrier = 'AA'"),
                                      ("month(flight_date) <= 6 AND day(flight_date) % 2 = 0",
                                       "month(flight_date) <= 6 AND day(flight_date) % 2 = 1")])
@pytest.mark.parametrize("method", ["arrow", "duckdb"])
def test_drift_of_example_subsets_matches_scipy(con, flights, tmp_path, a, b, method, engine):
    """Subsets of up to 100,000 rows: in process (exact knots) and in DuckDB."""
    src = flights["files"][0]
    files = []
    for i, where in enumerate((a, b)):
        path = tmp_path / f"{i}.parquet"
        con.execute(f"COPY (SELECT {', '.join(MONTHS)} FROM read_parquet({src!r}) "
                    f"WHERE {where}) TO '{path}' (FORMAT parquet)")
        files.append([str(path)])
    pa, pb = (compute_profile(engine, f, method=method) for f in files)
    assert pa["engine"] == method and pa["rows"] <= 100_000
    assert check_drift(con, compare(pa, pb), pa, *files) == len(MONTHS)
    for f, p in zip(files, (pa, pb), strict=True):  # and exact distinct counts
        for name, col in p["columns"].items():
            want = con.execute(f'SELECT count(DISTINCT "{name}") FROM read_parquet({f!r})'
                               ).fetchone()[0]
            assert col["distinct"] == want, name


# -- other column types ----------------------------------------------------------------
TYPES = """
SELECT
  CASE WHEN random() < {z} THEN 0 ELSE round(random() * 1000, 2) END::DECIMAL(12, 2) AS dec,
  exp({mu} + 1.5 * sqrt(-2 * ln(random())) * cos(2 * pi() * random())) AS lognormal,
  DATE '1900-01-01' + (random() * 40000 * {s})::INTEGER AS wide_date,
  TIMESTAMP '2020-01-01' + to_microseconds((random() * 31536e6 * {s})::BIGINT) AS ts,
  CASE WHEN random() < 0.95 THEN NULL ELSE random() * {s} END AS sparse,
  CASE WHEN random() < 0.9 THEN NULL ELSE 'code' || (random() * 30)::INTEGER END AS sparse_str,
  repeat('x', 150) || (random() * 40 * {s})::INTEGER AS long_str
FROM range({n})
"""


@pytest.mark.parametrize("n", [60_000, 250_000])
@pytest.mark.parametrize("method", ["arrow", "duckdb"])
def test_other_column_types_against_exact(con, table, n, method, engine):
    con.execute("SELECT setseed(0.17)")
    # (decimals send a version to DuckDB: the in-process path gets the other columns)
    drop = " EXCLUDE (dec)" if method == "arrow" else ""
    fa = table(f"SELECT *{drop} FROM ({TYPES.format(z=0.4, mu=0.0, s=1.0, n=n)})")
    fb = table(f"SELECT *{drop} FROM ({TYPES.format(z=0.45, mu=0.1, s=1.05, n=n)})")
    pa, pb = (compute_profile(engine, f, method=method) for f in (fa, fb))
    assert pa["engine"] == method
    for f, p in ((fa, pa), (fb, pb)):
        for name, col in p["columns"].items():
            want = con.execute(f'SELECT count(DISTINCT "{name}") FROM read_parquet({f!r})'
                               ).fetchone()[0]
            assert col["distinct"] == want, name
            if col["kind"] == "string":
                assert col["top"] == exact_top(con, f, name), name
    long_top = pa["columns"]["long_str"]["top"]
    assert all(len(v) == 120 for v, _ in long_top) and len({v for v, _ in long_top}) == 1
    assert pa["columns"]["sparse"]["null_fraction"] > 0.9
    assert check_drift(con, compare(pa, pb), pa, fa, fb) == (4 if drop else 5)


@pytest.mark.parametrize("method", ["arrow", "duckdb"])
def test_a_top_ten_nearly_tied_with_the_eleventh(con, table, method, engine):
    # v00..v09 occur 1000, 999, ..., 991 times, v10 and v11 990 times each, then 300
    # values 983 to 989 times each
    sql = """
    WITH freq AS (
      SELECT 'v' || lpad(i::VARCHAR, 2, '0') AS v, 1000 - least(i, 10) AS n FROM range(12) t(i)
      UNION ALL SELECT 'w' || i, 989 - i % 7 FROM range(300) t(i))
    SELECT v FROM freq, range(n) ORDER BY hash(v, range)
    """
    files = table(sql)
    for k in (10, 11, 12):  # 11: a tie at the cut, the smaller value is kept
        p = compute_profile(engine, files, method=method, top_k=k)
        assert p["engine"] == method
        top = p["columns"]["v"]["top"]
        assert top == exact_top(con, files, "v", k)
        assert [v for v, _ in top] == [f"v{i:02d}" for i in range(k)]
        assert p["columns"]["v"]["distinct"] == 312


def test_sketched_distinct_counts_of_large_versions(con, table, monkeypatch, engine):
    """Above EXACT_ROWS: the bucket-minimum sketch, within 2 % on every column."""
    monkeypatch.setattr(compute, "EXACT_ROWS", 1000)
    con.execute("SELECT setseed(0.9)")
    files = table(
        "SELECT range AS id, (random() * 50000)::BIGINT * 1000 AS wide, random() AS f, "
        "md5((range % 70000)::VARCHAR) AS s, repeat('y', 130) || (range % 900) AS long_s, "
        "TIMESTAMP '2024-01-01' + to_seconds((random() * 1e6)::BIGINT) AS ts, "
        "(range % 5 = 0) AS b, (range % 300)::INTEGER AS small, [range % 3] AS l "
        "FROM range(200000)")
    p = compute_profile(engine, files, method="duckdb")
    monkeypatch.undo()
    exact = compute_profile(engine, files, method="duckdb")
    for name, col in p["columns"].items():  # the same statistics as below the threshold
        assert set(col) - {"distinct_approx"} == set(exact["columns"][name]), name
    assert "distinct" not in p["columns"]["l"]  # lists: no distinct count, as before
    approx = set()
    for name, col in p["columns"].items():
        if name == "l":
            continue
        want = con.execute(f'SELECT count(DISTINCT "{name}") FROM read_parquet({files!r})'
                           ).fetchone()[0]
        if col.get("distinct_approx"):
            approx.add(name)
            assert abs(col["distinct"] - want) <= TOL["sketched_distinct"] * want, name
            assert col["distinct"] != 0
        else:
            assert col["distinct"] == want, name
    # strings grouped whole for their top values are counted exactly; long strings are
    # grouped by prefix, so their distinct count is sketched
    assert approx == {"id", "wide", "f", "long_s", "ts"}
    assert p["columns"]["s"]["top"] == exact_top(con, files, "s")  # top-k still exact


def _expected_failures(df: Any, check: Any, target: Any = None) -> int:
    """A check's failing rows computed with pandas, apart from Steward's SQL."""
    col = df[check.column] if getattr(check, "column", None) else None
    if check.type == "not_null":
        return int(col.isna().sum())
    if check.type == "unique":
        nn = col.dropna()
        return int(len(nn) - nn.nunique())
    if check.type == "range":
        nn = col.dropna()
        bad = np.zeros(len(nn), dtype=bool)
        if check.min is not None:
            bad |= (nn < check.min) if check.min_inclusive else (nn <= check.min)
        if check.max is not None:
            bad |= (nn > check.max) if check.max_inclusive else (nn >= check.max)
        return int(bad.sum())
    if check.type == "accepted_values":
        return int((~col.dropna().isin(list(check.values))).sum())
    if check.type == "relationships":
        return int((~col.dropna().isin(set(target[check.field].dropna()))).sum())
    raise AssertionError(check.type)


@pytest.mark.slow
def test_example_check_results_are_the_exact_failure_counts(flights):
    import pandas as pd

    from steward.meta.checks import results_for
    from steward.quality.compile import label_all
    from steward.quality.gate import product_checks

    ctx = Context(flights["root"])
    current = ctx.current()
    frames: dict[str, Any] = {}

    def frame(name: str) -> Any:
        if name not in frames:
            frames[name] = pd.concat([pd.read_parquet(f) for f in
                                      ctx.store.data_files(current[name].path)])
        return frames[name]

    compared = 0
    kinds = {"not_null", "unique", "range", "accepted_values", "relationships"}
    for name, product in ctx.project.products.items():
        stored = {r.name: r for r in results_for(ctx.metastore, current[name].id)}
        for label, check in label_all(product_checks(product)):
            if check.type not in kinds or (check.type == "unique" and len(check.key) != 1):
                continue
            if check.type == "unique":
                check = check.model_copy(update={"column": check.key[0]})
            target = frame(check.to) if check.type == "relationships" else None
            assert stored[label].failures == _expected_failures(frame(name), check, target), \
                (name, label)
            compared += 1
    assert compared >= 20, compared
