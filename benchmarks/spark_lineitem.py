"""A larger table on both engines: a TPC-H ``lineitem``-shaped table and a three-product
pipeline, built by Steward on DuckDB and on Spark (local mode) in the same run.

The data is generated with DuckDB SQL (deterministic hashes of the row number, TPC-H's
columns, types and value ranges; DuckDB's ``tpch`` extension is not needed) into one
Parquet file, the project's file source ``raw.lineitem``. The pipeline:

- ``staging.lineitem``: every row up to TPC-H Q1's ship date, with the discounted price
  and the charge computed;
- ``marts.pricing_summary``: TPC-H Q1 (sums, averages and counts by return flag and
  line status);
- ``marts.shipmode_monthly``: revenue and quantity by ship mode and month.

Each engine builds the project from scratch (``steward run --json``: source, three
products, their checks and profiles), in a fresh copy, one process, alternating engines
for ``--repeat`` rounds. Reported per engine: wall time and peak RSS of the process tree
(the Spark JVM included), as median and spread, and per round each product's build time
and the run's phases, from the run's own events.

    python benchmarks/spark_lineitem.py [--rows 6000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from run import Measure, measure, phases_of  # noqa: E402

STEWARD = os.path.join(os.path.dirname(sys.executable), "steward")
SPARK = ('engine: {type: spark, master: "local[2]", conf: {spark.ui.enabled: false, '
         'spark.driver.memory: 2g}}\n')

LINEITEM = """
COPY (
  SELECT
    (i // 4 + 1)::BIGINT AS l_orderkey,
    ((hash(i, 1) % 200000)::BIGINT + 1)::BIGINT AS l_partkey,
    ((hash(i, 2) % 10000)::BIGINT + 1)::BIGINT AS l_suppkey,
    (i % 4 + 1)::INTEGER AS l_linenumber,
    ((hash(i, 3) % 50)::BIGINT + 1)::DECIMAL(15, 2) AS l_quantity,
    (((hash(i, 4) % 9000000)::BIGINT + 90000) / 100)::DECIMAL(15, 2) AS l_extendedprice,
    (((hash(i, 5) % 11)::BIGINT) / 100)::DECIMAL(15, 2) AS l_discount,
    (((hash(i, 6) % 9)::BIGINT) / 100)::DECIMAL(15, 2) AS l_tax,
    ['R', 'A', 'N'][(hash(i, 7) % 3)::BIGINT + 1] AS l_returnflag,
    ['O', 'F'][(hash(i, 8) % 2)::BIGINT + 1] AS l_linestatus,
    (DATE '1992-01-02' + ((hash(i, 9) % 2526)::BIGINT)::INTEGER) AS l_shipdate,
    (DATE '1992-01-31' + ((hash(i, 10) % 2466)::BIGINT)::INTEGER) AS l_commitdate,
    (DATE '1992-01-03' + ((hash(i, 11) % 2556)::BIGINT)::INTEGER) AS l_receiptdate,
    ['DELIVER IN PERSON', 'COLLECT COD', 'NONE', 'TAKE BACK RETURN'][(hash(i, 12) % 4)::BIGINT + 1]
      AS l_shipinstruct,
    ['REG AIR', 'AIR', 'RAIL', 'SHIP', 'TRUCK', 'MAIL', 'FOB'][(hash(i, 13) % 7)::BIGINT + 1]
      AS l_shipmode,
    'comment ' || ((hash(i, 14) % 100000)::BIGINT)::VARCHAR AS l_comment
  FROM range({rows}) t(i)
) TO '{path}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)
"""

FILES = {
    "steward.yaml": "name: lineitem\ndefaults:\n  owner: bench@example.com\n",
    "sources/raw.yml": "sources:\n  raw.lineitem: {path: data/lineitem.parquet}\n",
    "models/staging/lineitem.sql": """\
select l_orderkey, l_linenumber, l_returnflag, l_linestatus, l_shipmode, l_shipdate,
  l_quantity, l_extendedprice, l_discount, l_tax,
  l_extendedprice * (1 - l_discount) as disc_price,
  l_extendedprice * (1 - l_discount) * (1 + l_tax) as charge
from raw.lineitem
where l_shipdate <= date '1998-09-02'
""",
    "models/marts/pricing_summary.sql": """\
select l_returnflag, l_linestatus,
  sum(l_quantity) as sum_qty, sum(l_extendedprice) as sum_base_price,
  sum(disc_price) as sum_disc_price, sum(charge) as sum_charge,
  avg(l_quantity) as avg_qty, avg(l_extendedprice) as avg_price,
  avg(l_discount) as avg_disc, count(*) as count_order
from staging.lineitem
group by l_returnflag, l_linestatus
order by l_returnflag, l_linestatus
""",
    "models/marts/shipmode_monthly.sql": """\
select l_shipmode, cast(year(l_shipdate) as integer) as ship_year,
  cast(month(l_shipdate) as integer) as ship_month,
  sum(disc_price) as revenue, sum(l_quantity) as quantity, count(*) as lines
from staging.lineitem
group by l_shipmode, year(l_shipdate), month(l_shipdate)
""",
}


def make_project(root: str, data: str, engine: str) -> None:
    shutil.rmtree(root, ignore_errors=True)
    for rel, text in FILES.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(text + (SPARK if rel == "steward.yaml" and engine == "spark" else ""))
    os.makedirs(os.path.join(root, "data"))
    os.symlink(data, os.path.join(root, "data", "lineitem.parquet"))


def _steps(json_lines: str) -> dict[str, float]:
    """Seconds each product's build took, from ``steward run --json``'s events."""
    import json

    out = {}
    for line in json_lines.splitlines():
        if line.startswith('{"event": "step_finished"'):
            event = json.loads(line)
            out[event["product"]] = float(event.get("duration_s") or event.get("seconds") or 0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=6_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--dir", default=os.path.join("benchmarks", "_work", "lineitem"))
    a = ap.parse_args()
    import duckdb

    work = os.path.abspath(a.dir)
    os.makedirs(work, exist_ok=True)
    data = os.path.join(work, f"lineitem-{a.rows}.parquet")
    if not os.path.exists(data):
        duckdb.sql(LINEITEM.format(rows=a.rows, path=data + ".tmp"))
        os.replace(data + ".tmp", data)
    size = os.path.getsize(data) / 2**20
    runs: dict[str, list[Measure]] = {"duckdb": [], "spark": []}
    outputs: dict[str, str] = {}
    for r in range(a.repeat):
        for engine in ("duckdb", "spark") if r % 2 == 0 else ("spark", "duckdb"):
            root = os.path.join(work, engine)
            make_project(root, data, engine)
            m = measure([STEWARD, "run", "--json"], root)
            if m.failed:
                sys.exit(f"{engine} failed:\n{m.out[-3000:]}")
            runs[engine].append(m)
            steps = _steps(m.out)
            phases = ", ".join(f"{k} {v:.1f} s" for k, v in phases_of(m.out).items())
            print(f"  round {r + 1} {engine:<6} {m.wall:7.1f} s {m.rss_mb:7.0f} MB;  builds: "
                  f"{', '.join(f'{p} {d:.1f} s' for p, d in steps.items())};  phases: "
                  f"{phases}", flush=True)
            outputs[engine] = root
    print(f"lineitem: {a.rows:,} rows ({size:.0f} MB Parquet); source + 3 products, "
          f"from scratch, {a.repeat} round(s)")
    for engine, ms in runs.items():
        walls = [m.wall for m in ms]
        mem = [m.rss_mb for m in ms]
        print(f"  {engine:<6} wall median {statistics.median(walls):7.1f} s "
              f"(min {min(walls):.1f}, max {max(walls):.1f});  peak RSS median "
              f"{statistics.median(mem):6.0f} MB (min {min(mem):.0f}, max {max(mem):.0f})")
    ratio = statistics.median(m.wall for m in runs["spark"]) / statistics.median(
        m.wall for m in runs["duckdb"])
    print(f"  spark / duckdb wall: {ratio:.1f}x")
    # both engines computed the same marts
    import duckdb as d

    con = d.connect()
    got = {}
    for engine, root in outputs.items():
        store = os.path.join(root, ".steward", "store")
        files = [os.path.join(dp, f) for dp, _, fs in os.walk(store) for f in fs
                 if f.endswith(".parquet") and "pricing_summary" in dp]
        got[engine] = con.sql(
            f"select l_returnflag, l_linestatus, count_order, round(sum_charge, 2) "
            f"from read_parquet({files!r}) order by 1, 2").fetchall()
    print(f"  pricing_summary equal on both engines: {got['duckdb'] == got['spark']}")


if __name__ == "__main__":
    main()
