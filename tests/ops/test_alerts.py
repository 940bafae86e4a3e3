"""Alerts against a real local HTTP receiver: JSON and Slack webhooks, a command, dedupe
and resolve, retries, and failing channels that are recorded and never raise."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from receivers import Inbox, Receiver

from steward.context import Context
from steward.meta.ops import all_alerts, deliveries
from steward.ops import alerts
from steward.ops.alerts import Alert, raise_alert, watch
from steward.ops.freshness import evaluate
from tests.conftest import steward


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def _quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(alerts, "RETRY_PAUSE", 0.01)


def _channels(root: Path, text: str) -> None:
    p = root / "steward.yaml"
    p.write_text(p.read_text() + "alerts:\n  channels:\n" + text)


def test_breach_is_sent_once_then_resolved(starter: Path, receiver: Receiver) -> None:
    _channels(starter, f"    team: {{type: webhook, url: '{receiver.url}/hook'}}\n"
                       f"    chat: {{type: slack, url: '{receiver.url}/slack', "
                       "events: [freshness_breach]}\n")
    p = starter / "models/staging/orders.yml"
    p.write_text(p.read_text() + "freshness: {max_age: 1s}\n")
    ctx = Context(starter)
    assert ctx.run().ok
    import time

    time.sleep(1.2)
    got = watch(ctx, "prod", evaluate(ctx, "prod"))
    assert got == {"opened": 1, "resolved": 0}
    assert sorted(receiver.paths) == ["/hook", "/slack"]
    doc = next(d for d, p in zip(receiver.received, receiver.paths, strict=True) if p == "/hook")
    assert doc["event"] == "freshness_breach" and doc["product"] == "staging.orders"
    assert doc["owner"] == "data-team@example.com" and doc["kind"] == "opened"
    assert doc["project"] == "starter" and doc["env"] == "prod"
    slack = next(d for d, p in zip(receiver.received, receiver.paths, strict=True)
                 if p == "/slack")
    assert set(slack) == {"text"} and "staging.orders" in slack["text"]
    # the same breach again: deduplicated, nothing sent
    assert watch(ctx, "prod", evaluate(ctx, "prod")) == {"opened": 0, "resolved": 0}
    assert len(receiver.received) == 2
    # a new build: fresh again, resolved and told
    assert ctx.run(full_refresh=True).ok
    assert watch(ctx, "prod", evaluate(ctx, "prod")) == {"opened": 0, "resolved": 1}
    told = dict(zip(receiver.paths[2:], receiver.received[2:], strict=True))
    assert told["/hook"]["kind"] == "resolved" and "resolved" in told["/slack"]["text"]
    rows = all_alerts(ctx.metastore)
    assert rows[0]["status"] == "resolved" and rows[0]["count"] == 2
    assert all(d["ok"] for d in deliveries(ctx.metastore))


def test_failed_run_alert(starter: Path, receiver: Receiver) -> None:
    _channels(starter, f"    team: {{type: webhook, url: '{receiver.url}', "
                       "events: [run_failed]}\n")
    ctx = Context(starter)
    assert ctx.run().ok
    sql = starter / "models/staging/orders.sql"  # fails when it runs: names are not numbers
    sql.write_text(sql.read_text().replace("select order_id,",
                                           "select cast(customer as integer) as order_id,"))
    ctx = Context(starter)
    assert not ctx.run().ok
    assert watch(ctx, "prod") == {"opened": 1, "resolved": 0}
    assert receiver.received[0]["event"] == "run_failed"
    assert "failed" in receiver.received[0]["message"]


def test_500_is_retried_recorded_and_never_raised(starter: Path) -> None:
    bad = Receiver(status=500)
    try:
        _channels(starter, f"    team: {{type: webhook, url: '{bad.url}', retries: 2}}\n")
        ctx = Context(starter)
        assert raise_alert(ctx, Alert("drift", "prod", "staging.orders", "drifted"))
        assert len(bad.received) == 3  # one try and two retries
        (row,) = deliveries(ctx.metastore)
        assert not row["ok"] and row["attempts"] == 3 and "HTTP 500" in row["error"]
    finally:
        bad.close()


def test_timeout_and_refused_connection(starter: Path) -> None:
    slow = Receiver(delay=1.0)
    try:
        _channels(starter, f"    slow: {{type: webhook, url: '{slow.url}', timeout: 0.2, "
                           "retries: 0}\n    gone: {type: webhook, url: "
                           "'http://127.0.0.1:9/', retries: 1}\n")
        ctx = Context(starter)
        assert raise_alert(ctx, Alert("drift", "prod", None, "drifted"))
        rows = {d["channel"]: d for d in deliveries(ctx.metastore)}
        assert not rows["slow"]["ok"] and "timed out" in rows["slow"]["error"]
        assert not rows["gone"]["ok"] and rows["gone"]["attempts"] == 2
    finally:
        slow.close()


def test_command_channel(starter: Path, tmp_path: Path) -> None:
    out = tmp_path / "got.json"
    script = tmp_path / "notify.py"
    script.write_text(f"import sys; open({str(out)!r}, 'w').write(sys.stdin.read())\n")
    _channels(starter, f"    cmd: {{type: command, command: [{sys.executable!r}, "
                       f"{str(script)!r}]}}\n")
    ctx = Context(starter)
    assert raise_alert(ctx, Alert("check_failed", "prod", "staging.orders", "2 failures"))
    doc = json.loads(out.read_text())
    assert doc["event"] == "check_failed" and doc["message"] == "2 failures"


def test_channel_without_url_names_the_file(starter: Path) -> None:
    _channels(starter, "    team: {type: webhook}\n")
    code, _, err = steward(starter, "alerts")
    assert code == 2 and "steward.yaml" in err and "needs 'url'" in err


def test_alerts_cli(starter: Path, receiver: Receiver) -> None:
    _channels(starter, f"    team: {{type: webhook, url: '{receiver.url}'}}\n")
    ctx = Context(starter)
    raise_alert(ctx, Alert("drift", "prod", "staging.orders", "drifted"))
    code, out, err = steward(starter, "alerts", "--json")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["alerts"][0]["event"] == "drift" and doc["deliveries"][0]["ok"] is True


def test_drift_alert(starter: Path, receiver: Receiver) -> None:
    _channels(starter, f"    team: {{type: webhook, url: '{receiver.url}', events: [drift]}}\n")
    p = starter / "models/staging/orders.yml"
    p.write_text(p.read_text() + "checks:\n  - drift: {column: amount, metric: ks, "
                                 "threshold: 0.1, severity: warn}\n")
    ctx = Context(starter)
    assert ctx.run().ok
    assert watch(ctx, "prod") == {"opened": 0, "resolved": 0}  # the first version: no drift
    csv = starter / "data/orders.csv"
    lines = csv.read_text().splitlines()
    moved = [lines[0]] + [",".join([*r.split(",")[:2], str(float(r.split(",")[2]) * 100),
                                    r.split(",")[3]]) for r in lines[1:]]
    csv.write_text("\n".join(moved) + "\n")
    ctx = Context(starter)
    assert ctx.run().ok  # a warning: published
    assert watch(ctx, "prod") == {"opened": 1, "resolved": 0}
    doc = receiver.received[0]
    assert doc["event"] == "drift" and doc["product"] == "staging.orders"
    assert doc["details"]["checks"]


def test_email_to_the_owner(starter: Path) -> None:
    inbox = Inbox()
    try:
        _channels(starter, f"    mail: {{type: email, url: '{inbox.url}', "
                           "to: oncall@example.com}\n")
        ctx = Context(starter)
        assert raise_alert(ctx, Alert("check_failed", "prod", "staging.orders", "2 failures"))
        ((rcpt, msg),) = inbox.messages
        assert rcpt == ["oncall@example.com", "data-team@example.com"]
        assert msg["Subject"] == "[starter] check_failed staging.orders (prod)"
        assert "2 failures" in msg.get_payload()
        assert deliveries(ctx.metastore)[0]["ok"]
    finally:
        inbox.close()


def test_smtp_refusal_is_recorded(starter: Path) -> None:
    inbox = Inbox(refuse=True)
    try:
        _channels(starter, f"    mail: {{type: email, url: '{inbox.url}', to: x@example.com, "
                           "retries: 1}\n")
        ctx = Context(starter)
        assert raise_alert(ctx, Alert("drift", "prod", None, "drifted"))
        (row,) = deliveries(ctx.metastore)
        assert not row["ok"] and row["attempts"] == 2 and "550" in row["error"]
        assert inbox.messages == []
    finally:
        inbox.close()


def test_server_alerts_a_failed_run_at_once(starter: Path, receiver: Receiver) -> None:
    """A run that fails is alerted when it ends, not at the watch's next pass (an
    hour away here): the server looks for finished runs every second."""
    import time

    from steward.server.serve import make_app
    from steward.server.state import Settings

    p = starter / "steward.yaml"
    p.write_text(p.read_text() + f"""alerts:
  interval: 1h
  channels:
    team: {{type: webhook, url: '{receiver.url}', events: [run_failed]}}
""")
    assert Context(starter).run().ok
    _app, state = make_app(str(starter), Settings(watch=False, operate=True))
    try:
        ops = state.operations
        end = time.monotonic() + 60
        while ops.passes < 1 and time.monotonic() < end:
            time.sleep(0.1)
        assert ops.passes == 1 and receiver.received == []
        sql = starter / "models/staging/orders.sql"
        sql.write_text(sql.read_text().replace("select order_id,",
                                               "select cast(customer as integer) as order_id,"))
        assert not Context(starter).run().ok
        end = time.monotonic() + 60
        while not receiver.received and time.monotonic() < end:
            time.sleep(0.1)
        assert [r["event"] for r in receiver.received] == ["run_failed"]
        assert ops.passes == 1  # sent by the prompt pass, not a full one
    finally:
        state.stop()
