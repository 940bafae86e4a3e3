"""Spark engine overhead: the same generated project built on DuckDB and on Spark (local).

The project is :mod:`benchmarks.generate`'s (N trivial SQL products over a 1,000-row
source, the DAG the 1,000-product benchmark uses; dbt's numbers for it come from
``benchmarks/run.py``). Each engine builds it from scratch in its own copy, in one
process each (``steward run``); reported: wall time, per-product time (wall / N), the
Spark session's start, and a no-op run on the Spark project, which must not start a
session (it stays well under a second).

Spark in local mode is expected to be much slower on data this small: each product is a
few Spark jobs. The ratio is the point, printed beside DuckDB's in the same run.

    python benchmarks/spark_overhead.py [--products 50] [--dir benchmarks/_work/spark]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from generate import generate  # noqa: E402

SPARK = ('engine: {type: spark, master: "local[2]", conf: {spark.sql.shuffle.partitions: 2, '
         'spark.ui.enabled: false}}\n')


def steward(root: str, *args: str) -> float:
    exe = os.path.join(os.path.dirname(sys.executable), "steward")
    t0 = time.perf_counter()
    subprocess.run([exe, *args], cwd=root, check=True, capture_output=True)
    return time.perf_counter() - t0


def session_start() -> float:
    code = ("import time; t=time.perf_counter(); from pyspark.sql import SparkSession; "
            "s=SparkSession.builder.master('local[2]').config('spark.ui.enabled','false')"
            ".getOrCreate(); s.sql('select 1').collect(); print(time.perf_counter()-t)")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True)
    return float(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=50)
    ap.add_argument("--dir", default=os.path.join("benchmarks", "_work", "spark"))
    a = ap.parse_args()
    duck, _, nodes = generate(a.products, os.path.join(a.dir, "duckdb"))
    spark = os.path.join(a.dir, "spark-project")
    shutil.rmtree(spark, ignore_errors=True)
    shutil.copytree(duck, spark)
    with open(os.path.join(spark, "steward.yaml"), "a") as f:
        f.write(SPARK)
    n = len(nodes) + 1  # and the source
    t_duck = steward(duck, "run")
    t_spark = steward(spark, "run")
    t_noop = steward(spark, "run")
    t_start = session_start()
    print(f"{n} products (1,000 rows each), built from scratch")
    print(f"  duckdb  {t_duck:8.2f} s   {1000 * t_duck / n:8.1f} ms/product")
    print(f"  spark   {t_spark:8.2f} s   {1000 * t_spark / n:8.1f} ms/product   "
          f"({t_spark / t_duck:.1f}x duckdb; a local session starts in {t_start:.1f} s)")
    print(f"  spark no-op run {t_noop:.2f} s (no session started)")


if __name__ == "__main__":
    main()
