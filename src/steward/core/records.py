"""Records the metastore keeps: versions, runs and their steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

VersionStatus = Literal["building", "published", "failed"]
StepStatus = Literal["built", "reused", "kept", "failed", "skipped", "blocked"]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    nullable: bool = True


@dataclass(frozen=True)
class Version:
    """One immutable materialisation of a product."""

    id: str
    product: str
    fingerprint: str
    metadata_fp: str
    status: VersionStatus
    path: str
    schema: tuple[Column, ...] = ()
    row_count: int | None = None
    bytes: int | None = None
    data_hash: str | None = None
    created_at: datetime | None = None
    run_id: str | None = None
    check_status: str | None = None
    error: str | None = None
    inputs: dict[str, str] = field(default_factory=dict)  # input product -> version id

    @property
    def short(self) -> str:
        return self.id[:12]


@dataclass(frozen=True)
class Step:
    run_id: str
    product: str
    status: StepStatus
    version_id: str | None = None
    started_at: datetime | None = None
    duration_s: float | None = None
    rows: int | None = None
    error: str | None = None


@dataclass(frozen=True)
class Run:
    id: str
    env: str
    status: str
    started_at: datetime
    finished_at: datetime | None = None
    selection: str | None = None
    actor: str | None = None
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass
class RunResult:
    run_id: str
    env: str
    status: str
    steps: list[Step]
    started_at: datetime
    duration_s: float
    notes: dict[str, list[str]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for s in self.steps if s.status == status)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "env": self.env, "status": self.status,
            "duration_s": round(self.duration_s, 3),
            "counts": {k: self.count(k) for k in
                       ("built", "reused", "kept", "failed", "blocked", "skipped")},
        }
