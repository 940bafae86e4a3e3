"""Operations on a catalog-sized project: ``/metrics``, delivery metrics, maturity, and
how soon an alert reaches its receivers.

On a generated project of N products (``serve_project.py``), each with a freshness SLO,
a month of freshness samples every six hours (the heartbeat) with a breach of an hour a
day (two transitions more) for each product, and
E audit events (promotions and rollbacks into prod), this measures:

- **/metrics**, in-process (the server's route calls the same function), three ways:
  *cold* (nothing rendered before: the first scrape), *after a watch pass* (every
  freshness age changed, the rest did not: the usual scrape), *unchanged*;
- **delivery** and **maturity**: the functions, and the commands as a user runs them
  (``steward delivery --json``, ``steward maturity --json``: a process each, start-up
  included) on the same 1,000 products and 10,000 audit events;
- **alert latency**: ``steward serve`` on the project with a webhook and an email
  channel pointed at real receivers on 127.0.0.1 (an HTTP server and aiosmtpd); a run
  is made to fail, R times, and each receiver's arrival is compared with the failed
  run's end as the metastore recorded it.

The peer of the in-process figures is reading every current version of the default
environment (``Context.current``), the least a status page does; of the commands,
``steward --help`` (start-up alone). Floors (the issue's): /metrics < 100 ms, delivery
and maturity < 1 s, an alert delivered < 5 s after the failure.

    python benchmarks/ops_bench.py --products 1000 --events 10000 [--alerts 3]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from serve_project import build  # noqa: E402

FLOORS_S = {"metrics cold": 0.100, "metrics after a pass": 0.100,
            "metrics unchanged": 0.100, "delivery": 1.0, "maturity": 1.0,
            "steward delivery": 1.0, "steward maturity": 1.0}
ALERT_FLOOR_S = 5.0
BIN = os.path.dirname(sys.executable)


def timed(fn, repeat: int = 7, before=None) -> tuple[float, float, float]:  # type: ignore[no-untyped-def]
    """(median, min, max) seconds of ``fn()``; ``before()`` runs untimed each time."""
    times = []
    for _ in range(repeat):
        if before is not None:
            before()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), min(times), max(times)


def command(root: str, *args: str) -> float:
    t = time.perf_counter()
    subprocess.run([os.path.join(BIN, "steward"), *args], cwd=root, check=True,
                   capture_output=True, env={**os.environ, "NO_COLOR": "1"})
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--alerts", type=int, default=3, help="failures to alert (0: skip)")
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

    from steward.ops import prom
    from steward.ops.delivery import delivery_metrics
    from steward.ops.freshness import evaluate, report
    from steward.ops.maturity import maturity
    from steward.ops.prom import exposition

    ctx = Context(root)
    peer = timed(lambda: ctx.current())[0]
    # the server's watch pass (every minute, off the request path) keeps the report that
    # /metrics exposes; the pass is timed too, for the record
    t = time.perf_counter()
    docs = report(ctx, results=evaluate(ctx))
    kept = delivery_metrics(ctx)
    print(f"watch pass (freshness of {len(docs)} products, 30 days): "
          f"{(time.perf_counter() - t) * 1000:.0f} ms")
    passes = [report(ctx, results=evaluate(ctx)) for _ in range(8)]  # ages move on
    state = {"docs": docs}

    def next_pass() -> None:
        state["docs"] = passes.pop() if passes else report(ctx, results=evaluate(ctx))

    got = {"metrics cold": timed(lambda: exposition(ctx, freshness=docs, delivery=kept),
                                 before=prom.clear_cache),
           "metrics after a pass": timed(lambda: exposition(ctx, freshness=state["docs"],
                                                            delivery=kept),
                                         before=next_pass),
           "metrics unchanged": timed(lambda: exposition(ctx, freshness=docs,
                                                         delivery=kept)),
           "delivery": timed(lambda: delivery_metrics(ctx)),
           "maturity": timed(lambda: maturity(ctx, keep=False))}
    startup = statistics.median(command(root, "--help") for _ in range(3))
    for name in ("delivery", "maturity"):
        times = [command(root, name, "--json") for _ in range(3)]
        got[f"steward {name}"] = (statistics.median(times), min(times), max(times))
    print(f"peer (Context.current): {peer * 1000:.1f} ms; steward --help: "
          f"{startup * 1000:.0f} ms")
    for k, (med, lo, hi) in got.items():
        ok = "ok" if med < FLOORS_S[k] else "OVER FLOOR"
        base = startup if k.startswith("steward ") else peer
        print(f"{k:<21} {med * 1000:8.1f} ms  (range {lo * 1000:.0f}-{hi * 1000:.0f})  "
              f"{med / base:5.1f}x the peer  (floor {FLOORS_S[k] * 1000:.0f} ms: {ok})")
    if args.alerts:
        alert_latency(root, args.alerts)


def alert_latency(root: str, rounds: int) -> None:
    """Serve the project with a webhook and an email channel on local receivers; make a
    run fail ``rounds`` times (fixing it between); print each receiver's delay."""
    sys.path.insert(0, os.path.join(os.path.dirname(HERE), "tests", "ops"))
    from receivers import Inbox, Receiver

    from steward.context import Context

    hook, inbox = Receiver(), Inbox()
    with open(os.path.join(root, "steward.yaml"), "a") as f:
        f.write(f"""alerts:
  interval: 60s
  resolve: false
  channels:
    hook: {{type: webhook, url: '{hook.url}', events: [run_failed]}}
    mail: {{type: email, url: '{inbox.url}', to: [oncall@example.com], events: [run_failed]}}
""")
    sql_path = next(os.path.join(d, f) for d, _, fs in sorted(os.walk(os.path.join(root,
                                                                                  "models")))
                    for f in sorted(fs) if f.endswith(".sql"))
    with open(sql_path) as f:
        good = f.read()
    name = f"{os.path.basename(os.path.dirname(sql_path))}.{os.path.basename(sql_path)[:-4]}"
    bad = good.replace("select a.id, a.grp,", "select a.id, a.grp, cast(a.grp as integer) "
                       "as broken,", 1) if "select a.id, a.grp," in good else \
        good.replace("select ", "select cast('x' as integer) as broken, ", 1)
    with socket.socket() as sk:
        sk.bind(("127.0.0.1", 0))
        port = sk.getsockname()[1]
    server = subprocess.Popen([os.path.join(BIN, "steward"), "serve", "--port", str(port)],
                              cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    delays: dict[str, list[float]] = {"webhook": [], "email": []}
    try:
        end = time.monotonic() + 120
        while time.monotonic() < end:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read()
                break
            except OSError:
                time.sleep(0.5)
        time.sleep(10)  # the first watch pass is over (3-4 s on 1,000 products)
        ctx = Context(root)
        for _ in range(rounds):
            n_hook, n_mail = len(hook.times), len(inbox.times)
            with open(sql_path, "w") as f:
                f.write(bad)
            subprocess.run([os.path.join(BIN, "steward"), "run", name], cwd=root,
                           capture_output=True)
            run = ctx.metastore.runs(1)[0]
            assert run.status != "success" and run.finished_at is not None, run
            failed_at = run.finished_at.timestamp()
            end = time.monotonic() + 30
            while (len(hook.times) == n_hook or len(inbox.times) == n_mail) \
                    and time.monotonic() < end:
                time.sleep(0.02)
            for what, times, n in (("webhook", hook.times, n_hook),
                                   ("email", inbox.times, n_mail)):
                delays[what].append(times[n] - failed_at if len(times) > n else float("inf"))
            with open(sql_path, "w") as f:  # fixed: the alert clears at the next look
                f.write(good)
            subprocess.run([os.path.join(BIN, "steward"), "run", name], cwd=root,
                           capture_output=True, check=True)
            time.sleep(2)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        hook.close()
        inbox.close()
    for what, ds in delays.items():
        worst = max(ds)
        print(f"alert {what:<8} from the failed run's end to the receiver: "
              + ", ".join(f"{d:.2f} s" for d in ds)
              + f"  (floor {ALERT_FLOOR_S:.0f} s: {'ok' if worst < ALERT_FLOOR_S else 'OVER'})")


if __name__ == "__main__":
    main()
