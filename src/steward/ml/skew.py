"""Training-serving skew: a scoring product's features against the model's holdout.

A Python product that scores with a model is profiled before publication, and each
model feature it carries is compared with the same column of the model version's
profile (its holdout rows) with the drift measures of ``steward.profile.drift``. The
worst population stability index is stored as a ``skew`` check result of the scoring
version, a warning by default (``steward check show`` lists it), so a model applied
to data unlike what it learned from is seen where it is applied.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from steward.core.check_results import CheckResult
from steward.meta.checks import record_results
from steward.meta.models import model_record
from steward.profile.drift import DEFAULT_THRESHOLDS, compare
from steward.profile.service import Profiles


@dataclass
class SkewCheck:
    """Post-build hook: compare a scoring product's features with its model's."""

    profiles: Profiles
    threshold: float = DEFAULT_THRESHOLDS["psi"]

    def __call__(self, candidate: Any) -> None:
        product = candidate.product
        if product.kind != "python" or candidate.recheck is not None:
            return
        results: list[CheckResult] = []
        for name in product.inputs:
            model = candidate.resolve(name)
            if model is None:
                continue
            record = model_record(self.profiles.metastore, model.id)
            if record is None:
                continue
            result = self._compare(candidate, name, model, record)
            if result is not None:
                results.append(result)
        if not results:
            return
        record_results(self.profiles.metastore, candidate.version_id, results, product.name,
                       replace_types=("skew",))
        for r in results:
            if r.failed:
                candidate.notes.append(f"skew {r.name} (warn): {r.message}")

    def _compare(self, candidate: Any, name: str, model: Any, record: Any
                 ) -> CheckResult | None:
        features = [c["name"] for c in (record.info.get("signature") or {}).get("inputs", ())]
        have = {c.name for c in candidate.result.schema}
        shared = [f for f in features if f in have]
        label = f"skew_{name.replace('.', '_')}"
        if not shared:
            return None
        ref = self.profiles.of_version(model, compute=False)
        if ref is None:
            ref = self.profiles.compute(self.profiles.store.data_files(model.path),
                                        model.bytes, model.schema, model.row_count)
        cur = candidate.profile
        if cur is None:
            cur = self.profiles.compute(list(candidate.files), schema=candidate.result.schema,
                                        rows=candidate.result.rows)
            candidate.profile = cur
        report = compare(ref, cur)["columns"]
        scored = [(f, report[f]["psi"]) for f in shared
                  if f in report and report[f].get("psi") is not None]
        if not scored:
            return None
        col, worst = max(scored, key=lambda t: t[1])
        bad = worst > self.threshold
        return CheckResult(
            label, "skew", severity="warn", status="fail" if bad else "pass",
            failures=int(bad), observed=worst, column=col,
            message=(f"features against {name} version {model.id}'s holdout: worst psi "
                     f"{worst:.3g} on {col!r} ({'>' if bad else '<='} {self.threshold:g})"),
            details={"psi": dict(scored), "model_version": model.id})
