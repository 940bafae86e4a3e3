"""Reading stored check results back: for ``steward check show`` and ``steward show``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from steward.core.check_results import CheckResult
from steward.core.errors import NotFound
from steward.core.records import Version
from steward.meta.checks import results_for
from steward.meta.store import Metastore
from steward.quality.gate import QUARANTINE_FILE
from steward.store.base import Store


@dataclass
class CheckReport:
    """One version's stored results, with where its samples and quarantine live."""

    product: str
    version: Version
    env: str
    current: bool
    results: list[CheckResult] = field(default_factory=list)
    quarantine_path: str | None = None
    store: Store | None = None

    def sample_file(self, r: CheckResult) -> str | None:
        if not r.sample_path:
            return None
        if self.store is None:
            return None
        if r.sample_path.startswith(".checks/"):  # a later check run's (a store key)
            path = self.store.local(r.sample_path)
        else:
            path = os.path.join(self.store.local(self.version.path), r.sample_path)
        return path if os.path.exists(path) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "product": self.product, "version": self.version.id,
            "status": self.version.status, "check_status": self.version.check_status,
            "env": self.env, "current": self.current, "error": self.version.error,
            "quarantine": self.quarantine_path,
            "results": [{**{k: v for k, v in r.__dict__.items()},
                         "sample_file": self.sample_file(r)} for r in self.results],
        }


def pick_version(metastore: Metastore, product: str, version: str | None) -> Version:
    """The version asked for, else the newest finished one (a refused candidate included)."""
    if version:
        v = metastore.version(version)
        if v.product != product:
            raise NotFound(f"version {version!r} belongs to {v.product}, not {product}")
        return v
    for v in metastore.versions(product, limit=20):
        if v.status != "building":
            return v
    raise NotFound(f"{product} has no version yet; run 'steward run {product}' first")


def check_report(metastore: Metastore, store: Store, product: str, version: str | None,
                 env: str) -> CheckReport:
    """Stored results of one version of ``product``."""
    v = pick_version(metastore, product, version)
    current = metastore.pointer_map(env).get(product) == v.id
    q = os.path.join(store.local(v.path), QUARANTINE_FILE)
    return CheckReport(product, v, env, current, results_for(metastore, v.id),
                       q if os.path.exists(q) else None, store)


def current_results(metastore: Metastore, version_id: str) -> list[CheckResult]:
    """Stored results of one version (for ``steward show``)."""
    return results_for(metastore, version_id)


def quarantine_file(store: Store, v: Version | None) -> str | None:
    """The quarantined rows of version ``v``, if it set any aside.

    Query them with ``steward sql "select * from read_parquet('<path>')"``.
    """
    if v is None:
        return None
    path = os.path.join(store.local(v.path), QUARANTINE_FILE)
    return path if os.path.exists(path) else None
