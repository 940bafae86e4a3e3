"""Model records read through :class:`steward.meta.reads.Reads`: on a SQLite metastore
without SQLAlchemy, so ``steward models`` and ``steward log MODEL`` start fast."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from steward.core.records import Version
from steward.meta.reads import VERSION_COLUMNS, Reads, version_of, when


@dataclass(frozen=True)
class ModelRecord:
    """One model version as recorded when it was trained.

    Attributes:
        version_id: the version (its folder holds ``model/<artifact>``).
        flavor: how the artifact is saved (``sklearn``: skops; ``pickle``).
        artifact: the artifact's file name inside the version's ``model/`` folder.
        artifact_hash: xxh3-128 of the artifact's bytes, compared before every load.
        metrics: holdout metric -> value.
        params: the hyper-parameters it was trained with.
        libraries: library -> version that trained it.
        info: signature, split, seed, rows, timings, trusted types.
    """

    version_id: str
    product: str
    created_at: datetime | None
    flavor: str
    artifact: str
    artifact_hash: str
    task: str | None
    metrics: dict[str, float | None]
    params: dict[str, Any]
    libraries: dict[str, str | None]
    info: dict[str, Any]



_COLUMNS = ("version_id, product, created_at, flavor, artifact, artifact_hash, task, "
            "metrics_json, params_json, libraries_json, info_json")


def _record(r: tuple[Any, ...]) -> ModelRecord:
    (vid, product, created, flavor, art, h, task, metrics, params, libs, info) = r
    return ModelRecord(vid, product, when(created), flavor, art, h, task,
                       json.loads(metrics or "{}"), json.loads(params or "{}"),
                       json.loads(libs or "{}"), json.loads(info or "{}"))


def records(reads: Reads, ids: Iterable[str]) -> dict[str, ModelRecord]:
    return {r[0]: _record(r) for r in reads.rows_in(
        f"SELECT {_COLUMNS} FROM model_versions WHERE version_id IN ({{in}})", ids)}


def environments(reads: Reads) -> list[str]:
    return [r[0] for r in reads.rows("SELECT name FROM environments ORDER BY name")]


def versions(reads: Reads, product: str, limit: int) -> list[Version]:
    """A product's versions, newest first."""
    return [version_of(r) for r in reads.rows(
        f"SELECT {VERSION_COLUMNS} FROM versions WHERE product = :p "
        "ORDER BY created_at DESC, id DESC LIMIT :n", {"p": product, "n": limit})]


def envs_pointing_at(reads: Reads, ids: Iterable[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for vid, env in reads.rows_in(
            "SELECT version_id, env FROM env_pointers WHERE version_id IN ({in})", ids):
        out.setdefault(vid, []).append(env)
    return out
