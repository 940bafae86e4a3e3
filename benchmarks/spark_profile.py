"""The profile of one large Parquet file on the Spark engine, query by query.

Starts a local Spark session (``local[2]``), profiles the file with the SQL path of
:func:`steward.profile.compute.compute_profile` (the path of versions over 100,000 rows)
and prints each query it sent: seconds and the Spark jobs it ran. Run it with another
checkout's ``src`` first on ``PYTHONPATH`` to compare a change with it.

    python benchmarks/spark_profile.py benchmarks/_work/lineitem/lineitem-2000000.parquet
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from typing import Any


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("path", help="a Parquet file (spark_lineitem.py writes one)")
    a = ap.parse_args()
    from steward.core.spec import SparkEngineSpec
    from steward.engine.spark import SparkEngine
    from steward.profile.compute import compute_profile

    root = tempfile.mkdtemp(prefix="spark-profile-")
    with open(os.path.join(root, "steward.yaml"), "w") as f:
        f.write("name: p\n")
    engine = SparkEngine(SparkEngineSpec(type="spark", conf={
        "spark.ui.enabled": False, "spark.driver.memory": "2g"}), root)
    engine.start()
    tracker = engine.session.sparkContext.statusTracker()

    def timed(name: str) -> None:
        method = getattr(engine, name)

        def run(query: Any) -> Any:
            jobs, t = len(tracker.getJobIdsForGroup(None)), time.perf_counter()
            out = method(query)
            print(f"  {name:5} {time.perf_counter() - t:6.1f} s  "
                  f"{len(tracker.getJobIdsForGroup(None)) - jobs:2} Spark jobs  "
                  f"{str(query)[:70]}", flush=True)
            return out

        setattr(engine, name, run)

    for name in ("first", "rows"):
        timed(name)
    t = time.perf_counter()
    p = compute_profile(engine, [os.path.abspath(a.path)])
    print(f"profile of {p['rows']:,} rows, {p['column_count']} columns: "
          f"{time.perf_counter() - t:.1f} s, {len(tracker.getJobIdsForGroup(None))} Spark "
          f"jobs in the session; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    engine.stop()


if __name__ == "__main__":
    main()
