"""The team setup (PostgreSQL metastore + S3 store) against the embedded default, in one run.

    .venv/bin/python benchmarks/team_bench.py [--products 1000] [--skip-flights]

Starts a throwaway PostgreSQL cluster (tests/pg.py) and an S3-compatible server (moto in
server mode on 127.0.0.1, tests/store/conftest.py), then measures, each command in a new
process as a user types it:

- a generated project of N products (benchmarks/generate.py): first build and no-op run
  (median of 3), embedded (SQLite + local folder) against PostgreSQL + S3;
- the flights example (examples/flights): first full build, embedded against PostgreSQL + S3.

Floors: a no-op run of 1,000 products with PostgreSQL and S3 under 2 s; the flights
example's first build with PostgreSQL and S3 within 1.5x of the embedded default's.
The S3 server is local, so this measures Steward's own cost of the seams (uploads,
listings, the read-through cache, metastore round trips), not a network.
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
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from generate import generate  # noqa: E402

STEWARD = str(Path(sys.executable).parent / "steward")
EXAMPLE = HERE.parent / "examples" / "flights"


def run(root: str, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    p = subprocess.run([STEWARD, "run"], cwd=root, capture_output=True, text=True,
                       timeout=3600, env={**os.environ, **env, "STEWARD_ACTOR": "bench"})
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise SystemExit(f"steward run failed in {root}:\n{p.stderr[-2000:]}")
    return wall


def team_copy(src: str, dst: str, metastore: str, bucket: str) -> None:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".steward", "__pycache__"))
    yaml = Path(dst) / "steward.yaml"
    yaml.write_text(yaml.read_text() + f"\nmetastore: {metastore}\nstore: s3://{bucket}/p\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--skip-flights", action="store_true")
    args = ap.parse_args()
    from tests import pg
    from tests.store.conftest import S3_ENV, start_moto

    cluster = pg.cluster()
    moto, endpoint = start_moto()
    s3env = {**S3_ENV, "AWS_ENDPOINT_URL": endpoint}
    os.environ.update(s3env)
    from steward.store.s3 import ArrowS3

    fs = ArrowS3(allow_bucket_creation=True).fs
    work = tempfile.mkdtemp(prefix="steward-team-bench-")
    rows: list[tuple[str, str, float, float]] = []
    ok = True
    try:
        gen, _, _ = generate(args.products, os.path.join(work, "gen"))
        bucket = "bench-" + uuid.uuid4().hex[:8]
        fs.create_dir(bucket)
        team = os.path.join(work, "gen-team")
        team_copy(gen, team, cluster.url(cluster.create_database("gen")), bucket)
        first, noop = {}, {}
        for kind, root in (("embedded", gen), ("postgresql + s3", team)):
            print(f"{kind}: first build of {args.products} products ...", flush=True)
            first[kind] = run(root, s3env)
            noop[kind] = statistics.median(run(root, s3env) for _ in range(3))
            rows.append((f"{args.products} products", kind, first[kind], noop[kind]))
        t_noop = noop["postgresql + s3"]
        print(f"floor: no-op run of {args.products} products with PostgreSQL and S3 < 2 s: "
              f"{t_noop:.2f} s {'ok' if t_noop < 2 else 'OVER FLOOR'}")
        ok &= t_noop < 2
        if not args.skip_flights:
            flights = os.path.join(work, "flights")
            shutil.copytree(EXAMPLE, flights,
                            ignore=shutil.ignore_patterns(".steward", "__pycache__"))
            fbucket = "flights-" + uuid.uuid4().hex[:8]
            fs.create_dir(fbucket)
            fteam = os.path.join(work, "flights-team")
            team_copy(str(EXAMPLE), fteam, cluster.url(cluster.create_database("flights")),
                      fbucket)
            fl = {}
            for kind, root in (("embedded", flights), ("postgresql + s3", fteam)):
                print(f"{kind}: first build of the flights example ...", flush=True)
                fl[kind] = run(root, s3env)
                rows.append(("flights example", kind, fl[kind], float("nan")))
            ratio = fl["postgresql + s3"] / fl["embedded"]
            print(f"floor: flights first build with PostgreSQL and S3 within 1.5x of the "
                  f"embedded default: {ratio:.2f}x {'ok' if ratio <= 1.5 else 'OVER FLOOR'}")
            ok &= ratio <= 1.5
        print("\n| project | state | first build | no-op run |\n| --- | --- | --- | --- |")
        for project, kind, f, n in rows:
            shown = "" if n != n else f"{n:.2f} s"
            print(f"| {project} | {kind} | {f:.2f} s | {shown} |")
        return 0 if ok else 1
    finally:
        moto.terminate()
        moto.wait(timeout=10)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
