"""XGBoost and LightGBM models saved in their libraries' own formats (data, not code),
loaded back for scoring and reproduction, and refused by an incompatible library
version with both versions named."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from steward.context import Context
from steward.core.errors import BuildError, StewardError
from steward.meta.models import model_record
from steward.ml import artifact
from steward.ml.load import load_version
from tests.conftest import steward_process, use_test_metastore, write
from tests.ml.conftest import MODEL_YML, make_project

XGB_PY = '''
from steward import model


@model
def late_model(X, y, seed, n_estimators=20, max_depth=3):
    from xgboost import XGBClassifier

    return XGBClassifier(n_estimators=n_estimators, max_depth=max_depth, random_state=seed,
                         n_jobs=1).fit(X, y.astype(int))
'''

LGB_BOOSTER_PY = '''
from steward import model


@model
def late_model(X, y, seed, num_boost_round=20):
    import lightgbm as lgb

    params = {"objective": "regression", "seed": seed, "verbose": -1, "num_threads": 1}
    return lgb.train(params, lgb.Dataset(X, y.astype(float)), num_boost_round)
'''


@pytest.fixture
def xgb_project(tmp_path: Path) -> Path:
    root = make_project(tmp_path / "trips")
    write(root, "models/ml/late_model.py", XGB_PY)
    write(root, "models/ml/late_model.yml", MODEL_YML.replace("  max_depth: 3",
                                                              "  n_estimators: 25"))
    use_test_metastore(root)
    return root


def test_an_xgboost_model_is_saved_as_xgboost_json_and_scores(xgb_project: Path):
    ctx = Context(xgb_project)
    result = ctx.run()
    assert result.ok, [s.error for s in result.steps]
    v = ctx.current()["ml.late_model"]
    rec = model_record(ctx.metastore, v.id)
    assert (rec.flavor, rec.artifact) == ("xgboost", "model.xgboost.json")
    assert rec.info["trusted_types"] == ["XGBClassifier"] and rec.libraries["xgboost"]
    folder = ctx.store.local(f"{v.path}/{artifact.MODEL_DIR}")
    assert sorted(os.listdir(folder)) == ["model.json", "model.xgboost.json", "source.py"]
    with open(os.path.join(folder, "model.xgboost.json")) as f:
        assert "learner" in json.load(f)  # XGBoost's own document, no pickle
    m = load_version(ctx.metastore, ctx.store, v.id)
    assert type(m.estimator).__name__ == "XGBClassifier" and m.metrics["roc_auc"] > 0.8
    scored = ctx.sql("select count(*) as n, count(score) as s, "
                     "sum(case when score between 0 and 1 then 1 else 0 end) as ok "
                     "from ml.scored_trips")
    assert scored.to_pylist() == [{"n": 1200, "s": 1200, "ok": 1200}]
    r = Context(xgb_project).reproduce("ml.late_model")
    assert r.identical and r.artifact_identical


def test_an_older_xgboost_than_the_one_that_saved_it_is_refused_naming_both(
        xgb_project: Path, tmp_path: Path):
    import xgboost

    # trained where the metadata says XGBoost 99.0.0, loaded here with the real one
    site = tmp_path / "site"
    info = site / "xgboost-99.0.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: xgboost\nVersion: 99.0.0\n")
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(site),
                                                         os.environ.get("PYTHONPATH")]))}
    _, code, out, err = steward_process(xgb_project, "run", env=env)
    assert code == 0, out + err
    ctx = Context(xgb_project)
    v = ctx.current()["ml.late_model"]
    assert model_record(ctx.metastore, v.id).libraries["xgboost"] == "99.0.0"
    with pytest.raises(StewardError) as e:
        load_version(ctx.metastore, ctx.store, v.id)
    msg = str(e.value)
    assert "saved with xgboost 99.0.0" in msg and f"has xgboost {xgboost.__version__}" in msg
    # the run here retrains it (the fingerprint names the library) and scores with it
    result = ctx.run()
    assert result.ok, [s.error for s in result.steps]
    assert {s.product: s.status for s in result.steps}["ml.late_model"] == "built"


def test_the_version_rule_of_native_formats(tmp_path: Path):
    from steward.core.fingerprint import ml_library_versions

    have = ml_library_versions()["lightgbm"]
    assert have is not None
    major = int(have.split(".")[0])
    ok = {"lightgbm": f"{major}.0.0"}
    artifact.check_libraries(ok, "m", "lightgbm")  # a later release of the same major
    for then in (f"{major + 1}.0.0", f"{major - 1}.9.9", f"{major}.999.0"):
        with pytest.raises(StewardError, match=f"saved with lightgbm {then}; this "
                                               f"environment has lightgbm {have}"):
            artifact.check_libraries({"lightgbm": then}, "m", "lightgbm")


def test_a_lightgbm_booster_is_saved_as_lightgbm_text(ml_project: Path):
    write(ml_project, "models/ml/late_model.py", LGB_BOOSTER_PY)
    yml = (ml_project / "models/ml/late_model.yml").read_text()
    yml = yml.replace("  max_depth: 3", "  num_boost_round: 15").replace(
        "metrics: [accuracy, roc_auc]", "metrics: [rmse, r2]\ntask: regression").split(
        "gates:")[0]
    write(ml_project, "models/ml/late_model.yml", yml)
    write(ml_project, "models/ml/scored_trips.py", '''
from steward import product


@product(inputs_as="pandas")
def scored_trips(staging__trips, ml__late_model):
    return ml__late_model.score(staging__trips)[["trip_id", "prediction"]]
''')
    ctx = Context(ml_project)
    result = ctx.run()
    assert result.ok, [s.error for s in result.steps]
    v = ctx.current()["ml.late_model"]
    rec = model_record(ctx.metastore, v.id)
    assert (rec.flavor, rec.artifact, rec.task) == ("lightgbm", "model.lightgbm.txt",
                                                      "regression")
    with open(os.path.join(ctx.store.local(f"{v.path}/model"), rec.artifact)) as f:
        assert f.read().startswith("tree\n")
    assert 0 < rec.metrics["r2"] <= 1
    rows = ctx.sql("select min(prediction) as lo, max(prediction) as hi, count(*) as n "
                   "from ml.scored_trips").to_pylist()[0]
    assert rows["n"] == 1200 and rows["lo"] < rows["hi"]
    assert Context(ml_project).reproduce("ml.late_model").identical


def test_a_native_flavor_refuses_what_it_cannot_save(tmp_path: Path):
    from sklearn.tree import DecisionTreeClassifier

    est = DecisionTreeClassifier().fit([[0], [1]], [0, 1])
    with pytest.raises(BuildError, match="flavor 'xgboost' saves XGBoost models"):
        artifact.save(est, str(tmp_path / "a"), "xgboost", "m")
    import lightgbm as lgbm

    clf = lgbm.LGBMClassifier(n_estimators=2, verbose=-1).fit([[0], [1]] * 10, [0, 1] * 10)
    with pytest.raises(BuildError, match="scikit-learn estimators are saved with skops"):
        artifact.save(clf, str(tmp_path / "b"), "lightgbm", "m")
    assert artifact.save(clf, str(tmp_path / "c"), "auto", "m").flavor == "sklearn"
