"""Metric gates: a post-build hook that records a model version and may refuse it.

A model version is recorded in ``model_versions`` (from its ``model/model.json``), then
its gates are evaluated and stored as check results of the version, like the quality
gate's: a metric that is not a finite number, a ``metric`` gate outside its bounds, or a
``vs_current`` gate worse than the version the target environment points at by more
than allowed refuses the version (kept for inspection, never published).
``steward check show MODEL`` shows both values.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from typing import Any

from steward.core.check_results import CheckResult, overall_status
from steward.core.errors import CheckFailed
from steward.core.mlspec import HIGHER_IS_BETTER
from steward.meta.checks import record_results
from steward.meta.models import model_record, record_model
from steward.meta.store import Metastore
from steward.ml import artifact
from steward.ml.metrics import finite
from steward.quality.gate import failure_summary, worst

GATE_TYPES = ("metric", "vs_current", "metric_value")


def regression_pct(metric: str, candidate: float, current: float) -> float:
    """How much worse ``candidate`` is than ``current``, in percent (negative: better)."""
    worse = (current - candidate) if HIGHER_IS_BETTER[metric] else (candidate - current)
    base = abs(current)
    if base == 0:
        return 0.0 if worse <= 0 else float("inf")
    return worse / base * 100.0


def evaluate(doc: dict[str, Any], gates: list[dict[str, Any]],
             current: tuple[str, dict[str, Any]] | None, env: str) -> list[CheckResult]:
    """The results of a model version's gates; ``current``: (version, its metrics)."""
    metrics: dict[str, Any] = doc.get("metrics") or {}
    results: list[CheckResult] = []
    for name, value in metrics.items():
        if not finite(value):
            results.append(CheckResult(
                f"metric_{name}_is_finite", "metric_value", status="error",
                observed=str(value), message=f"{name} is {value} on the holdout; a metric "
                "that is not a finite number cannot be compared (a holdout with one class, "
                "predictions that are NaN or infinite?)"))
    for g in gates:
        if g.get("metric"):
            rule = g["metric"]
            name, value = rule["name"], metrics.get(rule["name"])
            label = f"metric_{name}"
            if not finite(value):
                continue  # reported above
            lo, hi = rule.get("min"), rule.get("max")
            bad = (lo is not None and value < lo) or (hi is not None and value > hi)
            bounds = " and ".join(s for s in (f"at least {lo}" if lo is not None else "",
                                              f"at most {hi}" if hi is not None else "") if s)
            results.append(CheckResult(
                label, "metric", severity=rule.get("severity", "error"),
                status="fail" if bad else "pass", failures=int(bad), observed=value,
                message=f"{name} = {value:.4f} on the holdout; the gate asks {bounds}",
                details={"candidate": value, "min": lo, "max": hi}))
        elif g.get("vs_current"):
            rule = g["vs_current"]
            name, value = rule["name"], metrics.get(rule["name"])
            label = f"vs_current_{name}"
            if not finite(value):
                continue
            allowed = float(rule.get("max_regression_pct", 0.0))
            cur_value = (current[1].get(name) if current else None)
            if current is None or not finite(cur_value):
                why = (f"no version in '{env}' to compare with" if current is None else
                       f"the current version {current[0]} has no {name}")
                results.append(CheckResult(
                    label, "vs_current", severity=rule.get("severity", "error"),
                    observed=value, message=f"{name} = {value:.4f}; {why}: passes",
                    details={"candidate": value, "current": None}))
                continue
            pct = regression_pct(name, float(value), float(cur_value))  # type: ignore[arg-type]
            bad = pct > allowed
            direction = "worse" if pct > 0 else "better"
            results.append(CheckResult(
                label, "vs_current", severity=rule.get("severity", "error"),
                status="fail" if bad else "pass", failures=int(bad), observed=value,
                message=(f"{name} = {value:.4f}, against {cur_value:.4f} for the current "
                         f"version {current[0]} in '{env}': {abs(pct):.2f}% {direction} "
                         f"(at most {allowed:g}% worse allowed)"),
                details={"candidate": value, "current": cur_value,
                         "current_version": current[0], "regression_pct": pct,
                         "max_regression_pct": allowed}))
    return results


@dataclass
class ModelGate:
    """The post-build hook for model products (``Context.post_build_hooks``)."""

    metastore: Metastore
    store: Any
    root: str | None = None  # the project folder (relative MLflow file: URIs)
    on_recheck = True  # a changed gate is evaluated again on the version in use

    def _doc(self, candidate: Any) -> dict[str, Any] | None:
        if candidate.scratch is not None:
            path = os.path.join(candidate.scratch, artifact.MODEL_DIR, artifact.INFO_FILE)
            with open(path) as f:
                return json.load(f)  # type: ignore[no-any-return]
        record = model_record(self.metastore, candidate.version_id)
        if record is None:
            return None
        return {"metrics": record.metrics}

    def __call__(self, candidate: Any) -> None:
        product = candidate.product
        if product.kind != "model":
            return
        doc = self._doc(candidate)
        if doc is None:
            return
        if candidate.recheck is None:
            record_model(self.metastore, candidate.version_id, product.name, doc)
        current = None
        prev = candidate.previous
        if prev is not None and prev.id != candidate.version_id:
            rec = model_record(self.metastore, prev.id)
            if rec is not None:
                current = (prev.id, rec.metrics)
        gates = list(product.spec_dump.get("gates") or ())
        results = evaluate(doc, gates, current, candidate.env)
        record_results(self.metastore, candidate.version_id, results, product.name,
                       replace_types=GATE_TYPES)
        status = overall_status(results)
        candidate.check_status = worst(candidate.check_status, status)
        for r in results:
            if r.failed and not r.blocking:
                candidate.notes.append(f"gate {r.name} (warn): {r.message}")
        tracking = (product.spec_dump.get("mlflow") or {}).get("tracking_uri")
        if tracking and candidate.recheck is None:
            self._log_to_mlflow(candidate, doc, tracking,
                                "refused" if status == "fail" else str(status))
        if status == "fail":
            raise CheckFailed(failure_summary(product.name, results))

    def _log_to_mlflow(self, candidate: Any, doc: dict[str, Any], uri: str, outcome: str
                       ) -> None:
        """The training as an MLflow run; a tracking server that fails is a run note,
        never a refused model."""
        from steward.core.errors import StewardError
        from steward.ml.mlflow_model import log_run, tracking_uri

        product = candidate.product
        cfg = product.spec_dump.get("mlflow") or {}
        rel = doc.get("mlflow_model")
        path = os.path.join(candidate.scratch, rel) if rel and candidate.scratch else None
        inputs = {i: v.id for i in product.inputs if (v := candidate.resolve(i)) is not None}
        target = tracking_uri(uri, self.root or os.getcwd())
        try:
            rid = log_run(target, cfg.get("experiment") or product.name, product.name,
                          candidate.version_id, doc, outcome, path, inputs)
        except StewardError:
            raise
        except Exception as e:  # noqa: BLE001 (a tracking server down, a bad URI...)
            candidate.notes.append(f"not logged to MLflow at {target}: "
                                   f"{type(e).__name__}: {e}")
            return
        candidate.notes.append(f"logged to MLflow at {target}: run {rid}")
