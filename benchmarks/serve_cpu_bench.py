"""The server's CPU time per request, by kind, with no network and no other load.

``serve_bench.py`` measures latency under a load that shares the machine with the load
generator and a run; this one asks the application itself (its ASGI entry, as uvicorn
calls it) in one process, one request at a time, and divides the process's CPU time by
the requests: a figure that moves little with the machine's other work, so two versions
of the code compare on it in the same window.

On the ``serve_bench.py`` project (built there, or here with ``--build``), for N
products: first views of product pages, of catalog cards (``/api/v1/products/P/card``)
and searches, then the same requests again (answered from memory).

    python benchmarks/serve_cpu_bench.py --products 1000 --views 300
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import sys
import time
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


async def call(app: Any, path: str) -> tuple[int, bytes]:
    """One GET through the application, as an ASGI server would make it."""
    raw_path, _, query = path.partition("?")
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "GET", "scheme": "http", "path": raw_path,
             "raw_path": raw_path.encode(), "query_string": query.encode(),
             "root_path": "", "headers": [(b"host", b"127.0.0.1")],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8400)}
    out: dict[str, Any] = {"body": b""}

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"] += message.get("body", b"")

    await app(scope, receive, send)
    return out["status"], out["body"]


async def measure(app: Any, paths: list[str]) -> float:
    """CPU milliseconds of this process per request over ``paths``."""
    t = time.process_time()
    for p in paths:
        status, _ = await call(app, p)
        if status != 200:
            raise SystemExit(f"{p}: HTTP {status}")
    return (time.process_time() - t) * 1000 / len(paths)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--products", type=int, default=1000)
    ap.add_argument("--views", type=int, default=300)
    ap.add_argument("--work", default=os.path.join(HERE, "_work", "serve"))
    ap.add_argument("--build", action="store_true", help="Build the project first.")
    args = ap.parse_args()
    root = os.path.join(args.work, f"n{args.products}")
    if args.build or not os.path.exists(os.path.join(root, ".steward")):
        from serve_project import build

        build(root, args.products)
    # a copy: the counts of reads the server writes must not pile up in the original
    copy = root + ".cpu"
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(root, copy, symlinks=True)

    from steward.server.serve import make_app
    from steward.server.state import Settings

    app, state = make_app(copy, Settings(watch=False))
    try:
        state.lineage()
        state.search_index().close()
        rng = random.Random(7)
        names = [f"d{i % 10}.p{i:04d}" for i in range(1, args.products + 1)]
        pages = rng.sample(names, min(args.views, len(names)))
        cards = rng.sample(names, min(args.views, len(names)))
        words = ["product", "domain", "value", "group", "derived", "seed", "p0", "d3"]
        searches = sorted({w[:k] for w in words for k in range(1, len(w) + 1)})
        loop = asyncio.new_event_loop()
        run = loop.run_until_complete
        run(call(app, "/api/v1/me"))
        run(measure(app, [f"/products/{n}" for n in names[-5:]]))  # imports, templates
        figures = {
            "product page, first view": run(measure(app, [f"/products/{n}" for n in pages])),
            "product page, from memory": run(measure(app, [f"/products/{n}"
                                                           for n in pages])),
            "card, first view": run(measure(app, [f"/api/v1/products/{n}/card"
                                                  for n in cards])),
            "card, from memory": run(measure(app, [f"/api/v1/products/{n}/card"
                                                   for n in cards])),
            "search, first": run(measure(app, [f"/api/v1/search?q={q}" for q in searches])),
            "search, from memory": run(measure(app, [f"/api/v1/search?q={q}"
                                                     for q in searches])),
        }
        loop.close()
    finally:
        state.stop()
        shutil.rmtree(copy, ignore_errors=True)
    load = os.getloadavg()
    print(f"server CPU per request, {args.products} products, load average "
          f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}:")
    for what, ms in figures.items():
        print(f"  {what:28s} {ms:7.3f} ms")


if __name__ == "__main__":
    main()
