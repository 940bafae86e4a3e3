"""How right and how fast Steward's profiles are, on the flights example.

Builds ``examples/flights`` into a temporary folder (or uses ``--project``, a copy built
before), delivers the ``late-2014`` scenario so ``staging.flights`` has two versions
(336,776 and 363,780 rows), then prints:

- accuracy against exact computations on the same Parquet files: the top-10 tail
  numbers against a ``GROUP BY``, every column's distinct count against
  ``count(DISTINCT)``, and drift between the two versions (PSI, KS, Wasserstein,
  Jensen-Shannon) against scipy on the raw values (PSI and JS on the binning of
  ``docs/profiles.md``: the reference's lower deciles);
- timings, each the median of several runs in this process (warm): the DuckDB path on
  ``staging.flights``, the in-process path on a 1,000-row slice of it (20 columns) and on
  a 1,000-row, 12-column table of ``benchmarks/data.py`` (its decimal as a double, so the
  in-process path takes it), and drift between the two stored profiles;
- with ``--sketch-trials N``: the error of the distinct-count sketch of large versions
  (``steward.profile.distinct``) over N synthetic columns of 300 to 3,000,000 distinct
  values (DuckDB's ``hash`` of ``range``, shifted by a random offset).

Nothing here is asserted in a test; ``tests/profile/test_profile_exact.py`` asserts the
accuracy with the tolerances of the docs.

    python benchmarks/profile_accuracy.py [--project DIR] [--repeat 5] [--sketch-trials 400]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DRIFT_COLUMNS = ("dep_delay", "arr_delay", "air_time", "distance", "sched_dep_at", "dep_at",
                 "time_hour")


def build(target: str) -> None:
    from steward.context import Context

    shutil.copytree(os.path.join(ROOT, "examples", "flights"), target,
                    ignore=shutil.ignore_patterns(".steward", "__pycache__", "2*.csv"))
    assert Context(target).run().ok
    subprocess.check_call([sys.executable, os.path.join(target, "scenario.py"), "late-2014"],
                          stdout=subprocess.DEVNULL)
    assert Context(target).run().ok


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def raw_buckets(ref, cur):  # the binning of docs/profiles.md, on raw values
    import numpy as np

    ref, cur = np.sort(ref), np.sort(cur)
    n = len(ref)
    deciles = [ref[-(-k * n // 10) - 1] for k in range(1, 10)]  # lower deciles
    edges = sorted({ref[0], ref[-1], *deciles})
    out = ([], [])
    for s, shares in ((ref, out[0]), (cur, out[1])):
        prev = np.searchsorted(s, edges[0], "left") / len(s)
        shares.append(prev)
        for e in edges:
            now = np.searchsorted(s, e, "right") / len(s)
            shares.append(now - prev)
            prev = now
        shares.append(1 - prev)
    return out


def sketch_trials(con, trials: int) -> None:
    import numpy as np

    from steward.profile.distinct import estimate, sketch_sql

    rng = np.random.default_rng(1)
    errors = []
    for _ in range(trials):
        n = int(10 ** rng.uniform(2.5, 6.5))
        off = int(rng.integers(0, 1 << 40))
        scan = f"(SELECT range + {off} AS v FROM range({n}))"
        _, d, s = con.execute(sketch_sql(scan, ["v"])).fetchone()
        errors.append((estimate(int(d), float(s), 10**12) - n) / n)  # no clamp to n
    e = np.abs(errors)
    rse = np.sqrt(np.mean(np.square(errors))) * 100
    print(f"\ndistinct sketch over {trials} columns: standard error {rse:.2f} %, "
          f"mean {np.mean(errors) * 100:+.3f} %, 99th percentile "
          f"{np.quantile(e, 0.99) * 100:.2f} %, largest {e.max() * 100:.2f} %")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--project", help="a flights copy already built with late-2014")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--sketch-trials", type=int, default=0)
    a = ap.parse_args()
    sys.path.insert(0, HERE)
    import duckdb
    import numpy as np

    from steward.context import Context
    from steward.profile.compute import compute_profile
    from steward.profile.drift import compare, js, psi

    tmp = None
    root = a.project
    if root is None:
        tmp = tempfile.mkdtemp()
        root = os.path.join(tmp, "flights")
        build(root)
    ctx = Context(root)
    versions = ctx.metastore.versions("staging.flights", status="published")
    new, old = versions[0], versions[1]  # newest first
    f_old, f_new = ctx.store.data_files(old.path), ctx.store.data_files(new.path)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    scan = f"read_parquet({f_old!r})"

    print(f"staging.flights: {old.row_count:,} and {new.row_count:,} rows; "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    p_old = compute_profile(con, f_old)
    p_new = compute_profile(con, f_new)
    print(f"profile format {p_old.get('format')}, engine {p_old['engine']}, "
          f"{len(json.dumps(p_old)) / 1024:.1f} KB of JSON for {p_old['column_count']} columns")

    # -- top values
    exact = con.execute(f"SELECT tailnum, count(*) AS n FROM {scan} WHERE tailnum IS NOT NULL "
                        "GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10").fetchall()
    got = [tuple(x) for x in p_old["columns"]["tailnum"].get("top") or []]
    print("\ntop-10 tailnum, exact:  ", ", ".join(f"{v} {n}" for v, n in exact))
    print("top-10 tailnum, Steward:", ", ".join(f"{v} {n}" for v, n in got))
    print(f"  same list: {got == exact}; in common: {len(set(got) & set(exact))} of 10")

    # -- distinct counts
    worst = (0.0, "")
    print("\ndistinct counts (Steward vs count(DISTINCT)):")
    for name, col in p_old["columns"].items():
        true = con.execute(f'SELECT count(DISTINCT "{name}") FROM {scan}').fetchone()[0]
        err = (col["distinct"] - true) / max(true, 1) * 100
        if abs(err) > abs(worst[0]):
            worst = (err, name)
        if err:
            print(f"  {name:14s} {col['distinct']:>9,} vs {true:>9,}  {err:+.2f} %")
    print(f"  largest error: {worst[0]:+.2f} % ({worst[1] or 'none'})")

    # -- drift
    try:
        from scipy import stats
    except ImportError:
        stats = None
    d = compare(p_old, p_new)
    print("\ndrift old -> new (Steward / exact on raw values):")
    for name in DRIFT_COLUMNS:
        c = d["columns"][name]
        kind = p_old["columns"][name]["kind"]
        v = f'epoch("{name}")' if kind == "temporal" else f'"{name}"::DOUBLE'
        ref, cur = (np.asarray(con.execute(f"SELECT {v} AS v FROM read_parquet({f!r}) "
                                           f"WHERE {v} IS NOT NULL").fetchnumpy()["v"],
                               dtype=float) for f in (f_old, f_new))
        e, q = raw_buckets(ref, cur)
        line = (f"  {name:12s} psi {c['psi']:.4f}/{psi(e, q):.4f}  js {c['js']:.5f}/"
                f"{js(e, q):.5f}")
        if stats is not None:
            ks = stats.ks_2samp(ref, cur).statistic
            w = stats.wasserstein_distance(ref, cur)
            line += f"  ks {c['ks']:.4f}/{ks:.4f}  wasserstein {c['wasserstein_abs']:.4g}/{w:.4g}"
        print(line)

    # -- timings
    print("\ntimings (median, warm, this process):")
    t = timed(lambda: compute_profile(con, f_old), a.repeat)
    print(f"  DuckDB path, staging.flights ({old.row_count:,} rows x 20): {t * 1000:.0f} ms")
    small = os.path.join(tempfile.mkdtemp(), "small.parquet")
    con.execute(f"COPY (SELECT * FROM {scan} LIMIT 1000) TO '{small}' (FORMAT parquet)")
    t = timed(lambda: compute_profile(con, [small]), 200)
    print(f"  in process, staging.flights first 1,000 rows x 20: {t * 1000:.2f} ms "
          f"({compute_profile(con, [small])['engine']})")
    from data import select_sql

    twelve = os.path.join(os.path.dirname(small), "twelve.parquet")
    con.execute("SELECT setseed(0.5)")
    con.execute(f"COPY (SELECT * REPLACE (amount::DOUBLE AS amount) FROM ({select_sql(1000)})) "
                f"TO '{twelve}' (FORMAT parquet)")
    t = timed(lambda: compute_profile(con, [twelve]), 200)
    print(f"  in process, 1,000 x 12 (benchmarks/data.py): {t * 1000:.2f} ms "
          f"({compute_profile(con, [twelve])['engine']})")
    t = timed(lambda: compare(p_old, p_new), 50)
    print(f"  drift between the two stored profiles (compare only): {t * 1000:.2f} ms")
    if a.sketch_trials:
        sketch_trials(con, a.sketch_trials)
    if tmp:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
