"""Operations on a catalog-sized project: ``/metrics``, delivery metrics and maturity.

On a generated project of N products (``serve_project.py``), each with a freshness SLO,
a month of freshness samples every six hours (the heartbeat) with a breach of an hour a
day (two transitions more) for each product, and
E audit events (promotions and rollbacks into prod), this measures, in-process:

- **/metrics**: the exposition a scrape gets (the server's route calls the same function);
- **delivery**: ``steward delivery`` over 30 days;
- **maturity**: ``steward maturity``.

The peer of each is reading every current version of the default environment
(``Context.current``), the least a status page does. Floors (the issue's):
/metrics < 100 ms, delivery and maturity < 1 s.

    python benchmarks/ops_bench.py --products 1000 --events 10000
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from serve_project import build  # noqa: E402

FLOORS_S = {"metrics": 0.100, "delivery": 1.0, "maturity": 1.0}


def timed(fn, repeat: int = 5) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--days", type=int, default=30)
    args = ap.parse_args()
    root = os.path.join(tempfile.mkdtemp(prefix="ops-bench-"), "p")
    print("building", build(root, args.products))
    for dirpath, _, files in os.walk(os.path.join(root, "models")):
        for f in files:
            if f.endswith(".yml"):
                with open(os.path.join(dirpath, f), "a") as fh:
                    fh.write("freshness: {max_age: 6h}\n")

    from steward.context import Context
    from steward.meta.ops import add_samples

    ctx = Context(root)
    now = datetime.now(UTC)
    current = ctx.current()
    names = sorted(ctx.project.products)
    rows = []
    for name in names:
        t = now - timedelta(days=args.days)
        while t < now:
            # the heartbeat every six hours, and a breach of an hour once a day
            steps = ((0, "ok"), (1, "breach"), (2, "ok"), (6, "ok"), (12, "ok"), (18, "ok"))
            for off, status in steps:
                rows.append({"product": name, "env": "prod", "at": t + timedelta(hours=off),
                             "age_s": 60.0, "limit_s": 21600.0, "status": status})
            t += timedelta(days=1)
    add_samples(ctx.metastore, rows)
    some = sorted(current)[:20]
    events = [{"actor": "bench", "action": "promote" if i % 10 else "rollback",
               "targets": some, "ts": (now - timedelta(minutes=4 * (args.events - i))).isoformat(),
               "after": {"env": "prod", "pointers": {p: current[p].id for p in some}}}
              for i in range(args.events)]
    ctx.audit_trail().append_many(events)
    print(f"{len(rows):,} freshness samples, {args.events:,} audit events")

    from steward.ops.delivery import delivery_metrics
    from steward.ops.freshness import evaluate, report
    from steward.ops.maturity import maturity
    from steward.ops.prom import exposition

    ctx = Context(root)
    peer = timed(lambda: ctx.current())
    # the server's watch pass (every minute, off the request path) keeps the report that
    # /metrics exposes; the pass is timed too, for the record
    t = time.perf_counter()
    docs = report(ctx, results=evaluate(ctx))
    kept = delivery_metrics(ctx)
    print(f"watch pass (freshness of {len(docs)} products, 30 days): "
          f"{(time.perf_counter() - t) * 1000:.0f} ms")
    # a scrape renders the exposition once per change (the server keeps the text while
    # nothing changed, at most ten seconds); this is that rendering, the cold path
    got = {"metrics": timed(lambda: exposition(ctx, freshness=docs, delivery=kept)),
           "delivery": timed(lambda: delivery_metrics(ctx)),
           "maturity": timed(lambda: maturity(ctx, keep=False))}
    print(f"peer (Context.current): {peer * 1000:.1f} ms")
    for k, v in got.items():
        ok = "ok" if v < FLOORS_S[k] else "OVER FLOOR"
        print(f"{k:<9} {v * 1000:8.1f} ms  {v / peer:6.1f}x the peer  "
              f"(floor {FLOORS_S[k] * 1000:.0f} ms: {ok})")


if __name__ == "__main__":
    main()
