"""An incremental product against its full rebuild, in the same run.

A source of N rows (Parquet files in a folder) feeds ``marts.events``, an incremental
product (merge on ``id``, new rows: ``id > max(id)`` of the previous version). A file of
1 % new rows lands; the product's build step is timed, then the same product is rebuilt
from scratch (``--full-refresh``) and timed. The source's own ingestion is the same in
both and is not counted. Floor: the incremental build is at least 20x faster.

    python benchmarks/incremental_bench.py [--rows 10000000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile

import duckdb

from steward.context import Context

FLOOR = 20.0


def make_project(root: str, rows: int) -> None:
    os.makedirs(os.path.join(root, "data", "events"))
    os.makedirs(os.path.join(root, "models", "marts"))
    os.makedirs(os.path.join(root, "sources"))
    with open(os.path.join(root, "steward.yaml"), "w") as f:
        f.write("name: incbench\n")
    with open(os.path.join(root, "sources", "raw.yml"), "w") as f:
        f.write("sources:\n  raw.events:\n    path: data/events/*.parquet\n")
    with open(os.path.join(root, "models", "marts", "events.sql"), "w") as f:
        f.write("select id, customer, amount, amount * 1.2 as gross,\n"
                "       upper(kind) as kind, day\nfrom raw.events\n")
    with open(os.path.join(root, "models", "marts", "events.yml"), "w") as f:
        f.write("materialize: incremental\nincremental:\n  unique_key: id\n"
                "  where: \"id > (select max(id) from {{ this }})\"\n")
    write_rows(root, "part-0.parquet", 0, rows)


def write_rows(root: str, name: str, start: int, n: int) -> None:
    out = os.path.join(root, "data", "events", name)
    duckdb.sql(
        f"COPY (SELECT i AS id, 'c' || (i % 100000) AS customer, (i % 1000) / 10.0 AS amount,"
        f" CASE WHEN i % 3 = 0 THEN 'web' ELSE 'shop' END AS kind,"
        f" DATE '2026-01-01' + CAST(i // 100000 AS INTEGER) AS day"
        f" FROM range({start}, {start + n}) t(i)) TO '{out}' (FORMAT parquet)")


def step_seconds(ctx: Context, run_id: str, product: str) -> float:
    steps = [s for s in ctx.run_steps(run_id) if s.product == product]
    assert steps and steps[0].status == "built", steps
    return float(steps[0].duration_s or 0.0)


def measure(rows: int) -> tuple[float, float]:
    """(incremental build, full rebuild) of marts.events, in seconds."""
    root = tempfile.mkdtemp(prefix="steward-incbench-")
    try:
        make_project(root, rows)
        assert Context(root).run().ok
        write_rows(root, "part-1.parquet", rows, rows // 100)
        inc = Context(root).run()
        assert inc.ok
        t_inc = step_seconds(Context(root), inc.run_id, "marts.events")
        full = Context(root).run(["marts.events"], full_refresh=True)
        assert full.ok
        t_full = step_seconds(Context(root), full.run_id, "marts.events")
        n = Context(root).sql("SELECT count(*) AS n FROM marts.events").to_pylist()[0]["n"]
        assert n == rows + rows // 100, n
        return t_inc, t_full
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    args = ap.parse_args()
    # the whole step: the build, then the gate (checks, a profile of every row, PII)
    step = measure(args.rows)
    # the build alone: post-build and published hooks off (as benchmarks/run.py's core)
    Context.post_build_hooks = lambda self: []  # type: ignore[method-assign]
    Context.published_hooks = lambda self: []  # type: ignore[method-assign]
    core = measure(args.rows)
    total = args.rows + args.rows // 100
    print(f"{'measure':<46} {'rows':>11} {'incr s':>7} {'full s':>7} {'speedup':>8}")
    for label, (t_inc, t_full) in (("build (engine only, hooks off)", core),
                                   ("whole step (build + gate + profile)", step)):
        print(f"{label:<46} {total:>11,} {t_inc:>7.2f} {t_full:>7.2f} "
              f"{t_full / t_inc if t_inc else float('inf'):>7.1f}x")
    ratio = core[1] / core[0] if core[0] else float("inf")
    ok = ratio >= FLOOR
    print(f"floor: incremental build >= {FLOOR:.0f}x faster than its full rebuild: "
          f"{ratio:.1f}x {'ok' if ok else 'BELOW FLOOR'}")
    print("(the gate profiles every row of the new version, incremental or not: that part "
          "costs the same in both)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
