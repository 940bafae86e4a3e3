"""Gates compare in the metric's direction; regressors are measured like classifiers."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.context import Context
from steward.core.errors import StewardError
from steward.meta.models import model_record
from steward.ml.gate import evaluate, regression_pct
from steward.ml.load import load_version
from tests.conftest import write
from tests.ml.conftest import make_project


def test_regression_pct_follows_the_metric_direction():
    assert regression_pct("roc_auc", 0.70, 0.80) == pytest.approx(12.5)
    assert regression_pct("roc_auc", 0.90, 0.80) == pytest.approx(-12.5)
    assert regression_pct("rmse", 11.0, 10.0) == pytest.approx(10.0)
    assert regression_pct("rmse", 9.0, 10.0) == pytest.approx(-10.0)


def test_vs_current_without_a_champion_passes_and_says_so():
    gates = [{"vs_current": {"name": "rmse", "max_regression_pct": 1}}]
    (r,) = evaluate({"metrics": {"rmse": 3.0}}, gates, None, "prod")
    assert r.status == "pass" and "no version in 'prod' to compare with" in r.message
    (r,) = evaluate({"metrics": {"rmse": 3.0}}, gates, ("v1", {"rmse": 2.5}), "prod")
    assert r.status == "fail" and "20.00% worse" in r.message
    assert r.details["current"] == 2.5 and r.details["candidate"] == 3.0


REGRESSOR_PY = '''
from steward import model


@model
def distance_model(X, y, seed, max_depth=4):
    from sklearn.tree import DecisionTreeRegressor

    return DecisionTreeRegressor(max_depth=max_depth, random_state=seed).fit(X, y)
'''

REGRESSOR_YML = '''
table: staging.trips
features: [hour, weekend]
target: distance
split: {by: column, column: weekend, test_values: [1]}
metrics: [rmse, mae, r2]
gates:
  - vs_current: {name: rmse, max_regression_pct: 1}
'''


def test_a_regressor_is_measured_and_gated_on_rmse(tmp_path: Path):
    root = make_project(tmp_path / "p")
    write(root, "models/ml/distance_model.py", REGRESSOR_PY)
    write(root, "models/ml/distance_model.yml", REGRESSOR_YML)
    ctx = Context(root)
    result = ctx.run(["+ml.distance_model"])
    assert result.ok, [s.error for s in result.steps]
    v = ctx.current()["ml.distance_model"]
    rec = model_record(ctx.metastore, v.id)
    assert rec.task == "regression" and set(rec.metrics) == {"rmse", "mae", "r2"}
    assert rec.metrics["rmse"] > 0 and rec.metrics["mae"] > 0
    assert [c.name for c in v.schema][-1] == "prediction"  # no score for a regressor
    # a classifier's metric on a regressor is a clear build error
    write(root, "models/ml/distance_model.yml", REGRESSOR_YML.replace(
        "metrics: [rmse, mae, r2]", "metrics: [rmse, roc_auc]"))
    r = Context(root).run(["ml.distance_model"])
    (s,) = [s for s in r.steps if s.product == "ml.distance_model"]
    assert s.status == "failed" and "metric 'roc_auc' is for classifiers" in s.error


def test_scoring_a_table_without_a_feature_names_it(ml_project: Path):
    ctx = Context(ml_project)
    assert ctx.run(["+ml.late_model"]).ok
    m = load_version(ctx.metastore, ctx.store, ctx.current()["ml.late_model"].id)
    assert m.features == ["distance", "hour", "weekend"]
    with pytest.raises(StewardError, match="lacks feature column 'weekend'"):
        m.predict({"distance": [3], "hour": [4]})
    scored = m.score({"distance": [90, 2], "hour": [3, 3], "weekend": [0, 1]})
    assert list(scored["prediction"]) == [True, False]
    assert scored["score"].between(0, 1).all()


LGBM_PY = '''
from steward import model


@model
def late_model(X, y, seed, n_estimators=20):
    from lightgbm import LGBMClassifier

    return LGBMClassifier(n_estimators=n_estimators, random_state=seed,
                          verbose=-1).fit(X, y)
'''


def test_a_lightgbm_model_is_saved_safely_and_scores(ml_project: Path):
    write(ml_project, "models/ml/late_model.py", LGBM_PY)
    write(ml_project, "models/ml/late_model.yml", (ml_project / "models/ml/late_model.yml")
          .read_text().replace("  max_depth: 3", "  n_estimators: 30"))
    ctx = Context(ml_project)
    result = ctx.run()
    assert result.ok, [s.error for s in result.steps]
    rec = model_record(ctx.metastore, ctx.current()["ml.late_model"].id)
    assert rec.flavor == "sklearn" and rec.artifact == "model.skops"
    assert "lightgbm.sklearn.LGBMClassifier" in rec.info["trusted_types"]
    assert rec.libraries["lightgbm"] and rec.params == {"n_estimators": 30}
    scored = ctx.sql("select count(*) as n, count(score) as s from ml.scored_trips")
    assert scored.to_pylist() == [{"n": 1200, "s": 1200}]
    assert Context(ml_project).reproduce("ml.late_model").identical
