"""``steward check``: run checks on already published versions, many products at once."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from steward.core.check_results import CheckResult, overall_status
from steward.core.errors import StateError
from steward.core.fingerprint import check_fingerprint
from steward.core.ids import new_id
from steward.core.records import Version
from steward.meta.checks import record_results, results_for
from steward.meta.store import Metastore
from steward.quality.contract import contract_of
from steward.quality.gate import own_types, product_checks
from steward.quality.run import CheckRun, evaluate


@dataclass
class ProductCheck:
    """One product's results from ``steward check``."""

    product: str
    version: str
    status: str | None
    results: list[CheckResult] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "product": self.product, "version": self.version, "status": self.status,
            "seconds": round(self.seconds, 3),
            "results": [{k: v for k, v in r.__dict__.items() if k != "checked_at"}
                        for r in self.results],
        }


def check_versions(products: Mapping[str, Any], versions: Mapping[str, Version],
                   metastore: Metastore, store: Any, engine: Any, env: str,
                   default_contract: str = "lenient", workers: int | None = None,
                   record: bool = True) -> list[ProductCheck]:
    """Check each product's given version concurrently; store the results per version.

    Args:
        products: product name -> loaded Product (its declared checks and contract).
        versions: product name -> the version to check (usually the env's current one).
        metastore, store, engine: the project's parts.
        env: the environment relationships resolve against.
        default_contract: the project's default contract mode.
        workers: threads (default: cores); each uses its own DuckDB cursor.
        record: store results and update each version's ``check_status``.
    """
    pointers = metastore.pointers(env)
    check_run = new_id("c")
    on_fail = "block"

    def resolve(name: str) -> list[str] | None:
        v = pointers.get(name)
        return None if v is None else store.data_files(v.path)

    def one(name: str) -> ProductCheck:
        t0 = time.perf_counter()
        product, version = products[name], versions[name]
        checks = product_checks(product)
        contract = contract_of(product.spec, default_contract)
        prev = _previous(metastore, version)
        files = store.data_files(version.path)
        # samples of a later check live beside the version, keyed by this check run:
        # nothing ever writes into a published version
        local, side = store.side(version.path, check_run)
        run = CheckRun(engine=engine, files=files,
                       schema=version.schema, previous_rows=prev.row_count if prev else None,
                       resolve=resolve, sample_dir=local, sample_prefix=side)
        results = evaluate(checks, run, contract).results
        store.commit_side(local, side)
        status = overall_status(results)
        if record:
            status = record_results(metastore, version.id, results, name,
                                    replace_types=own_types(checks), update_status=True)
            if all(t in pointers for t in product.check_inputs):
                fp = check_fingerprint(product, default_contract, on_fail, {
                    t: pointers[t].data_hash for t in product.check_inputs})
                metastore.recorded_checks(version.id, status, fp)
        return ProductCheck(name, version.id, status, results, time.perf_counter() - t0)

    names = [n for n in versions if n in products]
    if not names:
        return []
    _require_files(names, versions, store)
    n_workers = max(1, min(workers or os.cpu_count() or 2, len(names)))
    with ThreadPoolExecutor(n_workers, thread_name_prefix="steward-check") as pool:
        return list(pool.map(one, names))


def _require_files(names: list[str], versions: Mapping[str, Version], store: Any) -> None:
    """Refuse, before checking anything, versions whose data files are gone."""
    lost = [versions[n] for n in names if not store.data_files(versions[n].path)
            or (versions[n].files
                and {os.path.basename(f) for f in store.data_files(versions[n].path)}
                != {f for f, _ in versions[n].files})]
    if not lost:
        return
    lines = [f"{v.product} version {v.id} has lost its data: its Parquet files under "
             f"{_shown(store.local(v.path))} are not the ones published" for v in lost]
    rebuild = " ".join(sorted(v.product for v in lost))
    raise StateError("\n".join(lines) + "\n    hint: its files were deleted or moved outside "
                     "Steward; 'steward verify' lists every damaged version, 'steward run "
                     + rebuild + " --full-refresh' rebuilds, or restore the folder from a "
                     "backup")


def _shown(path: str) -> str:
    """A path relative to the working folder when it is under it."""
    here = os.getcwd() + os.sep
    return os.path.relpath(path) if os.path.abspath(path).startswith(here) else path


def _previous(metastore: Metastore, version: Version) -> Version | None:
    """The published version of the same product built just before ``version``."""
    older = [v for v in metastore.versions(version.product, status="published", limit=50)
             if v.id != version.id and v.created_at and version.created_at
             and v.created_at < version.created_at]
    return older[0] if older else None


def stored_results(metastore: Metastore, version_id: str) -> list[CheckResult]:
    return results_for(metastore, version_id)
