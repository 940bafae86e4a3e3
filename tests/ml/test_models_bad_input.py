"""Bad input to a model gets one clear message, and nothing published is lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from steward.context import Context
from steward.core.errors import IntegrityError, StewardError
from steward.ml.load import load_version
from tests.conftest import published_state, steward, write
from tests.ml.conftest import MODEL_PY


def step(result, product):
    return next(s for s in result.steps if s.product == product)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new))


def test_a_trainer_that_raises_is_reported_at_its_line(ml_project: Path):
    write(ml_project, "models/ml/late_model.py", MODEL_PY.replace(
        "    from sklearn.tree", "    if max_depth:\n        raise ValueError('no good')\n"
        "    from sklearn.tree"))
    r = Context(ml_project).run()
    s = step(r, "ml.late_model")
    assert s.status == "failed"
    assert "models/ml/late_model.py:8" in s.error and "ValueError: no good" in s.error
    assert "Traceback" not in s.error
    assert step(r, "ml.scored_trips").status == "skipped"


@pytest.mark.parametrize("body, said", [
    ("return 'a model'", "returned a str (it has no predict())"),
    ("return None", "returned None"),
    ("return DecisionTreeClassifier()", "returned an unfitted DecisionTreeClassifier"),
])
def test_a_trainer_that_returns_no_fitted_model(ml_project: Path, body: str, said: str):
    write(ml_project, "models/ml/late_model.py", MODEL_PY.replace(
        "    return DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf="
        "min_samples_leaf,\n                                  random_state=seed).fit(X, y)",
        f"    {body}"))
    s = step(Context(ml_project).run(), "ml.late_model")
    assert s.status == "failed"
    assert said in s.error and "returns a fitted estimator" in s.error


def test_a_metric_that_is_not_finite_refuses_the_version(ml_project: Path):
    # a holdout of trips that are all late: roc_auc is undefined (NaN)
    edit(ml_project / "models/ml/late_model.yml",
         "split: {by: hash, key: trip_id, test_fraction: 0.25}",
         "split: {by: column, column: late, test_values: [true]}")
    edit(ml_project / "models/ml/late_model.yml", "features: [distance, hour, weekend]",
         "features: [distance, hour, weekend]\ntask: classification")
    r = Context(ml_project).run()
    s = step(r, "ml.late_model")
    assert s.status == "failed"
    assert "metric_roc_auc_is_finite" in s.error and "roc_auc is nan" in s.error
    assert "ml.late_model" not in Context(ml_project).current()


def test_a_feature_missing_from_the_input_is_caught_at_load(ml_project: Path):
    before = None
    assert Context(ml_project).run().ok
    before = published_state(ml_project)
    edit(ml_project / "models/ml/late_model.yml", "features: [distance, hour, weekend]",
         "features: [distance, hour, wekend]")
    code, out, err = steward(ml_project, "run")
    assert code == 2
    assert "models/ml/late_model.yml:5" in err
    assert "'wekend'" in err and "did you mean 'weekend'?" in err
    assert published_state(ml_project) == before


def test_a_feature_missing_at_build_names_the_columns(ml_project: Path):
    # a star hides the columns at load: the build says it
    write(ml_project, "models/staging/trips.sql", "select * exclude (weekend) from raw.trips\n")
    s = step(Context(ml_project).run(), "ml.late_model")
    assert s.status == "failed"
    assert "needs column 'weekend', which staging.trips does not have" in s.error


def test_a_params_typo_is_a_config_error_at_its_line(ml_project: Path):
    edit(ml_project / "models/ml/late_model.yml", "  max_depth: 3", "  max_dept: 3")
    code, _, err = steward(ml_project, "run")
    assert code == 2
    assert "models/ml/late_model.yml:10" in err
    assert "params names 'max_dept'" in err and "did you mean 'max_depth'?" in err


def test_a_sidecar_typo_is_a_config_error_at_its_line(ml_project: Path):
    edit(ml_project / "models/ml/late_model.yml", "seed: 7", "sede: 7")
    code, _, err = steward(ml_project, "run")
    assert code == 2
    assert "models/ml/late_model.yml:11" in err and "unknown key 'sede'" in err
    edit(ml_project / "models/ml/late_model.yml", "sede: 7", "seed: 7")
    edit(ml_project / "models/ml/late_model.yml", "by: hash", "by: random")
    code, _, err = steward(ml_project, "run")
    assert code == 2 and "models/ml/late_model.yml:7" in err and "'random'" in err


def test_a_tampered_artifact_is_refused(ml_project: Path):
    ctx = Context(ml_project)
    assert ctx.run().ok
    v = ctx.current()["ml.late_model"]
    art = Path(ctx.store.path(v.path)) / "model" / "model.skops"
    data = bytearray(art.read_bytes())
    data[len(data) // 2] ^= 0xFF
    art.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match="does not match the hash recorded"):
        load_version(ctx.metastore, ctx.store, v.id)
    # the scoring product rebuilt on it fails with the same message; prod keeps its version
    scored = ctx.current()["ml.scored_trips"].id
    r = Context(ml_project).run(["ml.scored_trips"], full_refresh=True)
    s = step(r, "ml.scored_trips")
    assert s.status == "failed" and "does not match the hash recorded" in s.error
    assert Context(ml_project).current()["ml.scored_trips"].id == scored


def test_a_model_saved_with_another_library_version_names_both(ml_project: Path):
    import sklearn

    ctx = Context(ml_project)
    assert ctx.run().ok
    v = ctx.current()["ml.late_model"]
    con = sqlite3.connect(ml_project / ".steward/meta.db")
    con.execute("UPDATE model_versions SET libraries_json = "
                "'{\"scikit-learn\": \"0.24.2\", \"skops\": null}'")
    con.commit()
    con.close()
    with pytest.raises(StewardError) as e:
        load_version(ctx.metastore, ctx.store, v.id)
    msg = str(e.value)
    assert "scikit-learn 0.24.2" in msg and f"scikit-learn {sklearn.__version__}" in msg
    assert "scikit-learn==0.24.*" in msg


SLOW_MODEL = MODEL_PY.replace("    from sklearn.tree", """    import os, time
    open(os.environ["STEWARD_TEST_MARK"], "w").close()
    time.sleep(float(os.environ.get("STEWARD_TEST_SLEEP", "0")))
    from sklearn.tree""")


def test_kill_9_during_training_leaves_nothing_visible(ml_project: Path, steward_cmd,
                                                        tmp_path: Path):
    ctx = Context(ml_project)
    assert ctx.run().ok
    champion = ctx.current()["ml.late_model"].id
    write(ml_project, "models/ml/late_model.py", SLOW_MODEL)
    mark = tmp_path / "mark"
    env = {**os.environ, "STEWARD_TEST_MARK": str(mark), "STEWARD_TEST_SLEEP": "60"}
    proc = subprocess.Popen([*steward_cmd, "run"], cwd=ml_project, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    for _ in range(1200):
        if mark.exists():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        raise AssertionError("training never started: " + proc.stderr.read().decode())
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    mid = Context(ml_project)
    assert mid.current()["ml.late_model"].id == champion
    assert [v.status for v in mid.metastore.versions("ml.late_model")].count("building") == 1
    os.environ["STEWARD_TEST_MARK"] = str(tmp_path / "mark2")
    try:
        r = Context(ml_project).run()
    finally:
        os.environ.pop("STEWARD_TEST_MARK")
    assert r.ok, [s.error for s in r.steps]
    after = Context(ml_project)
    assert any(run.status == "aborted" for run in after.metastore.runs())
    assert "building" not in {v.status for v in after.metastore.versions()}
    new = after.current()["ml.late_model"]
    assert new.id != champion
    assert load_version(after.metastore, after.store, new.id).predict(
        {"distance": [90], "hour": [3], "weekend": [0]})[0]
