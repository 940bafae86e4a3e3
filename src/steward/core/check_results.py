"""What evaluating one check on one version found: the record every checker stores.

The quality gate, ``steward check`` and the profile area (drift, anomalies) all produce
:class:`CheckResult` values and store them per version the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

CheckStatus = Literal["pass", "fail", "error"]
Severity = Literal["error", "warn"]


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check on one version.

    Attributes:
        name: the check's label, unique within a product (``not_null_order_id``).
        type: the check kind (``not_null``, ``contract``, ``drift`` ...).
        severity: ``error`` blocks publication, ``warn`` only reports.
        status: ``pass``, ``fail`` or ``error`` (the check itself could not run).
        failures: failing rows (row-level checks) or 1/0 for aggregate checks.
        total: rows the check looked at.
        observed: the measured value (a mean, an age in seconds, a row count ...).
        message: one readable sentence; for ``error`` the reason it could not run.
        sample_path: failing-row sample (Parquet), relative to the version's folder.
        column: the column checked, if one.
        quarantined: rows set aside by ``on_fail: quarantine_rows``.
        details: anything else worth keeping (JSON-serialisable).
    """

    name: str
    type: str
    severity: Severity = "error"
    status: CheckStatus = "pass"
    failures: int = 0
    total: int | None = None
    observed: Any = None
    message: str = ""
    sample_path: str | None = None
    column: str | None = None
    quarantined: int = 0
    details: dict[str, Any] = field(default_factory=dict)
    checked_at: datetime | None = None

    @property
    def blocking(self) -> bool:
        """True when this result refuses publication."""
        return self.severity == "error" and self.status != "pass" and not self.quarantined

    @property
    def failed(self) -> bool:
        return self.status != "pass"


def overall_status(results: list[CheckResult]) -> str | None:
    """``pass``, ``warn`` (only warnings or quarantined rows) or ``fail``; None if no checks."""
    if not results:
        return None
    if any(r.blocking for r in results):
        return "fail"
    if any(r.failed for r in results):
        return "warn"
    return "pass"
