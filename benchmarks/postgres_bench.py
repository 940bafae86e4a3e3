"""The PostgreSQL metastore against the embedded SQLite default, in the same run.

    .venv/bin/python benchmarks/postgres_bench.py [--products 1000]

Two copies of one generated project (benchmarks/generate.py) differ only in their
``metastore:``: SQLite in ``.steward/meta.db``, or a database of a throwaway PostgreSQL
cluster started here (tests/pg.py: initdb and pg_ctl on 127.0.0.1). For each: the first
full build, then a no-op ``steward run`` (median of 3, a new process each, as a user
types it). Floors: a no-op run of 1,000 products on PostgreSQL under 2 s; a first build
on PostgreSQL within 1.5x of SQLite's.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from generate import generate  # noqa: E402

STEWARD = [str(Path(sys.executable).parent / "steward")]  # the executable, as users run it


def run(root: str) -> float:
    t0 = time.perf_counter()
    p = subprocess.run([*STEWARD, "run"], cwd=root, capture_output=True, text=True,
                       timeout=3600, env={**os.environ, "STEWARD_ACTOR": "bench"})
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"steward run failed in {root}:\n{p.stderr[-2000:]}")
    return wall


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=1000)
    args = ap.parse_args()
    from tests import pg

    cluster = pg.cluster()
    work = tempfile.mkdtemp(prefix="steward-pg-bench-")
    try:
        st, _, _ = generate(args.products, os.path.join(work, "gen"))
        roots = {"sqlite": st, "postgresql": os.path.join(work, "pg")}
        shutil.copytree(st, roots["postgresql"])
        url = cluster.url(cluster.create_database("bench"))
        yaml = Path(roots["postgresql"]) / "steward.yaml"
        yaml.write_text(yaml.read_text() + f"metastore: {url}\n")
        first, noop = {}, {}
        for kind, root in roots.items():
            print(f"{kind}: first build of {args.products} products ...", flush=True)
            first[kind] = run(root)
            noop[kind] = statistics.median(run(root) for _ in range(3))
        print("\n| metastore | first build | no-op run |\n| --- | --- | --- |")
        for kind in roots:
            print(f"| {kind} | {first[kind]:.2f} s | {noop[kind]:.2f} s |")
        build_ratio = first["postgresql"] / first["sqlite"]
        ok_noop = noop["postgresql"] < 2.0
        ok_build = build_ratio <= 1.5
        print(f"\nfloor: no-op run of {args.products} products on PostgreSQL < 2 s: "
              f"{noop['postgresql']:.2f} s {'ok' if ok_noop else 'OVER FLOOR'}")
        print(f"floor: first build on PostgreSQL within 1.5x of SQLite: {build_ratio:.2f}x "
              f"{'ok' if ok_build else 'OVER FLOOR'}")
        return 0 if ok_noop and ok_build else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
