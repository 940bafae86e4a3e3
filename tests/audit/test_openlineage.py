"""OpenLineage events: read back from the file and compared with what the run recorded."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

from steward.audit.openlineage import PARENT_JOB, run_uuid
from steward.context import Context
from steward.meta.checks import results_for
from tests.audit.conftest import set_yaml


def _events(root: Path) -> list[dict[str, Any]]:
    path = root / ".steward" / "openlineage" / "events.ndjson"
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_events_follow_the_run(starter: Path) -> None:
    ctx = Context(starter)
    result = ctx.run()
    events = _events(starter)
    assert [(e["job"]["name"], e["eventType"]) for e in events] == [
        (PARENT_JOB, "START"),
        ("raw.orders", "START"), ("raw.orders", "COMPLETE"),
        ("staging.orders", "START"), ("staging.orders", "COMPLETE"),
        ("marts.daily_revenue", "START"), ("marts.daily_revenue", "COMPLETE"),
        (PARENT_JOB, "COMPLETE"),
    ]
    for e in events:
        assert e["schemaURL"].startswith("https://openlineage.io/spec/2-0-2/")
        assert e["job"]["namespace"] == "starter"
    parent = run_uuid(result.run_id)
    assert events[0]["run"]["runId"] == parent

    done = next(e for e in events if e["job"]["name"] == "staging.orders"
                and e["eventType"] == "COMPLETE")
    v = ctx.current()["staging.orders"]
    assert done["run"]["runId"] == run_uuid(result.run_id, "staging.orders")
    assert done["run"]["facets"]["parent"]["run"]["runId"] == parent
    out = done["outputs"][0]
    assert out["name"] == "staging.orders"
    facets = out["facets"]
    assert [(f["name"], f["type"]) for f in facets["schema"]["fields"]] == [
        (c.name, c.type) for c in v.schema]
    assert facets["datasetVersion"]["datasetVersion"] == v.id
    assert facets["ownership"]["owners"] == [{"name": "data-team@example.com", "type": "OWNER"}]
    assert out["outputFacets"]["outputStatistics"]["rowCount"] == v.row_count == 4
    assert out["outputFacets"]["outputStatistics"]["size"] == v.bytes
    metrics = facets["dataQualityMetrics"]
    assert metrics["rowCount"] == 4 and metrics["bytes"] == v.bytes
    assert metrics["columnMetrics"]["order_id"]["nullCount"] == 0
    assert metrics["columnMetrics"]["amount"]["min"] == 5.25
    stored = {r.name: r.status == "pass" for r in results_for(ctx.metastore, v.id)}
    got = {a["name"]: a["success"] for a in facets["dataQualityAssertions"]["assertions"]}
    assert got == stored and stored  # the sidecar declares not_null, unique, range...
    lineage = facets["columnLineage"]["fields"]
    assert [(i["name"], i["field"]) for i in lineage["customer"]["inputFields"]] == [
        ("raw.orders", "customer")]
    assert [(i["name"], i["field"]) for i in lineage["order_date"]["inputFields"]] == [
        ("raw.orders", "ordered_at")]
    inp = done["inputs"][0]
    assert inp["name"] == "raw.orders"
    assert inp["facets"]["datasetVersion"]["datasetVersion"] == ctx.current()["raw.orders"].id
    assert inp["inputFacets"]["dataQualityMetrics"]["rowCount"] == 4
    assert done["job"]["facets"]["sql"]["query"].strip().endswith("where amount > 0")
    assert done["job"]["facets"]["jobType"]["jobType"] == "QUERY"

    # a second run builds nothing, so it emits nothing (and never loads the client)
    Context(starter).run()
    assert _events(starter)[8:] == []


def test_failed_product_emits_fail_with_error(starter: Path) -> None:
    (starter / "models" / "marts" / "daily_revenue.sql").write_text(
        "select order_date, count(*) as orders,\n"
        "  sum(amount) + cast(min(customer) as integer) as revenue\n"
        "from staging.orders group by order_date\n")  # fails at run time: 'Ada' -> INTEGER
    result = Context(starter).run()
    assert not result.ok
    events = _events(starter)
    fail = [e for e in events if e["eventType"] == "FAIL"]
    assert [e["job"]["name"] for e in fail] == ["marts.daily_revenue", PARENT_JOB]
    err = fail[0]["run"]["facets"]["errorMessage"]
    assert "Ada" in err["message"] or "convert" in err["message"].lower()
    assert err["programmingLanguage"] == "SQL"


class _Sink(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, Any]]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Sink.received.append((self.path, json.loads(body)))
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_events_are_posted_to_a_configured_endpoint(starter: Path) -> None:
    _Sink.received = []
    server = HTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        set_yaml(starter, f"openlineage:\n  url: http://127.0.0.1:{server.server_port}\n"
                          "  namespace: shop\n")
        Context(starter).run()
    finally:
        server.shutdown()
        server.server_close()
    in_file = _events(starter)
    assert len(_Sink.received) == len(in_file) == 8
    assert {path for path, _ in _Sink.received} == {"/api/v1/lineage"}
    assert [b["eventType"] for _, b in _Sink.received] == [e["eventType"] for e in in_file]
    assert {b["job"]["namespace"] for _, b in _Sink.received} == {"shop"}


def test_unreachable_endpoint_does_not_fail_the_run(starter: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Sink)
    port = server.server_port
    server.server_close()  # nothing listens there any more
    set_yaml(starter, f"openlineage:\n  url: http://127.0.0.1:{port}\n  timeout: 1\n")
    assert Context(starter).run().ok
    assert len(_events(starter)) == 8
