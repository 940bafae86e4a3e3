"""Steward's profile against DuckDB SUMMARIZE (and ydata-profiling / whylogs), same run.

On the shared 2,000,000-row x 12-column table (``benchmarks/data.py``):

- a full Steward profile (statistics, CDF knots, histograms, top-k, distinct counts) against
  ``SUMMARIZE`` — each in a fresh subprocess, alternated, median of ``--repeat`` runs;
  peak RSS is the subprocess's own ``ru_maxrss`` (interpreter and imports included);
- drift between two stored versions: loading both profiles from a SQLite metastore and
  comparing them, no data read (median and max over 50 runs);
- ydata-profiling (``minimal=True``, statistics only: ``get_description()``) and whylogs
  (``why.log``), when they are installed in ``benchmarks/_work/peers-venv`` (they are
  kept out of the project's venv: their pins would downgrade its numpy / pandas). Both
  need a pandas DataFrame; reading the Parquet file into it is part of their time;
- the flights example built with and without the profiling hooks (fresh copies).

Ratios are printed (peer / Steward: above 1 means Steward is faster or smaller). Nothing
here is asserted in a test.

    python benchmarks/profile_bench.py [--rows 2000000] [--repeat 3] [--no-peers] [--no-flights]
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
WORK = os.path.join(HERE, "_work")
PEERS_PY = os.path.join(WORK, "peers-venv", "bin", "python")

CHILD = r"""
import json, resource, sys, time
what, path = sys.argv[1], sys.argv[2]
t0 = time.perf_counter()
if what in ("steward", "summarize"):
    import duckdb
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if what == "steward":
        from steward.profile.compute import compute_profile
        out = compute_profile(con, [path])
        extra = {"profile_bytes": len(json.dumps(out))}
    else:
        out = con.execute(f"SUMMARIZE SELECT * FROM read_parquet('{path}')").fetchall()
        extra = {}
elif what == "ydata":
    import logging, warnings
    warnings.filterwarnings("ignore")
    logging.disable(logging.CRITICAL)
    import pandas as pd
    from ydata_profiling import ProfileReport
    df = pd.read_parquet(path)
    ProfileReport(df, minimal=True, progress_bar=False).get_description()
    extra = {}
elif what == "whylogs":
    import pandas as pd
    import whylogs as why
    df = pd.read_parquet(path)
    why.log(pandas=df).view()
    extra = {}
seconds = time.perf_counter() - t0
use = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"seconds": seconds, "cpu_s": use.ru_utime + use.ru_stime,
                  "rss_mb": use.ru_maxrss / 1024, **extra}))
"""


def child(what: str, path: str, python: str = sys.executable, timeout: float = 900) -> dict:
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "src"), "WHYLOGS_NO_ANALYTICS": "1",
           "YDATA_PROFILING_NO_ANALYTICS": "1"}
    res = subprocess.run([python, "-c", CHILD, what, path], capture_output=True, text=True,
                         timeout=timeout, env=env)
    if res.returncode != 0:
        raise RuntimeError(f"{what} failed: {res.stderr.strip().splitlines()[-1:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def drift_timing(path_a: str, path_b: str) -> dict:
    import duckdb

    from steward.meta.profiles import load_profile, save_profile
    from steward.meta.store import Metastore
    from steward.profile.compute import compute_profile
    from steward.profile.drift import compare

    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    tmp = tempfile.mkdtemp()
    ms = Metastore(f"sqlite:///{tmp}/meta.db")
    save_profile(ms, "bench.table", "v1", compute_profile(con, [path_a]))
    save_profile(ms, "bench.table", "v2", compute_profile(con, [path_b]))
    times = []
    result = None
    for _ in range(50):
        t0 = time.perf_counter()
        a, b = load_profile(ms, "v1"), load_profile(ms, "v2")
        result = compare(a, b)
        times.append(time.perf_counter() - t0)
    shutil.rmtree(tmp, ignore_errors=True)
    worst = max(result["columns"].items(), key=lambda kv: kv[1]["psi"] or 0)
    return {"median_ms": statistics.median(times) * 1000, "max_ms": max(times) * 1000,
            "worst_column": worst[0], "worst_psi": worst[1]["psi"]}


def flights_overhead(repeat: int) -> dict | None:
    src = os.path.join(ROOT, "examples", "flights")
    if not os.path.exists(os.path.join(src, "steward.yaml")):
        return None
    code = r"""
import sys, time
from steward.context import Context
class NoProfile(Context):
    def post_build_hooks(self):
        return [h for h in super().post_build_hooks() if type(h).__name__ != "ProfileGate"]
    def published_hooks(self):
        return [h for h in super().published_hooks() if type(h).__name__ != "ProfileOnPublish"]
cls = Context if sys.argv[2] == "on" else NoProfile
ctx = cls(sys.argv[1])
t0 = time.perf_counter()
r = ctx.run()
print(time.perf_counter() - t0, r.status)
"""
    out: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(repeat):
        for mode in ("off", "on"):
            tmp = tempfile.mkdtemp()
            proj = os.path.join(tmp, "flights")
            shutil.copytree(src, proj, ignore=shutil.ignore_patterns(".steward"))
            env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "src")}
            res = subprocess.run([sys.executable, "-c", code, proj, mode], capture_output=True,
                                 text=True, env=env, cwd=proj, timeout=900)
            shutil.rmtree(tmp, ignore_errors=True)
            if res.returncode != 0:
                return {"error": (res.stderr.strip().splitlines() or ["?"])[-1]}
            out[mode].append(float(res.stdout.split()[0]))
    on, off = statistics.median(out["on"]), statistics.median(out["off"])
    return {"with_s": on, "without_s": off, "overhead_pct": (on - off) / off * 100}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-flights", action="store_true")
    a = ap.parse_args()
    sys.path.insert(0, HERE)
    sys.path.insert(0, os.path.join(ROOT, "src"))
    from data import generate

    path = generate(os.path.join(WORK, f"table_{a.rows}.parquet"), a.rows)
    shifted = generate(os.path.join(WORK, "table_shifted_200k.parquet"), 200_000, shift=0.5)
    print(f"table: {path} ({a.rows:,} rows x 12 columns, "
          f"{os.path.getsize(path) / 2**20:.0f} MB), {os.cpu_count()} cores, "
          f"load average {os.getloadavg()[0]:.1f}")

    runs: dict[str, list[dict]] = {"steward": [], "summarize": []}
    for _ in range(a.repeat):  # alternate, so a busy machine slows both alike
        for what in ("summarize", "steward"):
            runs[what].append(child(what, path))
    med = {w: {k: statistics.median(r[k] for r in rs) for k in ("seconds", "cpu_s", "rss_mb")}
           for w, rs in runs.items()}
    st, su = med["steward"], med["summarize"]
    # CPU seconds are reported too: on a shared machine they move less than wall time
    print(f"\n{'tool':28s} {'seconds':>9s} {'CPU s':>7s} {'peak RSS MB':>12s} "
          f"{'time ratio':>11s} {'CPU ratio':>10s}")

    def line(label: str, r: dict) -> None:
        print(f"{label:28s} {r['seconds']:9.2f} {r['cpu_s']:7.2f} {r['rss_mb']:12.0f} "
              f"{r['seconds'] / st['seconds']:11.2f} {r['cpu_s'] / st['cpu_s']:10.2f}")

    line("steward profile", st)
    line("duckdb SUMMARIZE", su)
    print(f"  (all runs, s: steward {[round(r['seconds'], 2) for r in runs['steward']]}, "
          f"summarize {[round(r['seconds'], 2) for r in runs['summarize']]}; profile "
          f"{runs['steward'][0]['profile_bytes'] / 1024:.1f} KB of JSON)")

    peers: dict[str, dict | str] = {}
    if not a.no_peers:
        for what, module in (("ydata", "ydata_profiling"), ("whylogs", "whylogs")):
            label = {"ydata": "ydata-profiling minimal", "whylogs": "whylogs"}[what]
            ok = os.path.exists(PEERS_PY) and subprocess.run(
                [PEERS_PY, "-c", f"import {module}"], capture_output=True).returncode == 0
            if not ok:
                peers[label] = "not installed (benchmarks/_work/peers-venv)"
                continue
            try:
                peers[label] = child(what, path, PEERS_PY)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                peers[label] = f"failed: {e}"
        for label, r in peers.items():
            if isinstance(r, dict):
                line(label, r)
            else:
                print(f"{label:28s} {r}")

    d = drift_timing(path, shifted)
    print(f"\ndrift from stored profiles: median {d['median_ms']:.2f} ms, max {d['max_ms']:.2f} ms "
          f"(load both from SQLite + compare; most drifted: {d['worst_column']} "
          f"psi {d['worst_psi']:.3f})")

    fl = None if a.no_flights else flights_overhead(max(1, a.repeat - 1))
    if fl and "error" not in fl:
        print(f"flights example build: {fl['with_s']:.2f} s with profiling, "
              f"{fl['without_s']:.2f} s without: {fl['overhead_pct']:+.1f} %")
    elif fl:
        print(f"flights example: {fl['error']}")

    print("\nfloors:")
    ok = "ok" if st["seconds"] <= su["seconds"] else "MISSED"
    print(f"  profile no slower than SUMMARIZE: {ok} ({st['seconds']:.2f} s vs "
          f"{su['seconds']:.2f} s)")
    ok = "ok" if st["rss_mb"] < 400 else "MISSED"
    print(f"  peak RSS < 400 MB: {ok} ({st['rss_mb']:.0f} MB)")
    print(f"  drift < 50 ms: {'ok' if d['max_ms'] < 50 else 'MISSED'} ({d['max_ms']:.1f} ms max)")
    yd = peers.get("ydata-profiling minimal")
    if isinstance(yd, dict):
        r = yd["seconds"] / st["seconds"]
        print(f"  >= 10x faster than ydata-profiling minimal: {'ok' if r >= 10 else 'MISSED'} "
              f"({r:.1f}x)")
    if fl and "error" not in fl:
        print(f"  profiling adds <= 25 % to the flights build: "
              f"{'ok' if fl['overhead_pct'] <= 25 else 'MISSED'} ({fl['overhead_pct']:+.1f} %)")


if __name__ == "__main__":
    main()
