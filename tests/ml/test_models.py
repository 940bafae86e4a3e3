"""Models as products: train, record, reuse, gate, score, registry, reproduce."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from steward.context import Context
from steward.meta.models import model_record, product_records
from steward.ml.artifact import file_hash
from tests.conftest import steward, write


def step(result, product):
    return next(s for s in result.steps if s.product == product)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_a_model_trains_into_its_version_with_a_recorded_hash(ml_project: Path):
    ctx = Context(ml_project)
    result = ctx.run()
    assert result.ok, [s.error for s in result.steps]
    v = ctx.current()["ml.late_model"]
    folder = Path(ctx.store.path(v.path))
    doc = json.loads((folder / "model" / "model.json").read_text())
    assert doc["flavor"] == "sklearn" and doc["artifact"] == "model.skops"
    assert doc["signature"]["inputs"][0] == {"name": "distance", "type": "int64"}
    assert doc["params"] == {"max_depth": 3} and doc["seed"] == 7
    assert doc["libraries"]["scikit-learn"]
    rec = model_record(ctx.metastore, v.id)
    assert rec is not None
    assert rec.artifact_hash == file_hash(str(folder / "model" / "model.skops"))
    assert 0.6 < rec.metrics["roc_auc"] <= 1 and 0 < rec.metrics["accuracy"] <= 1
    assert rec.info["rows"]["train"] + rec.info["rows"]["holdout"] == 1200
    # the version's table is the holdout with predictions
    assert [c.name for c in v.schema][-2:] == ["prediction", "score"]
    assert v.row_count == rec.info["rows"]["holdout"]
    # the scoring product scored every trip with the model
    scored = ctx.sql("select count(*), count(prediction), min(score) >= 0 "
                     "from ml.scored_trips").to_pylist()[0]
    assert list(scored.values()) == [1200, 1200, True]


def test_unchanged_project_trains_nothing_and_metadata_edits_do_not_retrain(
        ml_project: Path):
    ctx = Context(ml_project)
    assert ctx.run().ok
    again = Context(ml_project).run()
    assert {s.status for s in again.steps} == {"kept"}
    edit(ml_project / "models/ml/late_model.yml", "Will a trip be late?", "Late or not?")
    third = Context(ml_project).run()
    assert step(third, "ml.late_model").status == "kept"
    assert len(product_records(Context(ml_project).metastore, "ml.late_model")) == 1


def test_seed_split_and_params_are_part_of_the_fingerprint(ml_project: Path):
    assert Context(ml_project).run().ok
    yml = ml_project / "models/ml/late_model.yml"
    edit(yml, "seed: 7", "seed: 8")
    r = Context(ml_project).run()
    assert step(r, "ml.late_model").status == "built"
    assert step(r, "ml.scored_trips").status == "built"  # the model changed: re-scored
    edit(yml, "test_fraction: 0.25", "test_fraction: 0.3")
    assert step(Context(ml_project).run(), "ml.late_model").status == "built"


def test_a_worse_challenger_is_refused_and_check_show_gives_both_values(ml_project: Path):
    ctx = Context(ml_project)
    assert ctx.run().ok
    champion = ctx.current()["ml.late_model"].id
    edit(ml_project / "models/ml/late_model.yml", "max_depth: 3", "max_depth: 1")
    r = Context(ml_project).run()
    s = step(r, "ml.late_model")
    assert s.status == "failed" and "vs_current_roc_auc" in s.error
    assert step(r, "ml.scored_trips").status == "skipped"
    after = Context(ml_project)
    assert after.current()["ml.late_model"].id == champion
    refused = after.metastore.version(s.version_id)
    assert refused.status == "failed"
    code, out, _ = steward(ml_project, "check", "show", "ml.late_model")
    assert code == 0
    champ = model_record(after.metastore, champion).metrics["roc_auc"]
    chall = model_record(after.metastore, s.version_id).metrics["roc_auc"]
    assert f"{chall:.4f}" in out and f"{champ:.4f}" in out and champion in out
    assert "worse" in out and "at most 2% worse allowed" in out


def test_a_metric_gate_refuses_a_model_below_its_minimum(ml_project: Path):
    edit(ml_project / "models/ml/late_model.yml", "min: 0.6", "min: 0.999")
    r = Context(ml_project).run()
    s = step(r, "ml.late_model")
    assert s.status == "failed" and "metric_roc_auc" in s.error and "at least 0.999" in s.error
    assert "ml.late_model" not in Context(ml_project).current()


def test_models_log_promote_rollback_and_diff(ml_project: Path):
    ctx = Context(ml_project)
    assert ctx.run().ok
    first = ctx.current()["ml.late_model"].id
    edit(ml_project / "models/ml/late_model.yml", "max_depth: 3", "max_depth: 4")
    edit(ml_project / "models/ml/late_model.yml", "seed: 7", "seed: 8")
    assert Context(ml_project).run(env="dev").ok
    dev = Context(ml_project).current("dev")["ml.late_model"].id
    assert dev != first
    code, out, err = steward(ml_project, "models")
    assert code == 0, err
    assert first in out and dev in out and "roc_auc=" in out
    code, out, err = steward(ml_project, "log", "ml.late_model", "--json")
    assert code == 0, err
    log = json.loads(out)
    assert [e["params"]["max_depth"] for e in log] == [4, 3]
    assert log[0]["inputs"]["staging.trips"] and log[0]["metrics"]["roc_auc"]
    code, out, err = steward(ml_project, "diff", "ml.late_model", "prod", "dev")
    assert code == 0, err
    assert "max_depth: 3 -> 4" in out and "roc_auc:" in out and "staging.trips:" in out
    assert "seed: 7 -> 8" in out
    assert "holdout predictions:" in out
    code, out, err = steward(ml_project, "promote", "dev", "prod")
    assert code == 0, err
    assert Context(ml_project).current()["ml.late_model"].id == dev
    code, out, err = steward(ml_project, "rollback", "ml.late_model", "--to", first)
    assert code == 0, err
    assert Context(ml_project).current()["ml.late_model"].id == first
    code, out, err = steward(ml_project, "audit", "log", "--json")
    assert code == 0, err
    assert "promote" in out and "rollback" in out


def test_reproduce_gives_identical_predictions(ml_project: Path):
    ctx = Context(ml_project)
    assert ctx.run().ok
    first = ctx.current()["ml.late_model"].id
    # the working tree changes afterwards: reproduce uses the code kept in the version
    write(ml_project, "models/ml/late_model.py", (ml_project / "models/ml/late_model.py")
          .read_text().replace("max_depth=max_depth", "max_depth=max_depth + 1"))
    assert Context(ml_project).run().ok
    r = Context(ml_project).reproduce("ml.late_model", version=first)
    assert r.identical, r
    assert r.predictions["differing"] == 0 and r.predictions["compared"] > 0
    assert all(a == b for a, b in r.metrics.values())
    code, out, err = steward(ml_project, "reproduce", "late_model", "--version", first)
    assert code == 0, err
    assert "identical" in out


def test_openlineage_names_the_model_training_job(ml_project: Path):
    ctx = Context(ml_project)
    assert ctx.run().ok
    events = (ml_project / ".steward/openlineage/events.ndjson").read_text().splitlines()
    jobs = [json.loads(e)["job"] for e in events]
    training = [j for j in jobs if j["name"].endswith("ml.late_model")]
    assert training and training[0]["facets"]["jobType"]["jobType"] == "ML_TRAINING"


def test_the_metastore_records_models_in_their_own_table(ml_project: Path):
    assert Context(ml_project).run().ok
    con = sqlite3.connect(ml_project / ".steward/meta.db")
    try:
        rows = con.execute("SELECT product, flavor, length(artifact_hash) "
                           "FROM model_versions").fetchall()
        schema = con.execute("SELECT max(version) FROM steward_schema").fetchone()[0]
    finally:
        con.close()
    assert rows == [("ml.late_model", "sklearn", 32)]
    from steward.meta.migrations import all_migrations

    assert schema == all_migrations()[-1][0]  # (m0008 created the table)


def test_scoring_data_unlike_the_training_data_shows_as_skew(ml_project: Path):
    write(ml_project, "models/ml/scored_trips.py", '''
from steward import product


@product(inputs_as="pandas")
def scored_trips(staging__trips, ml__late_model):
    return ml__late_model.score(staging__trips)
''')
    ctx = Context(ml_project)
    assert ctx.run().ok
    v = ctx.current()["ml.scored_trips"]
    from steward.meta.checks import results_for

    skew = [r for r in results_for(ctx.metastore, v.id) if r.type == "skew"]
    assert len(skew) == 1 and skew[0].status == "pass"
    # serving data drifts: every trip is now long, the model learned from all distances
    write(ml_project, "models/ml/scored_trips.py", '''
from steward import product


@product(inputs_as="pandas")
def scored_trips(staging__trips, ml__late_model):
    trips = staging__trips.assign(distance=staging__trips["distance"] * 0 + 95)
    return ml__late_model.score(trips)
''')
    r = Context(ml_project).run()
    s = step(r, "ml.scored_trips")
    assert s.status == "built"
    notes = r.notes.get("ml.scored_trips", [])
    assert any("skew" in n and "'distance'" in n for n in notes), notes
    after = Context(ml_project)
    skew = [x for x in results_for(after.metastore, after.current()["ml.scored_trips"].id)
            if x.type == "skew"]
    assert skew[0].status == "fail" and skew[0].column == "distance"
    assert skew[0].observed > 0.2


def test_gc_keeps_the_inputs_a_retained_model_version_needs(ml_project: Path):
    write(ml_project, "models/staging/trips.yml", "retention: {keep_last: 1, keep_days: 0}\n")
    ctx = Context(ml_project)
    assert ctx.run().ok
    first_model = ctx.current()["ml.late_model"]
    first_trips = ctx.current()["staging.trips"].id
    write(ml_project, "models/staging/trips.sql",
          "select trip_id, distance, hour, weekend, late from raw.trips where hour >= 0\n")
    assert Context(ml_project).run().ok
    code, out, err = steward(ml_project, "gc", "--json")
    assert code == 0, err
    deleted = {v["version"] for v in json.loads(out)["versions"]}
    assert first_trips not in deleted
    after = Context(ml_project)
    assert after.metastore.version(first_trips).status == "published"
    assert after.reproduce("ml.late_model", version=first_model.id).identical


def test_a_noop_run_from_the_command_line_trains_nothing(ml_project: Path):
    assert Context(ml_project).run().ok
    code, out, err = steward(ml_project, "run")
    assert code == 0, err
    assert "kept" in out and "built" not in out
    assert len(product_records(Context(ml_project).metastore, "ml.late_model")) == 1


def test_plan_says_what_changed_in_a_model(ml_project: Path):
    assert Context(ml_project).run().ok
    edit(ml_project / "models/ml/late_model.yml", "max_depth: 3", "max_depth: 4")
    code, out, err = steward(ml_project, "plan")
    assert code == 0, err
    assert "model declaration changed" in out and "ml.scored_trips: rebuild" in out
