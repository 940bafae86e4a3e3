"""The check vocabulary: small frozen objects, one per kind, told apart by ``type``.

A check is data. The quality layer compiles a list of them into SQL; nothing here
knows how they run. In YAML a check is written ``- not_null`` under a column, or
``- range: {min: 0, max: 10, severity: warn}``; the loader normalises both forms to
``{"type": ..., **args}`` before validation.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator

from steward.core.base import Spec
from steward.core.checkforms import CHECK_TYPES, normalise_check  # noqa: F401  (re-exported)
from steward.core.durations import parse_duration


class _Check(Spec):
    name: str | None = None
    severity: Literal["error", "warn"] = "error"
    description: str | None = None
    mostly: float | None = Field(default=None, gt=0, le=1)
    max_failures: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _one_tolerance(self) -> _Check:
        if self.mostly is not None and self.max_failures is not None:
            raise ValueError("give either 'mostly' or 'max_failures', not both")
        return self

    @property
    def columns_used(self) -> tuple[str, ...]:
        col = getattr(self, "column", None)
        return (col,) if col else ()

    def label(self) -> str:
        if self.name:
            return self.name
        cols = "_".join(self.columns_used)
        return f"{self.type}_{cols}" if cols else str(self.type)  # type: ignore[attr-defined]


class NotNull(_Check):
    type: Literal["not_null"]
    column: str


class Unique(_Check):
    type: Literal["unique"]
    column: str | None = None
    columns: tuple[str, ...] | None = None

    @model_validator(mode="after")
    def _some_columns(self) -> Unique:
        if not self.column and not self.columns:
            raise ValueError("unique needs 'column' or 'columns'")
        return self

    @property
    def key(self) -> tuple[str, ...]:
        return self.columns or ((self.column,) if self.column else ())

    @property
    def columns_used(self) -> tuple[str, ...]:
        return self.key


class AcceptedValues(_Check):
    type: Literal["accepted_values"]
    column: str
    values: tuple[Any, ...]


class Range(_Check):
    type: Literal["range"]
    column: str
    min: Any = None
    max: Any = None
    min_inclusive: bool = True
    max_inclusive: bool = True

    @model_validator(mode="after")
    def _bounded(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("range needs 'min' or 'max'")
        return self


class Regex(_Check):
    type: Literal["regex"]
    column: str
    pattern: str

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, v: str) -> str:
        try:
            re.compile(v)
        except re.error as e:
            raise ValueError(f"regex does not compile: {e}") from None
        return v


class Length(_Check):
    type: Literal["length"]
    column: str
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class RowCount(_Check):
    type: Literal["row_count"]
    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)


class Relationships(_Check):
    type: Literal["relationships"]
    column: str
    to: str
    field: str


class Freshness(_Check):
    type: Literal["freshness"]
    column: str
    max_age: str

    @field_validator("max_age")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v


class Expression(_Check):
    """A row-level SQL predicate every row must satisfy."""

    type: Literal["expression"]
    expression: str


class CustomSql(_Check):
    """A query returning the failing rows; ``{{ this }}`` names the version's table."""

    type: Literal["sql"]
    query: str


class Statistic(_Check):
    """An aggregate of one column that must fall within bounds."""

    type: Literal["mean", "stddev", "quantile", "distinct_count", "null_fraction", "min", "max",
                  "sum"]
    column: str
    q: float | None = Field(default=None, ge=0, le=1)
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _q_for_quantile(self) -> Statistic:
        if self.type == "quantile" and self.q is None:
            raise ValueError("quantile needs 'q' (e.g. 0.95)")
        if self.min is None and self.max is None:
            raise ValueError(f"{self.type} needs 'min' or 'max'")
        return self


class RowCountChange(_Check):
    """Row count within +-``max_change_pct`` percent of the previous published version."""

    type: Literal["row_count_change"]
    max_change_pct: float = Field(gt=0)


class Drift(_Check):
    """Distribution drift against the previous version, from stored profiles."""

    type: Literal["drift"]
    column: str | None = None
    metric: Literal["psi", "ks", "wasserstein", "js"] = "psi"
    threshold: float | None = None


class Anomaly(_Check):
    """A metric far outside its recent band (robust z-score over the history)."""

    type: Literal["anomaly"]
    metric: str = "row_count"
    column: str | None = None
    min_history: int = Field(default=5, ge=3)
    threshold: float = Field(default=3.5, gt=0)


Check = Annotated[
    NotNull | Unique | AcceptedValues | Range | Regex | Length | RowCount | Relationships
    | Freshness | Expression | CustomSql | Statistic | RowCountChange | Drift | Anomaly,
    Field(discriminator="type"),
]



def check_uses(spec: Any) -> tuple[tuple[str, tuple[str, ...], tuple[Any, ...], str | None], ...]:
    """Each check of a product spec as (label, columns it names, where, relationship target).

    What the loader verifies against the rest of the project, kept as plain data so a
    load that reuses a spec need not read the spec (see ``steward.core.model.SpecRef``).
    """
    out: list[tuple[str, tuple[str, ...], tuple[Any, ...], str | None]] = []
    for i, c in enumerate(spec.checks):
        out.append((c.label(), tuple(c.columns_used), ("checks", i),
                    c.to if isinstance(c, Relationships) else None))
    for name, col in spec.columns.items():
        for i, c in enumerate(col.checks):
            out.append((c.label(), tuple(c.columns_used), ("columns", name, "checks", i),
                        c.to if isinstance(c, Relationships) else None))
    return tuple(out)
