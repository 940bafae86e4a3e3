"""The check vocabulary as pydantic models: one per kind, told apart by ``type``.

A check is data. Each kind (``steward.core.checkkinds``) declares its arguments, its
validation and its short form; this module builds its frozen model from that
declaration, under the kind's model name (``NotNull``, ``Range`` ...), importable by
that name. In YAML a check is written ``- not_null`` under a column, or
``- range: {min: 0, max: 10, severity: warn}``; the loader normalises both forms to
``{"type": ..., **args}`` before validation.
"""

from __future__ import annotations

import operator
from functools import reduce
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, create_model, field_validator, model_validator

from steward.core.base import Spec
from steward.core.checkforms import CHECK_TYPES, normalise_check  # noqa: F401  (re-exported)
from steward.core.checkkinds import ALL
from steward.core.checkkinds.base import REQUIRED, Kind


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


def _model(kind: Kind) -> type[_Check]:
    """The pydantic model of one kind, built from its declaration."""
    fields: dict[str, Any] = {"type": (Literal[kind.names], ...)}  # type: ignore[valid-type]
    for name, a in kind.args.items():
        default = ... if a.default is REQUIRED else a.default
        fields[name] = (a.type, Field(default, **a.constraints))
    validators: dict[str, Any] = {}
    for name, check in kind.field_checks.items():
        validators[f"_check_{name}"] = field_validator(name)(
            classmethod(lambda _cls, v, _c=check: _c(v)))  # type: ignore[misc]
    if kind.validate is not None:
        def _validate(self: Any, _v: Any = kind.validate) -> Any:
            _v(self)
            return self
        validators["_validate"] = model_validator(mode="after")(_validate)
    base: Any = (kind.mixin, _Check) if kind.mixin is not None else _Check
    model: type[_Check] = create_model(  # type: ignore[call-overload]
        kind.model, __base__=base, __module__=__name__, __validators__=validators, **fields)
    return model


MODELS: dict[str, type[_Check]] = {k.model: _model(k) for k in ALL}
globals().update(MODELS)  # NotNull, Unique, ... : importable by name

if TYPE_CHECKING:
    # The models are built at import time; to the type checker a check is any of them.
    Check = Any
    NotNull: type[Any]
    Unique: type[Any]
    AcceptedValues: type[Any]
    Range: type[Any]
    Regex: type[Any]
    Length: type[Any]
    RowCount: type[Any]
    Relationships: type[Any]
    Freshness: type[Any]
    Expression: type[Any]
    CustomSql: type[Any]
    Statistic: type[Any]
    RowCountChange: type[Any]
    Drift: type[Any]
    Anomaly: type[Any]
else:
    Check = Annotated[reduce(operator.or_, MODELS.values()), Field(discriminator="type")]


def check_uses(spec: Any) -> tuple[tuple[str, tuple[str, ...], tuple[Any, ...], str | None], ...]:
    """Each check of a product spec as (label, columns it names, where, relationship target).

    What the loader verifies against the rest of the project, kept as plain data so a
    load that reuses a spec need not read the spec (see ``steward.core.model.SpecRef``).
    """
    out: list[tuple[str, tuple[str, ...], tuple[Any, ...], str | None]] = []
    for i, c in enumerate(spec.checks):
        out.append((c.label(), tuple(c.columns_used), ("checks", i),
                    c.to if c.type == "relationships" else None))
    for name, col in spec.columns.items():
        for i, c in enumerate(col.checks):
            out.append((c.label(), tuple(c.columns_used), ("columns", name, "checks", i),
                        c.to if c.type == "relationships" else None))
    return tuple(out)
