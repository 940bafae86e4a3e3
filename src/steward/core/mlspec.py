"""The spec of a model product: a ``@model`` function's sidecar YAML.

A model is a product whose build fits an estimator on the training rows of one input
table and evaluates it on the holdout rows. What it learns from (``features``,
``target``), how rows are split, which metrics are computed and the hyper-parameters
are declared here, so they are part of the model's fingerprint. Gates (``metric``,
``vs_current``) decide whether a new version may be published.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from steward.core.base import Spec
from steward.core.checks import Check  # noqa: F401 (resolves _Common's annotations here)
from steward.core.spec import (  # noqa: F401 (the same)
    ColumnSpec,
    FreshnessSLO,
    RetentionSpec,
    _Common,
)

# Metrics computed on the holdout (see steward.ml.metrics); the direction tells a gate
# whether a higher value is better.
HIGHER_IS_BETTER = {
    "accuracy": True, "balanced_accuracy": True, "precision": True, "recall": True,
    "f1": True, "roc_auc": True, "average_precision": True, "r2": True,
    "log_loss": False, "brier": False, "rmse": False, "mse": False, "mae": False,
    "mape": False,
}
MetricName = Literal[
    "accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc",
    "average_precision", "r2", "log_loss", "brier", "rmse", "mse", "mae", "mape",
]
# parameters of a model function that are not inputs nor hyper-parameters
RESERVED_PARAMS = ("X", "y", "seed")


class HashSplit(Spec):
    """Rows whose key hashes into the lowest ``test_fraction`` form the holdout: the
    same row lands on the same side in every run, whatever the order of the rows."""

    by: Literal["hash"]
    key: tuple[str, ...] = Field(min_length=1)
    test_fraction: float = Field(default=0.2, gt=0, lt=1)

    @model_validator(mode="before")
    @classmethod
    def _one_key(cls, v: Any) -> Any:
        if isinstance(v, dict) and isinstance(v.get("key"), str):
            v = {**v, "key": (v["key"],)}
        return v


class ColumnSplit(Spec):
    """Rows whose ``column`` holds one of ``test_values`` form the holdout."""

    by: Literal["column"]
    column: str
    test_values: tuple[Any, ...] = Field(min_length=1)


class TimeSplit(Spec):
    """The latest rows by ``column`` form the holdout: those after ``test_after``, or
    the latest ``test_fraction`` of them."""

    by: Literal["time"]
    column: str
    test_after: str | None = None
    test_fraction: float | None = Field(default=None, gt=0, lt=1)

    @model_validator(mode="after")
    def _one_rule(self) -> TimeSplit:
        if (self.test_after is None) == (self.test_fraction is None):
            raise ValueError("a time split takes either test_after (a date or time) or "
                             "test_fraction (the latest share of the rows), not both")
        return self


SplitSpec = Annotated[HashSplit | ColumnSplit | TimeSplit, Field(discriminator="by")]


class MetricGate(Spec):
    """The holdout metric ``name`` must be at least ``min`` and/or at most ``max``."""

    name: MetricName
    min: float | None = None
    max: float | None = None
    severity: Literal["error", "warn"] = "error"

    @model_validator(mode="after")
    def _bound(self) -> MetricGate:
        if self.min is None and self.max is None:
            raise ValueError("a metric gate needs min, max or both")
        return self


class VsCurrentGate(Spec):
    """Compared with the version the target environment points at now (the champion),
    the metric ``name`` may be worse by at most ``max_regression_pct`` percent."""

    name: MetricName
    max_regression_pct: float = Field(default=0.0, ge=0)
    severity: Literal["error", "warn"] = "error"


class MlflowSpec(Spec):
    """``mlflow:`` (the ``datasteward[mlflow]`` extra): each training also writes the
    model in MLflow's Model format into ``model/mlflow`` (``model``), and is logged as a
    run to an MLflow tracking URI when one is given."""

    model: bool = True
    tracking_uri: str | None = None  # file:./mlruns (relative to the project), http://...
    experiment: str | None = None  # default: the model's name


class GateSpec(Spec):
    """One gate: ``{metric: {...}}`` or ``{vs_current: {...}}``."""

    metric: MetricGate | None = None
    vs_current: VsCurrentGate | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> GateSpec:
        if (self.metric is None) == (self.vs_current is None):
            raise ValueError("a gate is either 'metric: {name, min/max}' or "
                             "'vs_current: {name, max_regression_pct}'")
        return self

    @property
    def rule(self) -> MetricGate | VsCurrentGate:
        return self.metric or self.vs_current  # type: ignore[return-value]

    @property
    def label(self) -> str:
        return ("metric_" if self.metric else "vs_current_") + self.rule.name


class ModelProductSpec(_Common):
    """A model product's sidecar (``models/ml/delay_model.yml`` beside the ``.py``)."""

    kind: Literal["model"] = "model"
    inputs: dict[str, str] = Field(default_factory=dict)
    # the input holding features and target (default: the function's one input)
    table: str | None = None
    features: tuple[str, ...] = Field(min_length=1)
    target: str
    split: SplitSpec
    metrics: tuple[MetricName, ...] = ()
    params: dict[str, Any] = Field(default_factory=dict)
    seed: int = 0
    task: Literal["auto", "classification", "regression"] = "auto"
    flavor: Literal["auto", "sklearn", "xgboost", "lightgbm", "pickle"] = "auto"
    gates: tuple[GateSpec, ...] = ()
    # not in the fingerprint: versions trained after it is set have the MLflow copy
    mlflow: MlflowSpec | None = None

    @model_validator(mode="after")
    def _target_not_feature(self) -> ModelProductSpec:
        if self.target in self.features:
            raise ValueError(f"the target {self.target!r} is also listed in features; a "
                             "model must not learn from its own answer")
        dup = sorted({f for f in self.features if self.features.count(f) > 1})
        if dup:
            raise ValueError(f"features lists {', '.join(map(repr, dup))} more than once")
        return self

    @property
    def all_metrics(self) -> tuple[str, ...]:
        """The declared metrics and those the gates need, each once."""
        out = list(self.metrics)
        for g in self.gates:
            if g.rule.name not in out:
                out.append(g.rule.name)
        return tuple(out)
