"""MLflow interoperability (the ``datasteward[mlflow]`` extra), for models that declare
``mlflow:`` in their sidecar.

- :func:`write_model`: the fitted model in MLflow's Model format, in the version's
  ``model/mlflow`` folder, so that ``mlflow.pyfunc.load_model(path)`` loads it without
  Steward. Written with MLflow's own flavor for it: ``sklearn`` (skops, with the types
  Steward trusted) for scikit-learn objects, ``xgboost`` (JSON) and ``lightgbm`` for
  those libraries' native artifacts, ``sklearn`` with pickle for a pickled one. The pip
  requirements are the library versions that trained it (MLflow does not infer them,
  which would import and trace the model in a subprocess).
- :func:`log_run`: one MLflow run per training, in the declared experiment of the
  declared tracking URI: params, holdout metrics, the gates' outcome and the Steward
  version as tags, and the MLflow Model folder as the run's ``model`` artifacts.

MLflow is imported only here, only for models that ask for it.
"""

from __future__ import annotations

import os
from typing import Any

from steward.core.errors import BuildError

MLFLOW_DIR = "mlflow"  # inside the version's model/ folder


def _mlflow(who: str) -> Any:
    try:
        import mlflow
    except ImportError:
        raise BuildError(f"{who}: 'mlflow:' needs MLflow; pip install "
                         "'datasteward[mlflow]' (or remove 'mlflow:' from the sidecar)") from None
    return mlflow


def requirements(flavor: str, libraries: dict[str, str | None]) -> list[str]:
    """The pip requirements of the MLflow copy: the versions that trained it."""
    libs = {"sklearn": ("scikit-learn", "skops", "numpy", "scipy", "pandas"),
            "pickle": ("scikit-learn", "numpy", "scipy", "pandas"),
            "xgboost": ("xgboost", "numpy", "pandas"),
            "lightgbm": ("lightgbm", "numpy", "pandas")}[flavor]
    out = []
    for lib in libs:
        if libraries.get(lib):
            out.append(f"{lib}=={libraries[lib]}")
    if flavor == "pickle" and libraries.get("lightgbm"):
        out.append(f"lightgbm=={libraries['lightgbm']}")
    return out


def write_model(estimator: Any, flavor: str, trusted: tuple[str, ...], model_dir: str,
                sample: Any, predictions: Any, libraries: dict[str, str | None],
                who: str) -> str:
    """Write ``estimator`` in MLflow's Model format to ``model_dir/mlflow``; returns it.

    ``sample`` (a few feature rows) and ``predictions`` (theirs) give MLflow its
    signature.
    """
    mlflow = _mlflow(who)
    import warnings

    from mlflow.models import infer_signature

    path = os.path.join(model_dir, MLFLOW_DIR)
    with warnings.catch_warnings():  # (its hint on integer columns, at every training)
        warnings.simplefilter("ignore", UserWarning)
        signature = infer_signature(sample, predictions)
    kwargs: dict[str, Any] = {
        "signature": signature,
        "pip_requirements": requirements(flavor, libraries),
        "metadata": {"steward_flavor": flavor},
    }
    try:
        if flavor == "xgboost":
            import mlflow.xgboost

            mlflow.xgboost.save_model(estimator, path, model_format="json", **kwargs)
        elif flavor == "lightgbm":
            import mlflow.lightgbm

            mlflow.lightgbm.save_model(estimator, path, **kwargs)
        elif flavor == "sklearn":
            import mlflow.sklearn

            mlflow.sklearn.save_model(estimator, path, serialization_format="skops",
                                      skops_trusted_types=list(trusted), **kwargs)
        else:
            import mlflow.sklearn

            mlflow.sklearn.save_model(estimator, path, serialization_format="pickle",
                                      **kwargs)
    except Exception as e:  # noqa: BLE001 (MLflow's own errors, said at the model)
        raise BuildError(f"{who}: MLflow could not save it in its Model format "
                         f"({type(e).__name__}: {e}); remove 'mlflow: {{model: true}}' "
                         "or use another flavor") from None
    return path


def tracking_uri(uri: str, root: str) -> str:
    """``file:`` URIs relative to the project folder made absolute; others as given."""
    if uri.startswith("file:") and not uri.startswith("file:/"):
        return "file:" + os.path.abspath(os.path.join(root, uri[len("file:"):]))
    if "://" not in uri and not uri.startswith("file:"):  # a plain folder
        return "file:" + os.path.abspath(os.path.join(root, uri))
    return uri


def log_run(uri: str, experiment: str, product: str, version_id: str,
            doc: dict[str, Any], outcome: str, model_path: str | None,
            inputs: dict[str, str]) -> str:
    """Log one training as an MLflow run; returns the run's id.

    Goes through an ``MlflowClient`` of ``uri`` (nothing global is set in MLflow).
    """
    mlflow = _mlflow(f"model {product}")
    from mlflow.entities import Metric, Param, RunTag
    from mlflow.tracking import MlflowClient

    from steward.ml.metrics import finite

    client = MlflowClient(tracking_uri=uri)
    exp = client.get_experiment_by_name(experiment)
    exp_id = exp.experiment_id if exp is not None else client.create_experiment(experiment)
    tags = {"steward.product": product, "steward.version": version_id,
            "steward.gates": outcome, "steward.flavor": str(doc.get("flavor")),
            "steward.artifact_hash": str(doc.get("artifact_hash")),
            **{f"steward.input.{k}": v for k, v in sorted(inputs.items())}}
    run = client.create_run(exp_id, run_name=f"{product} {version_id}",
                            tags={"mlflow.source.name": "steward", **tags})
    rid = run.info.run_id
    try:
        import time

        now = int(time.time() * 1000)
        params = {**{k: v for k, v in (doc.get("params") or {}).items()},
                  "seed": doc.get("seed")}
        client.log_batch(
            rid,
            metrics=[Metric(k, float(v), now, 0) for k, v in (doc.get("metrics") or {}).items()
                     if finite(v)],
            params=[Param(k, str(v)[:6000]) for k, v in params.items()],
            tags=[RunTag(k, v) for k, v in tags.items()])
        if model_path is not None:
            client.log_artifacts(rid, model_path, "model")
    except Exception:
        client.set_terminated(rid, "FAILED")
        raise
    client.set_terminated(rid, "FINISHED")
    _ = mlflow  # (imported first for its clear error when missing)
    return rid
