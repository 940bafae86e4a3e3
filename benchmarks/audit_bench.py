"""Audit trail benchmark: bulk-append N events, then time ``audit verify`` over them.

Floor (issue 6): ``audit verify`` over 1,000,000 events in under 10 s. Printed next to
the peer measured in the same run: a bare loop that only reads the rows back from
SQLite through the same raw cursor, in one process (the I/O floor a serial verify
cannot beat), so the ratio is the cost of hashing. CPU time (all processes) is printed
too: on a shared machine it is the steadier number.

    python benchmarks/audit_bench.py [--events 1000000] [--dir /tmp/audit-bench] [--reuse]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time

from steward.audit.trail import AuditTrail
from steward.meta import audit as q
from steward.meta.store import Metastore


def events(n: int):  # noqa: ANN201 - a generator of plain dicts
    actions = ("run", "promote", "rollback", "gc", "config")
    for i in range(n):
        p = f"domain{i % 50}.product{i % 1000}"
        yield {"actor": f"user{i % 17}", "action": actions[i % 5], "targets": [p],
               "before": {p: f"v{i:09d}a"}, "after": {p: f"v{i:09d}b"},
               "reason": f"bench event {i}", "ts": f"2026-11-27T00:00:00.{i % 1_000_000:06d}+00:00"}


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=1_000_000)
    ap.add_argument("--dir", default=None)
    ap.add_argument("--reuse", action="store_true", help="Keep the events already in --dir.")
    ap.add_argument("--workers", type=int, default=None, help="Verify processes (default: auto).")
    args = ap.parse_args()
    folder = args.dir or tempfile.mkdtemp(prefix="audit-bench-")
    os.makedirs(folder, exist_ok=True)
    db = os.path.join(folder, "meta.db")
    if not args.reuse:
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
    ms = Metastore(f"sqlite:///{db}")
    trail = AuditTrail(ms)

    t0 = time.perf_counter()
    n = trail.count() if args.reuse else trail.append_many(events(args.events))
    t_insert = time.perf_counter() - t0

    cpu0 = _cpu()
    t0 = time.perf_counter()
    rows = sum(1 for _ in q.iter_range(ms.url, 1, n))
    t_scan = time.perf_counter() - t0
    cpu_scan = _cpu() - cpu0

    cpu0 = _cpu()
    t0 = time.perf_counter()
    report = trail.verify(workers=args.workers)
    t_verify = time.perf_counter() - t0
    cpu_verify = _cpu() - cpu0
    assert report.ok and report.events == n == rows, report.message

    size = sum(os.path.getsize(db + s) for s in ("", "-wal") if os.path.exists(db + s))
    print(f"events            {n:,}  ({size / 1e6:.0f} MB SQLite)")
    if not args.reuse:
        print(f"bulk append       {t_insert:6.2f} s  ({n / t_insert:,.0f} events/s)")
    print(f"read-only scan    {t_scan:6.2f} s  (peer: rows streamed, nothing hashed)")
    print(f"audit verify      {t_verify:6.2f} s  ({n / t_verify:,.0f} events/s), "
          f"{t_verify / t_scan:.2f}x the scan; floor 10 s: "
          f"{'PASS' if t_verify < 10 else 'FAIL'}")
    print(f"scan CPU time     {cpu_scan:6.2f} s")
    print(f"verify CPU time   {cpu_verify:6.2f} s  ({cpu_verify / cpu_scan:.2f}x the scan; all "
          f"processes; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(f"checkpoints       {report.checkpoints:,}")
    if not args.dir:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
