"""Profiles and metrics of versions: computing, storing, the build hooks and the verbs.

Two hooks wire this into a build (see ``Context.post_build_hooks`` / ``published_hooks``):

- :class:`ProfileGate` runs before publication, only for products that declare checks
  judged from profiles (``drift``, ``anomaly``: the kinds with ``judge_profiles`` in
  ``steward.core.checkkinds``): it profiles the candidate, has each check's kind judge it
  from the :class:`Evidence` (the candidate's profile, the previous version's stored
  profile, the metric history), adds notes for warnings and raises ``CheckFailed`` for
  failing error-severity checks.
- :class:`ProfileOnPublish` runs after publication: it stores the new version's profile
  (reusing the one the gate computed) and appends its metrics to the time series.
  Reused versions are never published again, so they are never re-profiled.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from steward.core.check_results import CheckResult
from steward.core.checkkinds import KINDS, PROFILED
from steward.core.checkkinds.base import Skipped
from steward.core.checks import Check
from steward.core.errors import CheckFailed, NotFound
from steward.core.model import Product
from steward.core.records import Version
from steward.meta import profiles as mp
from steward.meta.store import Metastore
from steward.profile.anomaly import WINDOW
from steward.profile.compute import compute_profile
from steward.profile.drift import compare

TABLE_METRICS = ("row_count", "bytes", "column_count")
COLUMN_METRICS = ("null_fraction", "distinct_count", "mean")


def profile_checks(product: Product) -> list[Check]:
    """The product's checks judged from profiles (drift, anomaly), table-level and per
    column."""
    spec = product.spec
    found: list[Any] = list(spec.checks)
    for col in spec.columns.values():
        found.extend(col.checks)
    return [c for c in found if c.type in PROFILED]


def metric_value(profile: dict[str, Any], metric: str, column: str | None) -> float | None:
    """A metric of a profile: ``row_count``, ``bytes``, ``column_count`` or, for a column,
    ``null_fraction``, ``distinct_count`` or any numeric statistic (``mean``, ``max``...)."""
    if column is None:
        key = {"row_count": "rows", "rows": "rows"}.get(metric, metric)
        v = profile.get(key)
    else:
        col = profile.get("columns", {}).get(column)
        if col is None:
            return None
        v = col.get({"distinct_count": "distinct"}.get(metric, metric))
    return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None


def metric_points(product: str, version_id: str, profile: dict[str, Any], at: datetime,
                  extra: dict[str, float | None] | None = None) -> list[mp.MetricPoint]:
    pts = [mp.MetricPoint(product, version_id, m, None, metric_value(profile, m, None), at)
           for m in TABLE_METRICS]
    for name, col in profile.get("columns", {}).items():
        for m in COLUMN_METRICS:
            if m == "mean" and col.get("kind") not in ("numeric", "float"):
                continue
            pts.append(mp.MetricPoint(product, version_id, m, name,
                                      metric_value(profile, m, name), at))
    for m, v in (extra or {}).items():
        if v is not None:
            pts.append(mp.MetricPoint(product, version_id, m, None, float(v), at))
    return pts


@dataclass
class Evidence:
    """What a profile-judged check reads (``core.checkkinds.base.ProfileEvidence``): the
    candidate's profile, the previous version's (``previous_of``, read on first use) and
    a metric's past values (``history_of(metric, column)``)."""

    current: dict[str, Any] | None
    previous_of: Callable[[], dict[str, Any] | None] = lambda: None
    history_of: Callable[[str, str | None], Sequence[float | None]] = lambda m, c: ()
    _previous: list[dict[str, Any] | None] = field(default_factory=list, repr=False)

    def previous(self) -> dict[str, Any] | None:
        if not self._previous:
            self._previous.append(self.previous_of())
        return self._previous[0]

    def compare(self) -> dict[str, Any] | None:
        previous = self.previous()
        if self.current is None or previous is None:
            return None
        return compare(previous, self.current)

    def value(self, metric: str, column: str | None) -> float | None:
        return None if self.current is None else metric_value(self.current, metric, column)

    def history(self, metric: str, column: str | None) -> Sequence[float | None]:
        return self.history_of(metric, column)


def judge(checks: Iterable[Check], evidence: Evidence) -> list[CheckResult | Skipped]:
    """Each check judged by its kind from ``evidence`` (``Skipped``: nothing to judge)."""
    out: list[CheckResult | Skipped] = []
    for c in checks:
        kind_judge = KINDS[c.type].judge_profiles
        assert kind_judge is not None, c.type
        out.append(kind_judge(c, evidence))
    return out


def _pass_rate(metastore: Metastore, version_id: str) -> float | None:
    """The share of a version's stored check results that passed (None: no checks)."""
    from steward.meta.checks import results_for

    results = results_for(metastore, version_id)
    if not results:
        return None
    return sum(1 for r in results if r.status == "pass") / len(results)


@dataclass
class Profiles:
    """Profiles and metrics over one project's metastore, store and engine."""

    metastore: Metastore
    store: Any
    engine: Any

    # -- computing and storing -----------------------------------------------------
    def compute(self, files: list[str], byte_size: int | None = None,
                schema: Any = None, rows: int | None = None, table: Any = None
                ) -> dict[str, Any]:
        """Profile ``files``: in process when small (see :func:`compute_profile`).

        ``schema`` (columns with ``name`` and ``type``) and ``rows`` are the version's
        when known; they save a query or a look at the Parquet footers. ``table``: its
        data, when a hook already read it (:func:`steward.profile.small.shared_table`).
        """
        cols = [(c.name, c.type) for c in schema] if schema else None
        return compute_profile(self.engine, files, byte_size=byte_size,
                               schema=cols, rows=rows, table=table)

    def of_version(self, version: Version, compute: bool = True) -> dict[str, Any] | None:
        """The stored profile of ``version``; computed and stored first when missing."""
        prof = mp.load_profile(self.metastore, version.id)
        if prof is None and compute and version.status != "building":
            prof = self.compute(self.store.data_files(version.path), version.bytes,
                                version.schema, version.row_count)
            mp.save_profile(self.metastore, version.product, version.id, prof)
        return prof

    def record(self, version: Version, profile: dict[str, Any],
               extra: dict[str, float | None] | None = None) -> None:
        """Store a published version's profile and append its metrics (one transaction)."""
        at = datetime.now(UTC)
        mp.record_profile(self.metastore, version.product, version.id, profile,
                          metric_points(version.product, version.id, profile, at, extra), at)

    def record_many(self, items: Sequence[tuple[Version, dict[str, Any],
                                                dict[str, float | None] | None]]) -> None:
        """:meth:`record` for many published versions, in one transaction."""
        at = datetime.now(UTC)
        mp.record_profiles(self.metastore, [
            (v.product, v.id, prof, metric_points(v.product, v.id, prof, at, extra))
            for v, prof, extra in items], at)

    def history(self, product: str, metric: str, column: str | None,
                exclude_version: str | None = None) -> list[float | None]:
        """Past values of a metric, oldest first: the series, else the stored profiles."""
        pts = mp.series(self.metastore, product, metric, column or "", limit=WINDOW,
                        exclude_version=exclude_version)
        if pts:
            return [p.value for p in pts]
        out: list[float | None] = []
        for vid, _ in mp.profiled_versions(self.metastore, product)[-WINDOW:]:
            if vid == exclude_version:
                continue
            prof = mp.load_profile(self.metastore, vid)
            if prof is not None:
                out.append(metric_value(prof, metric, column))
        return out

    # -- resolving -----------------------------------------------------------------
    def resolve(self, product: str, ref: str | None, default_env: str) -> Version:
        """A product's version from a version id (or unique prefix) or an environment name."""
        ref = ref or default_env
        if self.metastore.env_exists(ref):
            v = self.metastore.pointers(ref).get(product)
            if v is None:
                raise NotFound(f"{product} has no version in environment {ref!r}")
            return v
        try:
            v = self.metastore.version(ref)
        except NotFound:
            raise NotFound(f"{ref!r} is neither a version of {product} nor an environment"
                           ) from None
        if v.product != product:
            raise NotFound(f"version {ref} belongs to {v.product}, not {product}")
        return v

    def previous(self, version: Version) -> Version | None:
        """The published version of the same product created just before ``version``."""
        older = [v for v in self.metastore.versions(version.product, status="published")
                 if v.id != version.id and v.created_at and version.created_at
                 and v.created_at <= version.created_at]
        return older[0] if older else None

    # -- verbs ---------------------------------------------------------------------
    def drift(self, product: str, ref_a: str | None, ref_b: str | None, default_env: str
              ) -> dict[str, Any]:
        """Drift from version A (the reference) to version B, from stored profiles."""
        b = self.resolve(product, ref_b, default_env)
        if ref_a:
            a = self.resolve(product, ref_a, default_env)
        else:
            prev = self.previous(b)
            if prev is None:
                raise NotFound(f"{product} has no version before {b.id} to compare with")
            a = prev
        pa, pb = self.of_version(a), self.of_version(b)
        t0 = time.perf_counter()
        out = compare(pa or {}, pb or {})
        out["seconds"] = time.perf_counter() - t0
        out["product"], out["from"], out["to"] = product, a.id, b.id
        return out

    def metrics(self, product: str, metric: str | None = None, column: str | None = None
                ) -> list[mp.MetricPoint]:
        return mp.series(self.metastore, product, metric, column)

    def metric_names(self, product: str) -> list[tuple[str, str | None, int]]:
        return mp.metric_names(self.metastore, product)


class ProfileOnPublish:
    """Published hook: profile the new version and append its metrics; never raises.

    Profiles are stored in batches of ``batch`` versions, one transaction each (a row of
    SQL per version costs more than its profile); :meth:`flush` stores the rest, and the
    executor calls it when the run's builds are done. A process killed before a flush
    loses only profiles, which are computed again when asked for (``of_version``).
    """

    def __init__(self, profiles: Profiles, batch: int = 1):
        self.profiles = profiles
        self.batch = max(batch, 1)
        self._pending: list[tuple[Version, dict[str, Any], dict[str, float | None]]] = []
        self._lock = threading.Lock()

    def flush(self) -> None:
        with self._lock:
            items, self._pending = self._pending, []
        if items:
            self.profiles.record_many(items)

    def __call__(self, candidate: Any, version: Version) -> None:
        prof = getattr(candidate, "profile", None)
        if prof is None:
            # the data the PII gate read before publication, when small: no second read
            prof = self.profiles.compute(self.profiles.store.data_files(version.path),
                                         version.bytes, version.schema, version.row_count,
                                         table=getattr(candidate, "table", None))
        if hasattr(candidate, "table"):
            candidate.table = None  # done with it: never held past this version's hooks
        elif version.bytes is not None:
            prof = {**prof, "bytes": version.bytes}
        duration = getattr(candidate, "build_seconds", None)
        if duration is None and version.created_at is not None:
            duration = (datetime.now(UTC) - version.created_at).total_seconds()
        # a version no gate stored a result for (its check status is unset) has no
        # pass rate: skip the query
        checked = (version.check_status is not None
                   or getattr(candidate, "check_status", None) is not None)
        extra = {"build_duration_s": duration,
                 "check_pass_rate": _pass_rate(self.profiles.metastore, version.id)
                 if checked else None,
                 "profile_s": prof.get("seconds"),
                 "engine_cpu_s": getattr(candidate, "engine_cpu_s", None)}
        if self.batch == 1:
            self.profiles.record(version, prof, extra)
            return
        with self._lock:
            self._pending.append((version, prof, extra))
            full = len(self._pending) >= self.batch
        if full:
            self.flush()


class ProfileGate:
    """Post-build hook: evaluate drift and anomaly checks on the candidate."""

    on_recheck = True  # also evaluates a kept version's new or changed checks

    def __init__(self, profiles: Profiles):
        self.profiles = profiles

    def __call__(self, candidate: Any) -> None:
        checks = profile_checks(candidate.product)
        if not checks:
            return
        result = getattr(candidate, "result", None)
        if getattr(candidate, "recheck", None) is not None:
            prof = self.profiles.of_version(candidate.recheck) or {}
        else:
            from steward.profile.small import shared_table

            rows = getattr(result, "rows", None)
            prof = self.profiles.compute(list(candidate.files),
                                         schema=getattr(result, "schema", None), rows=rows,
                                         table=shared_table(candidate, candidate.files, rows))
            candidate.profile = prof
        previous = candidate.previous
        name, version_id = candidate.product.name, candidate.version_id
        evidence = Evidence(
            prof,
            lambda: None if previous is None else self.profiles.of_version(previous),
            lambda metric, column: self.profiles.history(name, metric, column, version_id))
        results = [r for r in judge(checks, evidence) if isinstance(r, CheckResult)]
        self._store(candidate, results)
        for r in results:
            if r.failed and not r.blocking:
                candidate.notes.append(f"warn: {r.name}: {r.message}")
        failed = [r for r in results if r.blocking]
        if failed:
            raise CheckFailed(f"{candidate.product.name}: " + "; ".join(
                f"{r.name}: {r.message}" for r in failed))

    def _store(self, candidate: Any, stored: list[CheckResult]) -> None:
        """Keep the results next to the quality gate's (``check_results``, one per check).

        A skipped check (no previous version, too short a history) is not stored: it
        neither passed nor failed. The version's summary status takes the worst of both.
        """
        from steward.core.check_results import overall_status
        from steward.meta.checks import record_results

        record_results(self.profiles.metastore, candidate.version_id, stored,
                       candidate.product.name, replace_types=PROFILED)
        mine = overall_status(stored)
        rank = {None: 0, "pass": 1, "warn": 2, "fail": 3}
        if rank.get(mine, 2) > rank.get(candidate.check_status, 2):
            candidate.check_status = mine
