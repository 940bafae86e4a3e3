"""Train one model version: split, fit, predict the holdout, measure, save.

The version's folder holds, besides ``data/part-0.parquet`` (the holdout rows with the
model's predictions, which the quality gate, profiles and PII scan read like any
table):

    model/model.skops   the fitted estimator (or model.pkl, see steward.ml.artifact)
    model/model.json    flavor, artifact hash, signature, metrics, params, seed, split,
                        libraries, rows and timings, the declaration it was trained with
    model/source.py     the model function's file as it was (what ``reproduce`` runs)
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from typing import Any

from steward.core.errors import BuildError
from steward.core.fingerprint import ml_library_versions
from steward.core.model import Product
from steward.engine.base import BuildResult
from steward.engine.pyrunner import load_function, python_error
from steward.ml import artifact
from steward.ml.metrics import compute, finite
from steward.ml.split import holdout_mask
from steward.project.crosscheck import close_hint
from steward.project.mlload import table_of

PREDICTION = "prediction"
SCORE = "score"
Describe = Callable[[list[str]], Any]


def read_inputs(product: Product, inputs: Mapping[str, list[str]]) -> dict[str, Any]:
    """Each input as a pandas frame; the training table only with the columns the model
    uses when the function does not take the table itself."""
    import pyarrow.parquet as pq

    table = table_of(product)
    spec = product.spec_dump
    split = spec["split"]
    wanted = list(dict.fromkeys([*spec["features"], spec["target"],
                                 *([split["column"]] if split.get("column") else []),
                                 *(split.get("key") or ())]))
    out = {}
    for name, files in inputs.items():
        cols = None
        if name == table and table not in product.params.values():
            have = set(pq.read_schema(files[0]).names)
            cols = wanted if set(wanted) <= have else None  # (else: said by check_columns)
        out[name] = pq.read_table(files, columns=cols).to_pandas()
    return out


def check_columns(product: Product, df: Any, table: str) -> None:
    """Every feature, the target and the split columns must be in the table."""
    spec = product.spec_dump
    split = spec["split"]
    needed = [*spec["features"], spec["target"],
              *([split["column"]] if split.get("column") else []), *(split.get("key") or ())]
    have = [str(c) for c in df.columns]
    missing = [c for c in dict.fromkeys(needed) if c not in have]
    if missing:
        hint = close_hint(missing[0], have)
        raise BuildError(
            f"{product.meta_file or product.file}: model {product.name} needs column"
            f"{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}, which "
            f"{table} does not have" + (f"; {hint}" if hint else
                                        f"; its columns: {', '.join(have)}"))


def split_frame(product: Product, df: Any) -> tuple[Any, Any, int]:
    """(training rows, holdout rows, rows without a target) of the training table."""
    spec = product.spec_dump
    target = spec["target"]
    known = df[target].notna().to_numpy()
    dropped = int((~known).sum())
    df = df[known].reset_index(drop=True)
    mask = holdout_mask(df, spec["split"], product.name)
    train, test = df[~mask], df[mask]
    if len(train) == 0 or len(test) == 0:
        side = "training" if len(train) == 0 else "holdout"
        raise BuildError(f"{product.meta_file or product.file}: model {product.name}: the "
                         f"split leaves no {side} rows (of {len(df):,} with a target); "
                         "change 'split'")
    return train.reset_index(drop=True), test.reset_index(drop=True), dropped


def _is_fitted(est: Any) -> str | None:
    """Why ``est`` is not a fitted model, or None."""
    if est is None:
        return "None"
    if not callable(getattr(est, "predict", None)):
        name = type(est).__name__
        return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name} (it has no predict())"
    if artifact._root_module(est) == "sklearn" or hasattr(est, "get_params"):
        try:
            from sklearn.exceptions import NotFittedError
            from sklearn.utils.validation import check_is_fitted

            check_is_fitted(est)
        except NotFittedError:
            return f"an unfitted {type(est).__name__} (call .fit(X, y) before returning it)"
        except TypeError:
            return None
    return None


def task_of(product: Product, est: Any) -> str:
    declared = product.spec_dump.get("task") or "auto"
    if declared != "auto":
        return declared  # type: ignore[no-any-return]
    if getattr(est, "_estimator_type", None) == "classifier" or hasattr(est, "classes_"):
        return "classification"
    try:
        from sklearn.base import is_classifier

        return "classification" if is_classifier(est) else "regression"
    except Exception:  # noqa: BLE001 (not a scikit-learn object)
        return "regression"


def fit(product: Product, root: str, frames: Mapping[str, Any], train: Any
        ) -> tuple[Any, float]:
    """Call the model function on the training rows; returns (estimator, fit seconds)."""
    import numpy as np

    spec = product.spec_dump
    fn = load_function(os.path.join(root, product.file), product.function or "")
    table = table_of(product)
    import inspect

    wanted = inspect.signature(fn).parameters
    kwargs: dict[str, Any] = {}
    if "X" in wanted:
        kwargs["X"] = train[list(spec["features"])]
    if "y" in wanted:
        kwargs["y"] = train[spec["target"]]
    if "seed" in wanted:
        kwargs["seed"] = spec["seed"]
    for param, name in product.params.items():
        kwargs[param] = train if name == table else frames[name]
    kwargs.update(spec.get("params") or {})
    np.random.seed(spec["seed"] % (2 ** 32))  # for estimators that read the global state
    t0 = time.perf_counter()
    try:
        est = fn(**kwargs)
    except Exception as e:
        raise BuildError(python_error(e, product)) from None
    seconds = time.perf_counter() - t0
    why = _is_fitted(est)
    if why is not None:
        raise BuildError(f"{product.file}: {product.function}() returned {why}; a model "
                         "function returns a fitted estimator (an object with predict(), "
                         "such as a scikit-learn model after .fit(X, y))")
    return est, seconds


def predict(est: Any, X: Any, task: str) -> tuple[Any, Any, Any, float]:
    """(labels or values, class probabilities or None, classes or None, seconds)."""
    t0 = time.perf_counter()
    y_pred = est.predict(X)
    proba = None
    classes = getattr(est, "classes_", None) if task == "classification" else None
    if task == "classification" and callable(getattr(est, "predict_proba", None)):
        proba = est.predict_proba(X)
    return y_pred, proba, (list(classes) if classes is not None else None), \
        time.perf_counter() - t0


def signature(df: Any, features: list[str], target: str) -> dict[str, Any]:
    """Input columns (name and type, in order) and the target's type."""
    import pyarrow as pa

    def kind(col: str) -> str:
        try:
            return str(pa.Schema.from_pandas(df[[col]], preserve_index=False).field(col).type)
        except (pa.ArrowException, TypeError, ValueError):  # mixed Python objects
            return str(df[col].dtype)

    return {"inputs": [{"name": f, "type": kind(f)} for f in features],
            "target": {"name": target, "type": kind(target)}}


def build_model(product: Product, inputs: Mapping[str, list[str]], out_dir: str, root: str,
                describe: Describe) -> BuildResult:
    """Train ``product`` into ``out_dir`` (a scratch version folder)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    t_all = time.perf_counter()
    spec = product.spec_dump
    who = f"{product.meta_file or product.file}: model {product.name}"
    table = table_of(product)
    frames = read_inputs(product, inputs)
    df = frames[table]
    check_columns(product, df, table)
    train, test, dropped = split_frame(product, df)
    est, fit_s = fit(product, root, frames, train)
    features, target = list(spec["features"]), spec["target"]
    task = task_of(product, est)
    y_pred, proba, classes, pred_s = predict(est, test[features], task)
    metrics = compute(tuple(_all_metrics(spec)), task, test[target].to_numpy(), y_pred, proba,
                      classes, who)
    saved = artifact.save(est, os.path.join(out_dir, artifact.MODEL_DIR),
                          spec.get("flavor") or "auto", who)
    mlflow_dir = None
    if (spec.get("mlflow") or {}).get("model"):  # MLflow's Model format too
        from steward.ml.mlflow_model import write_model

        n = min(len(test), 5)
        mlflow_dir = write_model(est, saved.flavor, saved.trusted,
                                 os.path.join(out_dir, artifact.MODEL_DIR),
                                 test[features].head(n), y_pred[:n], ml_library_versions(),
                                 who)
    # the holdout with its predictions: the version's table
    keep = list(dict.fromkeys([*(spec["split"].get("key") or ()),
                               *([spec["split"]["column"]] if spec["split"].get("column")
                                 else []), *features, target]))
    holdout = test[keep].copy()
    holdout[PREDICTION] = y_pred
    if proba is not None and classes is not None and len(classes) == 2:
        holdout[SCORE] = proba[:, 1]
    out = os.path.join(out_dir, "data", "part-0.parquet")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(holdout), preserve_index=False), out,
                   compression="zstd")
    doc = {
        "format": 1, "flavor": saved.flavor, "artifact": saved.artifact,
        "artifact_hash": saved.artifact_hash, "trusted_types": list(saved.trusted),
        "task": task, "estimator": f"{type(est).__module__}.{type(est).__qualname__}",
        "classes": [_plain(c) for c in classes] if classes is not None else None,
        "signature": signature(train, features, target),
        "metrics": metrics, "params": spec.get("params") or {}, "seed": spec["seed"],
        "split": spec["split"], "table": table, "libraries": ml_library_versions(),
        "rows": {"train": len(train), "holdout": len(test), "without_target": dropped},
        "seconds": {"fit": fit_s, "predict": pred_s},
        "function": product.function, "inputs": dict(product.params),
        "spec": dict(spec), "source_hash": _snapshot(product, root, out_dir),
        "mlflow_model": os.path.relpath(mlflow_dir, out_dir) if mlflow_dir else None,
    }
    doc["seconds"]["total"] = time.perf_counter() - t_all
    with open(os.path.join(out_dir, artifact.MODEL_DIR, artifact.INFO_FILE), "w") as f:
        json.dump(doc, f, indent=2, default=str)
    shown = ", ".join(f"{k}={v:.4g}" if finite(v) else f"{k}={v}" for k, v in metrics.items())
    notes = [f"trained on {len(train):,} rows, {shown or 'no metrics'} on "
             f"{len(test):,} holdout rows", *saved.notes]
    if dropped:
        notes.append(f"{dropped:,} rows without a target were left out")
    return BuildResult(len(holdout), describe([out]), (out,), notes=tuple(notes))


def _all_metrics(spec: Mapping[str, Any]) -> list[str]:
    out = list(spec.get("metrics") or ())
    for g in spec.get("gates") or ():
        rule = g.get("metric") or g.get("vs_current")
        if rule and rule["name"] not in out:
            out.append(rule["name"])
    return out


def _snapshot(product: Product, root: str, out_dir: str) -> str:
    """Copy the model's source file into the version; returns its hash."""
    import shutil

    target = os.path.join(out_dir, artifact.MODEL_DIR, SOURCE_FILE)
    shutil.copyfile(os.path.join(root, product.file), target)
    return artifact.file_hash(target)


SOURCE_FILE = "source.py"


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value
