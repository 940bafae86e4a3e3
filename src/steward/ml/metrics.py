"""Holdout metrics, computed with scikit-learn's own functions."""

from __future__ import annotations

import math
from typing import Any

from steward.core.errors import BuildError

# metrics that need a score (a probability of the positive class), not a label
_NEEDS_SCORE = {"roc_auc", "average_precision", "log_loss", "brier"}
_CLASSIFICATION = {"accuracy", "balanced_accuracy", "precision", "recall", "f1", *_NEEDS_SCORE}


def compute(names: tuple[str, ...], task: str, y_true: Any, y_pred: Any, y_score: Any,
            classes: Any, who: str) -> dict[str, float]:
    """Each metric of ``names`` on the holdout (``y_score``: predict_proba or None).

    An undefined metric (roc_auc on a holdout of one class) is NaN, which the gate
    refuses; scikit-learn's warning about it is not repeated.
    """
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _compute(names, task, y_true, y_pred, y_score, classes, who)


def _compute(names: tuple[str, ...], task: str, y_true: Any, y_pred: Any, y_score: Any,
             classes: Any, who: str) -> dict[str, float]:
    from sklearn import metrics as m

    out: dict[str, float] = {}
    binary = classes is not None and len(classes) == 2
    for name in names:
        if task == "regression" and name in _CLASSIFICATION:
            raise BuildError(f"{who}: metric {name!r} is for classifiers, and this model is "
                             "a regressor; use rmse, mse, mae, mape or r2")
        if task == "classification" and name in ("rmse", "mse", "mae", "mape", "r2"):
            raise BuildError(f"{who}: metric {name!r} is for regressors, and this model is "
                             "a classifier; use accuracy, f1, roc_auc, log_loss...")
        if name in _NEEDS_SCORE and y_score is None:
            raise BuildError(f"{who}: metric {name!r} needs predicted probabilities, and the "
                             "model has no predict_proba")
        avg = "binary" if binary else "macro"
        pos = classes[1] if binary else None
        score = y_score[:, 1] if (y_score is not None and binary) else y_score
        value: Any
        try:
            if name == "accuracy":
                value = m.accuracy_score(y_true, y_pred)
            elif name == "balanced_accuracy":
                value = m.balanced_accuracy_score(y_true, y_pred)
            elif name in ("precision", "recall", "f1"):
                fn = {"precision": m.precision_score, "recall": m.recall_score,
                      "f1": m.f1_score}[name]
                kw: dict[str, Any] = {"average": avg, "zero_division": 0}
                if binary:
                    kw["pos_label"] = pos
                value = fn(y_true, y_pred, **kw)
            elif name == "roc_auc":
                value = m.roc_auc_score(y_true, score, **({} if binary else {
                    "multi_class": "ovr", "labels": classes}))
            elif name == "average_precision":
                value = m.average_precision_score(y_true, score, pos_label=pos) if binary \
                    else m.average_precision_score(y_true, score)
            elif name == "log_loss":
                value = m.log_loss(y_true, y_score, labels=classes)
            elif name == "brier":
                value = m.brier_score_loss(y_true, score, pos_label=pos)
            elif name == "rmse":
                value = math.sqrt(m.mean_squared_error(y_true, y_pred))
            elif name == "mse":
                value = m.mean_squared_error(y_true, y_pred)
            elif name == "mae":
                value = m.mean_absolute_error(y_true, y_pred)
            elif name == "mape":
                value = m.mean_absolute_percentage_error(y_true, y_pred)
            elif name == "r2":
                value = m.r2_score(y_true, y_pred)
            else:  # pragma: no cover (the spec admits only the names above)
                raise BuildError(f"{who}: unknown metric {name!r}")
        except ValueError as e:
            raise BuildError(f"{who}: metric {name!r} cannot be computed on the holdout: "
                             f"{e}") from None
        out[name] = float(value)
    return out


def finite(value: Any) -> bool:
    return isinstance(value, int | float) and math.isfinite(value)
