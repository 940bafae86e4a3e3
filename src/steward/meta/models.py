"""Model versions (table ``model_versions``, m0008): what each training run recorded."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from steward.meta.modelreads import ModelRecord
from steward.meta.store import Metastore, chunks
from steward.meta.tables import model_versions  # noqa: F401  (the one MetaData)


def record_model(ms: Metastore, version_id: str, product: str, doc: dict[str, Any]) -> None:
    """Store what ``model/model.json`` says of a version (replacing an earlier row)."""
    row = {
        "version_id": version_id, "product": product, "created_at": datetime.now(UTC),
        "flavor": doc["flavor"], "artifact": doc["artifact"],
        "artifact_hash": doc["artifact_hash"], "task": doc.get("task"),
        "metrics_json": json.dumps(doc.get("metrics") or {}),
        "params_json": json.dumps(doc.get("params") or {}, default=str),
        "libraries_json": json.dumps(doc.get("libraries") or {}),
        "info_json": json.dumps({k: v for k, v in doc.items() if k not in (
            "flavor", "artifact", "artifact_hash", "task", "metrics", "params", "libraries")},
            default=str),
    }
    with ms.begin() as conn:
        conn.execute(model_versions.delete().where(model_versions.c.version_id == version_id))
        conn.execute(model_versions.insert(), row)


def model_records(ms: Metastore, version_ids: Iterable[str]) -> dict[str, ModelRecord]:
    """The recorded rows of these versions (absent: not a model, or never recorded)."""
    out: dict[str, ModelRecord] = {}
    with ms.sa_engine.connect() as conn:
        for chunk in chunks(list(version_ids)):
            for r in conn.execute(sa.select(model_versions)
                                  .where(model_versions.c.version_id.in_(chunk))):
                out[r.version_id] = _record(r)
    return out


def model_record(ms: Metastore, version_id: str) -> ModelRecord | None:
    return model_records(ms, [version_id]).get(version_id)


def product_records(ms: Metastore, product: str, limit: int | None = None
                    ) -> list[ModelRecord]:
    """Every recorded version of one model, newest first."""
    q = (sa.select(model_versions).where(model_versions.c.product == product)
         .order_by(model_versions.c.created_at.desc(), model_versions.c.version_id.desc()))
    if limit:
        q = q.limit(limit)
    with ms.sa_engine.connect() as conn:
        return [_record(r) for r in conn.execute(q)]


def _record(r: Any) -> ModelRecord:
    created = r.created_at
    if created is not None and created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    return ModelRecord(r.version_id, r.product, created, r.flavor, r.artifact,
                       r.artifact_hash, r.task, json.loads(r.metrics_json or "{}"),
                       json.loads(r.params_json or "{}"), json.loads(r.libraries_json or "{}"),
                       json.loads(r.info_json or "{}"))


