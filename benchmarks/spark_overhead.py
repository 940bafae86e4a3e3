"""Spark engine overhead: the same generated project built by dbt-duckdb, by Steward on
DuckDB and by Steward on Spark (local mode), in the same run.

The project is :mod:`benchmarks.generate`'s (N trivial SQL products over a 1,000-row
source, the DAG of the 1,000-product benchmark in ``run.py``). Each tool builds it from
scratch in its own copy, one process each, as a user would type it; reported: wall time,
per-product time (wall / products), peak RSS of the process tree (the Spark JVM
included), the time a bare local Spark session takes to start, and no-op runs of the
Spark project beside the DuckDB project's (interleaved, median of 5), with proof that
the Spark one started no session: a separate run of the same command reports whether
``pyspark`` was imported at all.

Spark in local mode is expected to be much slower on data this small: each product is a
Spark job or two. The ratio is the point, printed beside DuckDB's and dbt's. The Spark
build also reports how many Spark jobs it ran (from Spark's event log), and with
``--baseline SRC`` builds the same Spark project once more with Steward's code from
``SRC`` (another checkout's ``src``), in the same run, to compare a change with it.

    python benchmarks/spark_overhead.py [--products 50] [--dir benchmarks/_work/spark]
    python benchmarks/spark_overhead.py --products 20 --baseline ../main/src
    python benchmarks/spark_overhead.py --noop-only   # the no-op runs again, nothing built
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from dbtenv import ensure_dbt  # noqa: E402
from generate import generate  # noqa: E402

from run import DBT_ENV, Measure, measure  # noqa: E402

SPARK = ('engine: {{type: spark, master: "local[2]", conf: {{spark.sql.shuffle.partitions: 2, '
         'spark.ui.enabled: false, spark.eventLog.enabled: true, spark.eventLog.compress: '
         'false, spark.eventLog.dir: "file://{events}"}}}}\n')
STEWARD = os.path.join(os.path.dirname(sys.executable), "steward")

# ``steward <args>`` in this process, then whether PySpark was imported (on stderr)
PROBE = """
import json, sys
sys.argv = ["steward", *json.loads(sys.argv[1])]
from steward.cli.entry import main
try:
    main()
except SystemExit:
    pass
sys.stdout.flush()
sys.stderr.write("\\nPYSPARK_IMPORTED=%s\\n" % ("pyspark" in sys.modules))
"""


def pyspark_imported(root: str, *args: str) -> bool:
    p = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], cwd=root,
                       capture_output=True, text=True, check=False)
    return p.stderr.strip().splitlines()[-1] == "PYSPARK_IMPORTED=True"


def session_start() -> float:
    code = ("import time; t=time.perf_counter(); from pyspark.sql import SparkSession; "
            "s=SparkSession.builder.master('local[2]').config('spark.ui.enabled','false')"
            ".getOrCreate(); s.sql('select 1').collect(); print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)
    return float(out.stdout.strip().splitlines()[-1])


def noops(duck: str, spark: str, k: int = 5) -> None:
    """No-op runs of both projects, interleaved, ``k`` each: the Spark project's must cost
    what the DuckDB project's does (no session, no JVM)."""
    walls: dict[str, list[float]] = {"duckdb": [], "spark": []}
    for _ in range(k):
        for engine, root in (("duckdb", duck), ("spark", spark)):
            m = measure([STEWARD, "run"], root)
            if m.failed or " 0 to build" not in m.out:
                sys.exit(f"{engine} no-op run did something:\n{m.out[-2000:]}")
            walls[engine].append(m.wall)
    imported = pyspark_imported(spark, "run")
    for engine, ws in walls.items():
        print(f"  no-op run, {engine} project: median {statistics.median(ws):.2f} s "
              f"(min {min(ws):.2f}, max {max(ws):.2f}, {k} runs)")
    print(f"  the Spark project's no-op run imported pyspark: {imported}")


def spark_jobs(events: str) -> int:
    """The Spark jobs an event log folder records (every application in it)."""
    n = 0
    for dirpath, _, files in os.walk(events):
        for name in files:
            if name.startswith("events_") or name.startswith("local-"):
                with open(os.path.join(dirpath, name)) as f:
                    n += sum(1 for line in f if '"SparkListenerJobStart"' in line)
    return n


def spark_build(root: str, events: str, src: str | None = None) -> tuple[Measure, int]:
    """``steward run`` of the Spark project from scratch (with Steward's code from ``src``
    when given), and the Spark jobs it ran."""
    shutil.rmtree(os.path.join(root, ".steward"), ignore_errors=True)
    shutil.rmtree(events, ignore_errors=True)
    os.makedirs(events)
    env = {"PYTHONPATH": os.path.abspath(src)} if src else None
    m = measure([STEWARD, "run"], root, env)
    return m, spark_jobs(events)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=50)
    ap.add_argument("--dir", default=os.path.join("benchmarks", "_work", "spark"))
    ap.add_argument("--dbt", default=None, help="dbt executable (default: dbtenv's)")
    ap.add_argument("--noop-only", action="store_true",
                    help="only the no-op runs, on the projects a previous run built")
    ap.add_argument("--baseline", default=None,
                    help="also build the Spark project with Steward's code from this src")
    a = ap.parse_args()
    spark = os.path.join(a.dir, "spark-project")
    events = os.path.abspath(os.path.join(a.dir, "spark-events"))
    if a.noop_only:
        noops(os.path.join(a.dir, "n", "steward"), spark)
        return
    dbt_exe = ensure_dbt(a.dbt)
    duck, dbt_dir, nodes = generate(a.products, os.path.join(a.dir, "n"))
    shutil.rmtree(spark, ignore_errors=True)
    shutil.copytree(duck, spark)
    with open(os.path.join(spark, "steward.yaml"), "a") as f:
        f.write(SPARK.format(events=events))
    n = len(nodes) + 1  # and the source
    m_dbt = measure([dbt_exe, "run", "--profiles-dir", dbt_dir, "--project-dir", dbt_dir],
                    dbt_dir, DBT_ENV)
    m_duck = measure([STEWARD, "run"], duck)
    rows: list[tuple[str, Measure, int | None]] = [
        ("dbt-duckdb", m_dbt, None), ("steward duckdb", m_duck, None)]
    if a.baseline:  # first: the no-op runs below use the last build's state
        rows.append(("spark baseline", *spark_build(spark, events, a.baseline)))
    rows.append(("steward spark", *spark_build(spark, events)))
    for label, m, _ in rows:
        if m.failed:
            sys.exit(f"{label} failed:\n{m.out[-3000:]}")
    t_start = session_start()
    print(f"{n} products (1,000 rows each), built from scratch; peak RSS of the process tree;"
          f" load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for label, m, k in rows:
        jobs_text = f"  {k} Spark jobs ({k / n:.2f}/product)" if k is not None else ""
        print(f"  {label:<15} {m.wall:8.2f} s  {1000 * m.wall / n:8.1f} ms/product  "
              f"{m.rss_mb:7.0f} MB  ({m.wall / m_duck.wall:.1f}x steward duckdb){jobs_text}")
    if a.baseline:
        print(f"  (spark baseline: Steward's code from {a.baseline})")
    print(f"  a bare local Spark session starts in {t_start:.1f} s")
    noops(duck, spark)


if __name__ == "__main__":
    main()
