"""A small real project with a model: a CSV source, a feature table, a classifier, a
scoring product."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.conftest import write

MODEL_PY = '''
from steward import model


@model
def late_model(X, y, seed, max_depth=3, min_samples_leaf=5):
    from sklearn.tree import DecisionTreeClassifier

    return DecisionTreeClassifier(max_depth=max_depth, min_samples_leaf=min_samples_leaf,
                                  random_state=seed).fit(X, y)
'''

MODEL_YML = '''
description: Will a trip be late?
owner: ml@example.com
table: staging.trips
features: [distance, hour, weekend]
target: late
split: {by: hash, key: trip_id, test_fraction: 0.25}
metrics: [accuracy, roc_auc]
params:
  max_depth: 3
seed: 7
gates:
  - metric: {name: roc_auc, min: 0.6}
  - vs_current: {name: roc_auc, max_regression_pct: 2}
'''

SCORING_PY = '''
from steward import product


@product(inputs_as="pandas")
def scored_trips(staging__trips, ml__late_model):
    out = ml__late_model.score(staging__trips)
    return out[["trip_id", "prediction", "score"]]
'''


def trips_csv(n: int = 1200, seed: int = 1, noise: float = 0.1) -> str:
    """Trips whose lateness depends on distance and hour (with ``noise`` flipped labels)."""
    rng = random.Random(seed)
    lines = ["trip_id,distance,hour,weekend,late"]
    for i in range(n):
        d = rng.randint(1, 100)
        h = rng.randint(0, 23)
        w = rng.randint(0, 1)
        late = (d > 60) or (h >= 18 and w == 0)
        if rng.random() < noise:
            late = not late
        lines.append(f"t{i},{d},{h},{w},{str(late).lower()}")
    return "\n".join(lines) + "\n"


def make_project(root: Path, n: int = 1200, noise: float = 0.1) -> Path:
    write(root, "steward.yaml", "name: trips\ndefaults:\n  owner: data@example.com\n")
    write(root, "sources/raw.yml", """
        sources:
          raw.trips:
            path: data/trips.csv
        """)
    (root / "data").mkdir(parents=True, exist_ok=True)
    (root / "data" / "trips.csv").write_text(trips_csv(n, noise=noise))
    write(root, "models/staging/trips.sql",
          "select trip_id, distance, hour, weekend, late from raw.trips\n")
    write(root, "models/ml/late_model.py", MODEL_PY)
    write(root, "models/ml/late_model.yml", MODEL_YML)
    write(root, "models/ml/scored_trips.py", SCORING_PY)
    return root


@pytest.fixture
def ml_project(tmp_path: Path) -> Path:
    return make_project(tmp_path / "trips")
