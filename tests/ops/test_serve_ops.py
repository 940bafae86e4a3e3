"""`steward serve` operates the project: a source change fires its schedule, the watch
raises a freshness alert to a real receiver, /metrics answers, and a server killed with
-9 during a scheduled run is recovered on the next start (the fire is marked
interrupted and the audit trail says so)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from receivers import Receiver

from steward.context import Context
from steward.meta.ops import fires
from tests.conftest import BIN, write


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _until(what: Callable[[], Any], timeout: float = 60) -> Any:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        got = what()
        if got:
            return got
        time.sleep(0.2)
    raise AssertionError("timed out")


def _serve(root: Path, port: int) -> subprocess.Popen[bytes]:
    exe = BIN / "steward"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "steward.cli.main"]
    return subprocess.Popen([*cmd, "serve", "--port", str(port)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _get(port: int, path: str) -> str | None:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.read().decode()  # type: ignore[no-any-return]
    except OSError:
        return None


def test_serve_schedules_alerts_metrics_and_recovers_from_kill(starter: Path) -> None:
    receiver = Receiver()
    write(starter, "models/slow/wait.py", """\
        import time

        from steward import product


        @product(owner="ops@example.com", description="Takes its time")
        def wait(raw__orders):
            time.sleep(60)
            return raw__orders
        """)
    p = starter / "models/staging/orders.yml"
    p.write_text(p.read_text() + "freshness: {max_age: 1s}\n")
    p = starter / "steward.yaml"
    p.write_text(p.read_text() + f"""\
schedules:
  orders_arrive: {{on_change: raw.orders}}
alerts:
  interval: 1s
  channels:
    team: {{type: webhook, url: '{receiver.url}', events: [freshness_breach]}}
""")
    assert Context(starter).run(["+staging.orders"]).ok
    port = _port()
    server = _serve(starter, port)
    try:
        metrics = _until(lambda: _get(port, "/metrics"))
        names = {f.name for f in text_string_to_metric_families(metrics)}
        assert "steward_freshness_age_seconds" in names
        # the watch: staging.orders is older than 1 s, the receiver is told once
        _until(lambda: receiver.received)
        assert receiver.received[0]["event"] == "freshness_breach"
        assert receiver.received[0]["product"] == "staging.orders"
        time.sleep(1.5)  # the source trigger has learned the files by now
        csv = starter / "data/orders.csv"
        csv.write_text(csv.read_text() + "99,Zed,5.00,2026-02-01 09:00:00\n")
        ctx = Context(starter)
        started = _until(lambda: fires(ctx.metastore, "orders_arrive"))
        assert started[0]["status"] == "started"
        # the run is building slow.wait (60 s): kill the server
        _until(lambda: any(r.status == "running" for r in ctx.metastore.runs(5)))
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(10)
        assert fires(ctx.metastore, "orders_arrive")[0]["status"] == "started"
        server = _serve(starter, port)
        got = _until(lambda: [f for f in fires(ctx.metastore, "orders_arrive")
                              if f["status"] == "interrupted"])
        assert "server stopped" in got[0]["reason"]
        (event,) = _until(lambda: ctx.audit_trail().log("schedule.interrupted"))
        assert event.targets == ["orders_arrive"] and event.actor
        # the run itself is recovered at the start, not left 'running' until the next run
        run_id = event.after["run"]
        assert run_id
        (rec,) = _until(lambda: ctx.audit_trail().log("recover"))
        assert run_id in rec.after["aborted"]
        assert ctx.metastore.run(run_id).status == "aborted"
        assert not [v for v in ctx.metastore.versions() if v.status == "building"]
        assert ctx.audit_trail().verify().ok
        assert len(receiver.received) == 1  # still open: not sent again after the restart
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(20)
        receiver.close()
