"""A published model version, loaded for scoring: hash and libraries checked first."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from steward.core.errors import NotFound, StewardError
from steward.meta.models import ModelRecord, model_record
from steward.meta.store import Metastore
from steward.ml import artifact


@dataclass
class LoadedModel:
    """What a scoring product receives for a parameter that names a model product.

    ``predict(frame)`` and ``predict_proba(frame)`` pick the model's features from
    ``frame`` (a pandas or polars frame, or an Arrow table) in the order it was trained
    with; ``score(frame)`` returns the frame with a ``prediction`` column (and ``score``,
    the positive class's probability, for a binary classifier).
    """

    product: str
    version_id: str
    estimator: Any
    features: list[str]
    target: str
    task: str | None
    metrics: dict[str, Any]
    params: dict[str, Any]
    info: dict[str, Any] = field(default_factory=dict)

    def _frame(self, data: Any) -> Any:
        import pandas as pd

        if not isinstance(data, pd.DataFrame):
            mod = type(data).__module__.split(".")[0]
            data = data.to_pandas() if mod in ("pyarrow", "polars") else pd.DataFrame(data)
        missing = [f for f in self.features if f not in data.columns]
        if missing:
            raise StewardError(
                f"scoring with {self.product} (version {self.version_id}): the table lacks "
                f"feature column{'s' if len(missing) > 1 else ''} "
                f"{', '.join(map(repr, missing))}; the model was trained on "
                f"{', '.join(self.features)}")
        return data

    def predict(self, data: Any) -> Any:
        return self.estimator.predict(self._frame(data)[self.features])

    def predict_proba(self, data: Any) -> Any:
        return self.estimator.predict_proba(self._frame(data)[self.features])

    def score(self, data: Any, column: str = "prediction") -> Any:
        """``data`` as a pandas frame with the model's predictions added."""
        frame = self._frame(data).copy()
        X = frame[self.features]
        classes: list[Any] = self.info.get("classes") or []
        binary = len(classes) == 2 \
            and hasattr(self.estimator, "predict_proba")
        if len(frame) == 0:  # nothing to score (estimators refuse an empty array)
            import numpy as np

            frame[column] = np.array([], dtype=np.asarray(classes).dtype if classes
                                     else float)
            if binary:
                frame["score"] = np.array([], dtype=float)
            return frame
        if binary:
            proba = self.estimator.predict_proba(X)
            # the label scikit-learn's classifiers predict: the most probable class
            frame[column] = self.estimator.classes_[proba.argmax(axis=1)]
            frame["score"] = proba[:, 1]
        else:
            frame[column] = self.estimator.predict(X)
        return frame


def load_version(ms: Metastore, store: Any, version_id: str) -> LoadedModel:
    """Load model version ``version_id`` from the store, verified against its record."""
    record = model_record(ms, version_id)
    version = ms.version(version_id)
    if record is None:
        raise NotFound(f"version {version_id} of {version.product} is not a trained model "
                       "(no model record)")
    folder = store.local(f"{version.path}/{artifact.MODEL_DIR}")
    return from_record(record, folder)


def from_record(record: ModelRecord, folder: str) -> LoadedModel:
    who = f"model {record.product} version {record.version_id}"
    est = artifact.load(folder, record.artifact, record.flavor, record.artifact_hash,
                        record.info.get("trusted_types") or (), record.libraries, who)
    sig = record.info.get("signature") or {}
    return LoadedModel(record.product, record.version_id, est,
                       [c["name"] for c in sig.get("inputs") or ()],
                       (sig.get("target") or {}).get("name", ""), record.task,
                       record.metrics, record.params, record.info)


def version_of_files(files: list[str]) -> str:
    """The version id of a version's data files (``.../<product>/<id>/data/part-0``)."""
    return os.path.basename(os.path.dirname(os.path.dirname(files[0])))
