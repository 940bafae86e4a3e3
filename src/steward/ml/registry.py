"""The model registry is versions plus environments: what ``steward models``, ``steward
log MODEL``, ``diff`` and ``reproduce`` read.

Nothing here is a second source of truth: a model's versions are the product's
versions, its "stages" are the environments pointing at them, and promotion and
rollback are the same pointer moves as for any product (audited the same way).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from steward.core.errors import NotFound, StewardError
from steward.core.model import Product, Project
from steward.core.records import Version
from steward.meta import modelreads as mr
from steward.meta.modelreads import ModelRecord
from steward.meta.reads import Reads

if TYPE_CHECKING:  # SQLAlchemy stays unimported on the read paths (models, log)
    from steward.meta.store import Metastore


@dataclass
class ModelRow:
    """One model with its current version in each environment."""

    product: str
    metrics: tuple[str, ...]
    envs: dict[str, str]  # env -> version id
    current: dict[str, dict[str, Any]]  # env -> metrics of that version


def model_names(project: Project) -> list[str]:
    return sorted(n for n, p in project.products.items() if p.kind == "model")


def overview(reads: Reads, project: Project) -> list[ModelRow]:
    """Every model of the project with its version per environment and its metrics."""
    names = model_names(project)
    envs = mr.environments(reads)
    pointers = {e: reads.pointer_ids(e) for e in envs}
    ids = {pointers[e][n] for e in envs for n in names if n in pointers[e]}
    records = mr.records(reads, ids)
    rows = []
    for n in names:
        spec = project[n].spec_dump
        at = {e: pointers[e][n] for e in envs if n in pointers[e]}
        rows.append(ModelRow(n, tuple(spec.get("metrics") or ()), at,
                             {e: (records[v].metrics if v in records else {})
                              for e, v in at.items()}))
    return rows


@dataclass
class LogEntry:
    version: Version
    record: ModelRecord | None
    envs: list[str]


def model_log(reads: Reads, product: str, limit: int = 20) -> list[LogEntry]:
    """Each version of a model, newest first: status, metrics, params, input versions."""
    versions = mr.versions(reads, product, limit)
    records = mr.records(reads, [v.id for v in versions])
    pointed = mr.envs_pointing_at(reads, [v.id for v in versions])
    return [LogEntry(v, records.get(v.id), sorted(pointed.get(v.id, []))) for v in versions]


@dataclass
class ModelDiff:
    product: str
    a: str
    b: str
    params: dict[str, tuple[Any, Any]]  # name -> (a, b), only those that differ
    metrics: dict[str, tuple[Any, Any]]  # every metric of either side
    inputs: dict[str, tuple[Any, Any]]  # input product -> (version a, version b)
    libraries: dict[str, tuple[Any, Any]]  # only those that differ
    predictions: dict[str, Any] = field(default_factory=dict)
    # features, target, split, seed, task, flavor: only those that differ
    declaration: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"product": self.product, "a": self.a, "b": self.b,
                "params": {k: list(v) for k, v in self.params.items()},
                "metrics": {k: list(v) for k, v in self.metrics.items()},
                "inputs": {k: list(v) for k, v in self.inputs.items()},
                "libraries": {k: list(v) for k, v in self.libraries.items()},
                "declaration": {k: list(v) for k, v in self.declaration.items()},
                "predictions": self.predictions}


def _pairs(a: dict[str, Any], b: dict[str, Any], only_changed: bool
           ) -> dict[str, tuple[Any, Any]]:
    keys = sorted(set(a) | set(b))
    return {k: (a.get(k), b.get(k)) for k in keys
            if not only_changed or a.get(k) != b.get(k)}


def model_diff(ms: Metastore, store: Any, product: Product, va: Version, vb: Version
               ) -> ModelDiff:
    """Params, metrics, input versions and holdout predictions of two model versions."""
    from steward.meta.models import model_records

    recs = model_records(ms, [va.id, vb.id])
    ra, rb = recs.get(va.id), recs.get(vb.id)
    if ra is None or rb is None:
        missing = va.id if ra is None else vb.id
        raise NotFound(f"version {missing} of {product.name} has no model record (it "
                       "failed before it was trained)")
    out = ModelDiff(product.name, va.id, vb.id, _pairs(ra.params, rb.params, True),
                    _pairs(ra.metrics, rb.metrics, False), _pairs(va.inputs, vb.inputs, False),
                    _pairs(ra.libraries, rb.libraries, True))
    keys = ("features", "target", "split", "seed", "task", "flavor")
    sa, sb = ra.info.get("spec") or {}, rb.info.get("spec") or {}
    out.declaration = _pairs({k: sa.get(k) for k in keys if k in sa},
                             {k: sb.get(k) for k in keys if k in sb}, True)
    out.predictions = _prediction_diff(store, product, va, vb)
    return out


def _holdout(store: Any, v: Version) -> Any:
    import pyarrow.parquet as pq

    return pq.read_table(store.data_files(v.path)).to_pandas()


def _key(product: Product) -> list[str]:
    spec = product.spec_dump
    return list(spec.get("primary_key") or spec["split"].get("key") or ())


def _prediction_diff(store: Any, product: Product, va: Version, vb: Version
                     ) -> dict[str, Any]:
    """How the two versions' holdout predictions differ, on the rows both hold."""
    a, b = _holdout(store, va), _holdout(store, vb)
    key = [k for k in _key(product) if k in a.columns and k in b.columns]
    if key:
        both = a.merge(b, on=key, suffixes=("_a", "_b"))
    elif len(a) == len(b):
        both = a.add_suffix("_a").join(b.add_suffix("_b"))
    else:
        return {"compared": 0, "note": "the holdouts differ and have no key to match rows"}
    return compare_predictions(both, len(a), len(b))


def compare_predictions(both: Any, rows_a: int, rows_b: int) -> dict[str, Any]:
    """Differing predictions and the largest score difference of matched rows."""
    import numpy as np

    out: dict[str, Any] = {"rows_a": rows_a, "rows_b": rows_b, "compared": len(both)}
    if not len(both):
        return out
    pa_, pb = both["prediction_a"].to_numpy(), both["prediction_b"].to_numpy()
    out["differing"] = int((pa_ != pb).sum())
    if "score_a" in both.columns and "score_b" in both.columns:
        d = np.abs(both["score_a"].to_numpy(dtype=float) - both["score_b"].to_numpy(dtype=float))
        out["max_score_difference"] = float(np.nanmax(d)) if len(d) else 0.0
    elif np.issubdtype(pa_.dtype, np.number) and np.issubdtype(pb.dtype, np.number):
        out["max_prediction_difference"] = float(np.nanmax(np.abs(pa_ - pb)))
    return out


@dataclass
class Reproduction:
    product: str
    version: str
    identical: bool
    predictions: dict[str, Any]
    metrics: dict[str, tuple[Any, Any]]
    artifact_identical: bool
    libraries: dict[str, tuple[Any, Any]]
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"product": self.product, "version": self.version, "identical": self.identical,
                "predictions": self.predictions,
                "metrics": {k: list(v) for k, v in self.metrics.items()},
                "artifact_identical": self.artifact_identical,
                "libraries": {k: list(v) for k, v in self.libraries.items()},
                "notes": self.notes}


def reproduce(ms: Metastore, store: Any, engine: Any, product: Product, version: Version
              ) -> Reproduction:
    """Train ``version`` of a model again from its recorded inputs, declaration, seed and
    code (kept in the version), and compare the new holdout predictions with the old."""
    import json

    import pyarrow.parquet as pq

    from steward.core.fingerprint import ml_library_versions
    from steward.core.mlspec import ModelProductSpec
    from steward.core.model import SpecRef
    from steward.meta.models import model_records
    from steward.ml import artifact
    from steward.ml.train import SOURCE_FILE, build_model

    record = model_records(ms, [version.id]).get(version.id)
    if record is None or "spec" not in record.info:
        raise NotFound(f"version {version.id} of {product.name} has no recorded training "
                       "(it failed before it was trained, or predates reproducible models)")
    info = record.info
    inputs: dict[str, list[str]] = {}
    for name, vid in version.inputs.items():
        try:
            iv = ms.version(vid)
        except NotFound:
            iv = None
        files = store.data_files(iv.path) if iv is not None else []
        if not files:
            raise StewardError(
                f"cannot reproduce {product.name} version {version.id}: its input {name} "
                f"version {vid} is gone (garbage-collected?); keep input versions a model "
                "needs (retention) to reproduce it")
        inputs[name] = files
    folder = store.local(f"{version.path}/{artifact.MODEL_DIR}")
    source = os.path.join(folder, SOURCE_FILE)
    if not os.path.exists(source) or artifact.file_hash(source) != info.get("source_hash"):
        raise StewardError(f"{product.name} version {version.id}: its recorded source "
                           f"({artifact.MODEL_DIR}/{SOURCE_FILE}) is missing or changed")
    spec = ModelProductSpec.model_validate(info["spec"])
    work = tempfile.mkdtemp(prefix="steward-reproduce-")
    try:
        shutil.copyfile(source, os.path.join(work, SOURCE_FILE))
        old = Product.with_spec(SpecRef(spec), name=product.name, kind="model",
                                file=SOURCE_FILE, function=info["function"],
                                inputs=tuple(sorted(version.inputs)),
                                params=dict(info.get("inputs") or {}))
        out = os.path.join(work, "out")
        build_model(old, inputs, out, work, engine.describe)
        with open(os.path.join(out, artifact.MODEL_DIR, artifact.INFO_FILE)) as f:
            new = json.load(f)
        a = _holdout(store, version)
        b = pq.read_table(os.path.join(out, "data", "part-0.parquet")).to_pandas()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    same_rows = len(a) == len(b)
    both = a.add_suffix("_a").join(b.add_suffix("_b")) if same_rows else a.iloc[0:0]
    preds = compare_predictions(both, len(a), len(b))
    identical = same_rows and preds.get("differing") == 0 and all(
        a[c].equals(b[c]) for c in ("prediction", "score") if c in a.columns)
    notes = []
    libs = _pairs(record.libraries, ml_library_versions(), True)
    if libs:
        notes.append("the libraries differ from those that trained it: " + ", ".join(
            f"{k} {x} -> {y}" for k, (x, y) in libs.items()))
    return Reproduction(product.name, version.id, bool(identical), preds,
                        _pairs(record.metrics, new["metrics"], False),
                        new["artifact_hash"] == record.artifact_hash, libs, notes)
