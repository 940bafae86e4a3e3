"""Column lineage through a model: training table features -> the model's prediction
and score -> the scoring product's, in the catalog's graph and in OpenLineage events."""

from __future__ import annotations

import json
from pathlib import Path

from steward.catalog.service import lineage
from steward.context import Context
from tests.conftest import write

FEATURES = ["distance", "hour", "weekend"]


def test_features_flow_through_the_model_into_the_scores(ml_project: Path):
    # PII on a feature: a prediction learned from it is not that PII
    write(ml_project, "models/staging/trips.yml",
          "columns:\n  distance: {classification: [confidential]}\n")
    ctx = Context(ml_project)
    assert ctx.run().ok
    graph, classes = lineage(ctx.project, ctx.metastore, "prod")

    model = graph.products["ml.late_model"]
    assert model.level == "column"
    assert graph.upstream("ml.late_model", "hour") == (("staging.trips", "hour", "identity"),)
    learned = {(p, c, h) for p, c, h in graph.upstream("ml.late_model", "prediction")}
    assert learned == {("staging.trips", c, "predicted") for c in [*FEATURES, "late"]}
    assert {c for _p, c, _h in graph.upstream("ml.late_model", "score")} == {*FEATURES, "late"}
    assert graph.upstream("ml.late_model", "trip_id") == (
        ("staging.trips", "trip_id", "identity"),)

    scored = dict((c, set(graph.upstream("ml.scored_trips", c)))
                  for c in ("trip_id", "prediction", "score"))
    assert scored["trip_id"] == {("staging.trips", "trip_id", "name")}
    assert scored["score"] == {("ml.late_model", "score", "predicted"),
                               *(("staging.trips", f, "predicted") for f in FEATURES)}
    assert ("ml.scored_trips", "prediction", "predicted") in {
        (p, c, h) for p, c, h in graph.downstream("ml.late_model", "prediction")}
    down = {(p, c) for p, c, _h in graph.downstream("staging.trips", "distance")}
    assert {("ml.late_model", "distance"), ("ml.late_model", "prediction"),
            ("ml.scored_trips", "score")} <= down

    assert classes.get(("ml.late_model", "distance"), ((),))[0] == ("confidential",)
    assert ("ml.late_model", "prediction") not in classes
    assert ("ml.scored_trips", "score") not in classes


def test_openlineage_events_carry_the_model_column_lineage(ml_project: Path):
    assert Context(ml_project).run().ok
    events = [json.loads(e) for e in
              (ml_project / ".steward/openlineage/events.ndjson").read_text().splitlines()]
    done = [e for e in events if e["eventType"] == "COMPLETE"
            and e["job"]["name"].endswith("ml.late_model")]
    (out,) = done[-1]["outputs"]
    fields = out["facets"]["columnLineage"]["fields"]
    pred = {(f["name"], f["field"], f["transformations"][0]["subtype"])
            for f in fields["prediction"]["inputFields"]}
    assert pred == {("staging.trips", c, "TRANSFORMATION") for c in [*FEATURES, "late"]}
    assert fields["prediction"]["transformationDescription"] == "predicted"
    assert fields["hour"]["transformationType"] == "IDENTITY"
    assert [f["field"] for f in fields["hour"]["inputFields"]] == ["hour"]
