"""The PII gate: classify each new version before publication and compare with declarations.

Runs as a post-build hook on every candidate: samples its text columns (inside the
engine, or straight from Parquet for a version no larger than the sample), records what
it found per version, and for each detected column that carries no PII classification
(declared on the column, or inherited through lineage) adds a warning to the run, or
refuses publication under ``compliance: strict``.

What is written: the detections of a version that has some (rare), and one row per run
saying the gate scanned every candidate of it. A clean version needs no row of its own:
it could not have been published without passing the gate, so "scanned, nothing found"
follows from its run (see ``steward.meta.audit.scanned``). That keeps the metastore out
of the per-version cost of a large build.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from steward.audit.pii import (
    SAMPLE_ROWS,
    Detection,
    classify_sample,
    declared_state,
    is_pii_label,
    sample_columns,
    scan_files,
    string_columns,
)
from steward.audit.trail import now_iso
from steward.core.errors import CheckFailed
from steward.core.model import Product
from steward.meta import audit as q
from steward.meta.store import Metastore
from steward.profile.small import shared_table
from steward.run.executor import Candidate

# (product, column) -> (classes, via), as steward.catalog.lineage.propagated_classifications
Propagated = Mapping[tuple[str, str], tuple[Sequence[str], str | None]]


@dataclass(frozen=True)
class Finding:
    """A detection set against what the project declares for that column."""

    product: str
    detection: Detection
    declared: str | None  # 'pii', 'not_pii' or None
    inherited_from: str | None = None  # product.column a pii classification flows from

    @property
    def undeclared(self) -> bool:
        return self.declared is None and self.inherited_from is None

    def to_dict(self) -> dict[str, Any]:
        return {"product": self.product, **self.detection.to_dict(), "declared": self.declared,
                "inherited_from": self.inherited_from, "undeclared": self.undeclared}


def _column_spec(product: Product, column: str) -> Any:
    cols = product.spec.columns
    if column in cols:
        return cols[column]
    low = column.lower()
    return next((s for n, s in cols.items() if n.lower() == low), None)


def judge(product: Product, detections: Sequence[Detection],
          propagated: Propagated | None = None) -> list[Finding]:
    """Compare detections with the column declarations (and inherited classifications)."""
    out = []
    low_prop = {(p, c.lower()): v for (p, c), v in (propagated or {}).items()}
    for d in detections:
        spec = _column_spec(product, d.column)
        state = declared_state(spec.classification) if spec is not None else None
        via = None
        if state is None:
            hit = low_prop.get((product.name, d.column.lower()))
            if hit and any(is_pii_label(c) for c in hit[0]):
                via = hit[1] or f"{product.name}.{d.column}"
        out.append(Finding(product.name, d, state, via))
    return out


def describe(findings: Sequence[Finding], product: Product) -> str:
    parts = [f"{f.detection.column} looks like {f.detection.kind.replace('_', ' ')} "
             f"({f.detection.fraction:.0%} of {f.detection.sampled} sampled values)"
             for f in findings]
    where = product.meta_file or product.file
    return (f"undeclared personal data in {product.name}: " + "; ".join(parts)
            + f". Declare `classification: pii` on the column in {where} "
            "(or `classification: not_pii` if it is not personal data)")


class PiiGate:
    """Post-build hook: detect, record, warn (or refuse under ``compliance: strict``)."""

    def __init__(self, metastore: Metastore, engine: Any, strict: bool,
                 propagated: Callable[[], Propagated | None] | None = None,
                 sample_rows: int = SAMPLE_ROWS):
        self.ms = metastore
        self.engine = engine
        self.strict = strict
        self._propagated = propagated
        self._cache: Propagated | None = None
        self._loaded = False
        self.sample_rows = sample_rows
        self._runs: set[str] = set()
        self._runs_lock = threading.Lock()

    def _mark_run(self, run_id: str) -> None:
        # before the run's first publication, once (workers call the gate concurrently)
        if run_id in self._runs:
            return
        with self._runs_lock:
            if run_id not in self._runs:
                q.record_run_scanned(self.ms, run_id, now_iso())
                self._runs.add(run_id)

    def propagated(self) -> Propagated | None:
        # computed once per run, only if some candidate has an undeclared detection
        if not self._loaded:
            self._loaded = True
            if self._propagated is not None:
                try:
                    self._cache = self._propagated()
                except Exception:  # lineage is advisory here; declarations still apply
                    self._cache = None
        return self._cache

    def __call__(self, c: Candidate) -> None:
        self._mark_run(c.run_id)
        columns = string_columns(c.result.schema)
        if not columns:
            return  # no text, nothing to classify: the run's row covers this version
        rows = c.result.rows
        # a small version is read whole once, here, and its profile reuses the table
        table = shared_table(c, c.files, rows) if rows <= self.sample_rows else None
        detections = classify_sample(sample_columns(self.engine, c.files, columns,
                                                    self.sample_rows, rows, table))
        if not detections:
            return
        q.record_detections(self.ms, c.version_id, c.product.name,
                            [d.to_dict() for d in detections], now_iso(), len(columns))
        findings = judge(c.product, detections)
        if any(f.undeclared for f in findings):
            findings = judge(c.product, detections, self.propagated())
        bad = [f for f in findings if f.undeclared]
        if not bad:
            return
        message = describe(bad, c.product)
        if self.strict:
            raise CheckFailed(message + " (compliance: strict)")
        c.notes.append("warning: " + message)


def scan_version(engine: Any, files: Sequence[str], schema: Sequence[Any], product: Product,
                 propagated: Propagated | None = None, sample_rows: int = SAMPLE_ROWS,
                 row_count: int | None = None) -> list[Finding]:
    """Findings for one stored version (what ``steward pii scan`` shows)."""
    return judge(product, scan_files(engine, files, schema, sample_rows, row_count),
                 propagated)
