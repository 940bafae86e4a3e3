"""``mlflow:`` on a model: its versions also hold the model in MLflow's Model format,
which MLflow loads without Steward, and each training is logged as a run to a real local
MLflow file store (``datasteward[mlflow]``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from steward.context import Context
from steward.meta.models import model_record
from tests.conftest import write

MLFLOW_YML = "mlflow: {tracking_uri: 'file:./mlruns', experiment: trips}\n"

# loads the MLflow copy in a new process without Steward on the path, and predicts
LOAD = """
import json, sys
import pandas as pd
import mlflow.pyfunc
m = mlflow.pyfunc.load_model(sys.argv[1])
rows = pd.read_parquet(sys.argv[2])
pred = m.predict(rows[json.loads(sys.argv[3])])
print(json.dumps({"pred": [bool(p) for p in pred],
                  "flavors": sorted(m.metadata.flavors),
                  "steward": any(k.split(".")[0] == "steward" for k in sys.modules)}))
"""


def without_steward(*args: str, cwd: Path) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    p = subprocess.run([sys.executable, "-c", LOAD, *args], cwd=cwd, env=env,
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    return json.loads(p.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_mlflow_loads_the_model_without_steward_and_each_training_is_a_run(
        ml_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from mlflow.tracking import MlflowClient

    # MLflow 3.18 keeps its file store behind this switch (it suggests SQLite instead)
    monkeypatch.setenv("MLFLOW_ALLOW_FILE_STORE", "true")

    yml = ml_project / "models/ml/late_model.yml"
    write(ml_project, "models/ml/late_model.yml", yml.read_text() + MLFLOW_YML)
    ctx = Context(ml_project)
    result = ctx.run()
    assert result.ok, [s.error for s in result.steps]
    v = ctx.current()["ml.late_model"]
    rec = model_record(ctx.metastore, v.id)
    folder = Path(ctx.store.local(v.path))
    mlmodel = folder / "model" / "mlflow"
    assert (mlmodel / "MLmodel").exists() and rec.info["mlflow_model"] == "model/mlflow"
    reqs = (mlmodel / "requirements.txt").read_text()
    assert f"scikit-learn=={rec.libraries['scikit-learn']}" in reqs

    # MLflow alone, in a new process, predicts what Steward recorded on the holdout
    holdout = str(next((folder / "data").glob("*.parquet")))
    got = without_steward(str(mlmodel), holdout, json.dumps(["distance", "hour", "weekend"]),
                          cwd=tmp_path)
    assert got["steward"] is False and "python_function" in got["flavors"]
    assert got["pred"] == pq.read_table(holdout)["prediction"].to_pylist()

    # the run in the file store: params, metrics, tags, and the model as its artifacts
    client = MlflowClient(tracking_uri=f"file:{ml_project / 'mlruns'}")
    exp = client.get_experiment_by_name("trips")
    (run,) = client.search_runs([exp.experiment_id])
    assert run.data.params["max_depth"] == "3" and run.data.params["seed"] == "7"
    assert run.data.metrics["roc_auc"] == rec.metrics["roc_auc"]
    assert run.data.tags["steward.version"] == v.id
    assert run.data.tags["steward.gates"] == "pass"
    assert run.data.tags["steward.input.staging.trips"] == v.inputs["staging.trips"]
    assert run.info.status == "FINISHED"
    logged = Path(run.info.artifact_uri.removeprefix("file://")) / "model"
    assert without_steward(str(logged), holdout, json.dumps(["distance", "hour", "weekend"]),
                           cwd=tmp_path)["pred"] == got["pred"]

    # a refused challenger is logged too, and says so
    write(ml_project, "models/ml/late_model.yml",
          yml.read_text().replace("max_depth: 3", "max_depth: 1"))
    r = Context(ml_project).run()
    assert {s.product: s.status for s in r.steps}["ml.late_model"] == "failed"
    runs = client.search_runs([exp.experiment_id], order_by=["attributes.start_time DESC"])
    assert len(runs) == 2 and runs[0].data.tags["steward.gates"] == "refused"
    assert runs[0].data.params["max_depth"] == "1"


def test_a_tracking_server_that_fails_is_a_note_not_a_refused_model(
        ml_project: Path, monkeypatch: pytest.MonkeyPatch):
    yml = ml_project / "models/ml/late_model.yml"
    write(ml_project, "models/ml/late_model.yml", yml.read_text() +
          "mlflow: {model: false, tracking_uri: 'http://127.0.0.1:9/', experiment: x}\n")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "5")
    result = Context(ml_project).run()
    assert result.ok, [s.error for s in result.steps]
    assert any(n.startswith("not logged to MLflow at http://127.0.0.1:9/")
               for n in result.notes.get("ml.late_model", [])), result.notes
    ctx = Context(ml_project)
    v = ctx.current()["ml.late_model"]
    assert not (Path(ctx.store.local(v.path)) / "model" / "mlflow").exists()
