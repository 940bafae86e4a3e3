"""OpenLineage events: read back from the file and compared with what the run recorded."""

from __future__ import annotations

import enum
import json
import threading
import types
import typing
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import attr
import pytest

from steward.audit.openlineage import PARENT_JOB, run_uuid
from steward.context import Context
from steward.meta.checks import results_for
from tests.audit.conftest import set_yaml


def _events(root: Path) -> list[dict[str, Any]]:
    path = root / ".steward" / "openlineage" / "events.ndjson"
    return [json.loads(line) for line in path.read_text().splitlines()]


# -- conformance: every event rebuilt through the official openlineage-python classes ------
def _facet_classes() -> dict[str, dict[str, type]]:
    from openlineage.client.generated import (
        column_lineage_dataset,
        data_quality_assertions_dataset,
        data_quality_metrics_dataset,
        data_quality_metrics_input_dataset,
        dataset_version_dataset,
        documentation_dataset,
        documentation_job,
        error_message_run,
        job_type_job,
        output_statistics_output_dataset,
        ownership_dataset,
        ownership_job,
        parent_run,
        processing_engine_run,
        schema_dataset,
        sql_job,
    )

    return {
        "RunFacet": {"parent": parent_run.ParentRunFacet,
                     "processing_engine": processing_engine_run.ProcessingEngineRunFacet,
                     "errorMessage": error_message_run.ErrorMessageRunFacet},
        "JobFacet": {"jobType": job_type_job.JobTypeJobFacet, "sql": sql_job.SQLJobFacet,
                     "documentation": documentation_job.DocumentationJobFacet,
                     "ownership": ownership_job.OwnershipJobFacet},
        "DatasetFacet": {
            "documentation": documentation_dataset.DocumentationDatasetFacet,
            "ownership": ownership_dataset.OwnershipDatasetFacet,
            "schema": schema_dataset.SchemaDatasetFacet,
            "datasetVersion": dataset_version_dataset.DatasetVersionDatasetFacet,
            "columnLineage": column_lineage_dataset.ColumnLineageDatasetFacet,
            "dataQualityMetrics": data_quality_metrics_dataset.DataQualityMetricsDatasetFacet,
            "dataQualityAssertions":
                data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet},
        "InputDatasetFacet": {
            "dataQualityMetrics":
                data_quality_metrics_input_dataset.DataQualityMetricsInputDatasetFacet,
            "dataQualityAssertions":
                data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet},
        "OutputDatasetFacet": {
            "outputStatistics":
                output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet},
    }


def _structure(tp: Any, value: Any, facets: dict[str, dict[str, type]], key: str = "") -> Any:
    """``value`` (decoded JSON) as an instance of type ``tp`` of the client's classes;
    a key the class does not declare, or a missing required one, raises."""
    if value is None:
        return None
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        tp = next(a for a in typing.get_args(tp) if a is not type(None))
    origin = typing.get_origin(tp)
    if origin is list:
        (item,) = typing.get_args(tp)
        return [_structure(item, v, facets) for v in value]
    if origin is dict:
        _k, item = typing.get_args(tp)
        return {k: _structure(item, v, facets, k) for k, v in value.items()}
    if isinstance(tp, type) and tp.__name__ in facets:  # a facet slot: pick by its key
        tp = facets[tp.__name__][key]
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if attr.has(tp):
        hints = typing.get_type_hints(tp)
        fields = {a.name: a for a in attr.fields(tp)}
        unknown = set(value) - set(fields)
        assert not unknown, f"{tp.__name__} has no field(s) {sorted(unknown)}"
        kwargs = {a.alias: _structure(hints[a.name], value[a.name], facets, a.name)
                  for a in fields.values() if a.init and a.name in value}
        return tp(**kwargs)
    return value


def assert_conforms(event: dict[str, Any]) -> None:
    """Rebuilt through the official classes (their validators run), the event serialises
    back to exactly itself: same keys, defaults, facet schema URLs and producer."""
    from openlineage.client.event_v2 import RunEvent
    from openlineage.client.serde import Serde

    rebuilt = _structure(RunEvent, event, _facet_classes())
    assert Serde.to_dict(rebuilt) == event


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
        assert_conforms(e)
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
    for e in events:
        assert_conforms(e)


def test_conformance_check_catches_a_drift(starter: Path) -> None:
    Context(starter).run()
    done = next(e for e in _events(starter) if e["eventType"] == "COMPLETE"
                and e["job"]["name"] == "staging.orders")
    assert_conforms(done)
    for mutate in (
        lambda e: e["outputs"][0]["facets"]["schema"].__setitem__("colour", "red"),
        lambda e: e["outputs"][0]["facets"]["schema"].__setitem__(
            "_schemaURL", "https://openlineage.io/spec/facets/1-0-0/SchemaDatasetFacet.json"),
        lambda e: e["run"]["facets"]["parent"]["run"].pop("runId"),
        lambda e: e["outputs"][0]["facets"]["columnLineage"]["fields"]["customer"][
            "inputFields"][0].pop("transformations"),
        lambda e: e.__setitem__("eventTime", "yesterday"),
    ):
        bad = json.loads(json.dumps(done))
        mutate(bad)
        with pytest.raises((AssertionError, TypeError, ValueError)):
            assert_conforms(bad)


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


class _Failing(BaseHTTPRequestHandler):
    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(500)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.mark.parametrize("answer", ["down", "500"])
def test_emit_reports_undelivered_events_and_exits_non_zero(starter: Path, steward_cmd,
                                                            answer: str) -> None:
    import subprocess

    server = HTTPServer(("127.0.0.1", 0), _Failing)
    port = server.server_port
    thread = None
    if answer == "down":
        server.server_close()
    else:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
    try:
        set_yaml(starter, f"openlineage:\n  url: http://127.0.0.1:{port}\n  timeout: 1\n")
        assert Context(starter).run().ok  # a run never fails for lineage
        p = subprocess.run([*steward_cmd, "openlineage", "emit"], cwd=starter,
                           capture_output=True, text=True, timeout=120)
    finally:
        if thread is not None:
            server.shutdown()
            server.server_close()
    assert p.returncode == 1, p.stdout + p.stderr
    assert "not delivered" in p.stderr and f"127.0.0.1:{port}" in p.stderr
    assert f"127.0.0.1:{port}" not in p.stdout  # not claimed as delivered


def test_events_are_the_same_whatever_the_steps_read_at_once(
        starter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The builder reads (and forgets) a few hundred steps' versions at a time: read one
    step at a time, so every input is read again after its producer was forgotten, the
    events are the same."""
    from steward.audit import openlineage

    ctx = Context(starter)
    result = ctx.run()
    whole, problems = ctx.deliver_openlineage(result.run_id)
    assert not problems and len(whole) == 8
    monkeypatch.setattr(openlineage, "STEPS_PER_READ", 1)
    one_by_one, _ = ctx.deliver_openlineage(result.run_id)
    assert one_by_one == whole
