"""Does handing DuckDB several ``COPY`` statements per call help when Python is busy?

A build's ``COPY`` takes about three times as long inside ``steward run`` as alone: the
engine's calls and DuckDB's checks for signals take the interpreter back while the other
build thread runs Python. This micro-benchmark isolates that: two threads each run N
``COPY`` statements (a join of two 1,000-row Parquet files into a new one, zstd), and
after each product spend ``--work`` ms of pure-Python CPU (what a build's gate, profile
and publication cost per product). With ``--batch K`` a thread hands DuckDB K statements
in one call, then does the K products' Python work. Alternating rounds, wall and CPU.

    python benchmarks/copy_batching.py --n 500 --work 3 --batch 1 8 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import tempfile
import threading
import time

import duckdb

QUERY = ("COPY (SELECT a.id, upper(a.grp) AS grp, a.amount + 1 AS amount, "
         "(a.score * 1.01)::DOUBLE AS score, a.day + 1 AS day, NOT a.flag AS flag "
         "FROM read_parquet('{seed}') a JOIN read_parquet('{seed}') b USING (id)) "
         "TO '{out}' (FORMAT parquet, COMPRESSION zstd)")
SEED = ("COPY (SELECT range AS id, (range * 1.5)::DECIMAL(12,2) AS amount, range * 0.1 AS "
        "score, DATE '2020-01-01' + (range % 100)::INTEGER AS day, 'g' || (range % 7) AS grp, "
        "range % 2 = 0 AS flag FROM range(1000)) TO '{seed}' (FORMAT parquet, COMPRESSION zstd)")


def python_work(ms: float) -> None:
    """``ms`` milliseconds of this thread's CPU in the interpreter."""
    end = time.thread_time() + ms / 1000
    x = 0
    while time.thread_time() < end:
        for i in range(200):
            x += i * i


def one_round(n: int, work_ms: float, batch: int, folder: str) -> tuple[float, float]:
    db = duckdb.connect()
    seed = os.path.join(folder, "seed.parquet")
    db.execute(SEED.format(seed=seed))

    def worker(k: int) -> None:
        cur = db.cursor()
        for start in range(0, n, batch):
            count = min(batch, n - start)
            cur.execute(";\n".join(
                QUERY.format(seed=seed, out=os.path.join(folder, f"o{k}_{(start + j) % 8}.parquet"))
                for j in range(count)))
            for _ in range(count):
                python_work(work_ms)

    t0, c0 = time.perf_counter(), time.process_time()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    db.close()
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=500, help="products per thread")
    ap.add_argument("--work", type=float, default=3.0, help="Python ms per product")
    ap.add_argument("--batch", type=int, nargs="+", default=[1, 8])
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for r in range(args.rounds):
            for batch in args.batch:
                wall, cpu = one_round(args.n, args.work, batch, folder)
                print(f"round {r + 1}: batch {batch:3d}, {2 * args.n} products, "
                      f"{args.work} ms Python each: {wall:.2f} s ({cpu:.2f} s CPU)", flush=True)


if __name__ == "__main__":
    main()
