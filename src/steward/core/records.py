"""Records the metastore keeps: versions, runs and their steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

# damaged: published once, but its files no longer match what was recorded (never reused)
VersionStatus = Literal["building", "published", "failed", "damaged"]
StepStatus = Literal["built", "reused", "kept", "failed", "skipped", "blocked", "cancelled"]


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
    # the data files as published: (name inside data/, size in bytes); () when not recorded
    files: tuple[tuple[str, int], ...] = ()
    # what the version's checks were last evaluated with (see core.fingerprint.check_fingerprint)
    check_fp: str | None = None

    @property
    def short(self) -> str:
        return self.id[:12]

    def same_data(self, other: Version | None) -> bool:
        """True when ``other`` holds the same data: the same version, or an alias of it."""
        if other is None:
            return False
        if other.id == self.id:
            return True
        return self.data_hash is not None and self.data_hash == other.data_hash


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
    git_commit: str | None = None  # the project's commit, and clean/dirty/none/unknown
    git_state: str | None = None
    git_committed_at: datetime | None = None


@dataclass
class RunResult:
    run_id: str
    env: str
    status: str
    steps: list[Step]
    started_at: datetime
    duration_s: float
    notes: dict[str, list[str]] = field(default_factory=dict)
    # products whose new version was published but not pointed at, and why (a failure
    # downstream would have left the environment inconsistent: see docs/architecture.md)
    held_back: dict[str, str] = field(default_factory=dict)
    # products outside the selection now behind an input this run moved
    stale: dict[str, list[str]] = field(default_factory=dict)

    def count(self, status: str) -> int:
        return sum(1 for s in self.steps if s.status == status)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "run_id": self.run_id, "env": self.env, "status": self.status,
            "duration_s": round(self.duration_s, 3),
            "counts": {k: self.count(k) for k in
                       ("built", "reused", "kept", "failed", "blocked", "skipped")},
        }
        if self.count("cancelled"):
            out["counts"]["cancelled"] = self.count("cancelled")
        if self.held_back:
            out["held_back"] = dict(self.held_back)
        if self.stale:
            out["stale"] = {k: list(v) for k, v in self.stale.items()}
        return out
