"""Reading stored check results back: for ``steward check show`` and ``steward show``."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from steward.core.check_results import CheckResult
from steward.core.errors import NotFound
from steward.core.records import Version
from steward.meta.checks import results_for
from steward.quality.gate import QUARANTINE_FILE


@dataclass
class CheckReport:
    """One version's stored results, with where its samples and quarantine live."""

    product: str
    version: Version
    env: str
    current: bool
    results: list[CheckResult] = field(default_factory=list)
    quarantine_path: str | None = None
    store: Any = None

    def sample_file(self, r: CheckResult) -> str | None:
        if not r.sample_path:
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


def pick_version(ctx: Any, product: str, version: str | None, env: str) -> Version:
    """The version asked for, else the newest finished one (a refused candidate included)."""
    if version:
        v = ctx.metastore.version(version)
        if v.product != product:
            raise NotFound(f"version {version!r} belongs to {v.product}, not {product}")
        return v  # type: ignore[no-any-return]
    for v in ctx.metastore.versions(product, limit=20):
        if v.status != "building":
            return v  # type: ignore[no-any-return]
    raise NotFound(f"{product} has no version yet; run 'steward run {product}' first")


def check_report(ctx: Any, product: str, version: str | None, env: str) -> CheckReport:
    """Stored results of one version of ``product`` (``ctx`` is a Context)."""
    v = pick_version(ctx, product, version, env)
    current = ctx.metastore.pointer_map(env).get(product) == v.id
    q = os.path.join(ctx.store.local(v.path), QUARANTINE_FILE)
    return CheckReport(product, v, env, current, results_for(ctx.metastore, v.id),
                       q if os.path.exists(q) else None, ctx.store)


def current_results(metastore: Any, version_id: str) -> list[CheckResult]:
    """Stored results of one version (for ``steward show``)."""
    return results_for(metastore, version_id)


def quarantine_file(ctx: Any, product: str, env: str | None = None) -> str | None:
    """The quarantined rows of ``product``'s current version, if it set any aside.

    Query them with ``steward sql "select * from read_parquet('<path>')"``.
    """
    env = env or ctx.default_env
    v = ctx.current(env).get(product)
    if v is None:
        return None
    path = os.path.join(ctx.store.local(v.path), QUARANTINE_FILE)
    return path if os.path.exists(path) else None
