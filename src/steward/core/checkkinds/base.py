"""What a check kind is: one object owning its schema, short form, SQL and judgement.

A kind is plain Python, so the load can normalise short forms without pydantic and
without sqlglot. Its schema is a table of arguments from which ``steward.core.checks``
builds the pydantic model; its SQL is built (sqlglot imported on first use) with the
helpers a :class:`Scope` hands it, so the kind never names a dialect or a file layout;
its judgement turns the scan's numbers into a :class:`CheckResult`. A kind judged from
stored profiles instead of SQL (``drift``, ``anomaly``) owns that judgement too
(:attr:`Kind.judge_profiles`), over the :class:`ProfileEvidence` the profile layer hands
it.

The quality layer (``steward.quality.compile`` and ``steward.quality.run``) runs the
compiled pieces, the profile layer (``steward.profile.service``) the profile-judged
ones; nothing here runs SQL or reads a profile.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, NoReturn, Protocol

from steward.core.check_results import CheckResult
from steward.core.checkkinds.odcs import OdcsScope
from steward.core.words import counted, verb

REQUIRED: Any = ...


@dataclass(frozen=True)
class Arg:
    """One argument of a check: its type, default and pydantic ``Field`` constraints."""

    type: Any
    default: Any = REQUIRED
    constraints: dict[str, Any] = field(default_factory=dict)


def arg(type_: Any, default: Any = REQUIRED, **constraints: Any) -> Arg:
    return Arg(type_, default, constraints)


class CompileError(ValueError):
    """A check that cannot be turned into SQL (bad expression, unknown column ...)."""


@dataclass
class Compiled:
    """One check, compiled.

    Attributes:
        name: the check's label.
        check: the spec it came from.
        prefix: the prefix of this check's aggregates in the shared scan (``c3``).
        aggregates: alias -> aggregate expression, computed in the shared scan.
        predicate: TRUE for a failing row (row-level checks), for samples and quarantine.
        query: an extra query: the failure count (uniqueness: rows checked, duplicates;
            relationships: failing rows, distinct missing values).
        sample: a bounded query returning failing rows (or keys) for inspection.
    """

    name: str
    check: Any
    prefix: str = ""
    aggregates: dict[str, Any] = field(default_factory=dict)
    predicate: Any = None
    query: Any = None
    sample: Any = None

    @property
    def type(self) -> str:
        return str(self.check.type)

    @property
    def row_level(self) -> bool:
        from steward.core.checkkinds import KINDS

        return KINDS[self.type].row_level and self.predicate is not None

    def add(self, suffix: str, aggregate: Any) -> None:
        """An aggregate of the shared scan, named ``<prefix>_<suffix>``."""
        self.aggregates[f"{self.prefix}_{suffix}"] = aggregate

    def value(self, values: dict[str, Any], suffix: str) -> Any:
        """This check's aggregate ``suffix`` from the scan's values."""
        return values[f"{self.prefix}_{suffix}"]


class Scope(Protocol):
    """What compiling a check may use: the version's files and the SQL helpers."""

    files: Sequence[str]
    sample_rows: int

    def col(self, name: str, qualified: bool = False) -> Any: ...
    def scan(self, files: Sequence[str], alias: str = ...) -> Any: ...
    def lit(self, value: Any) -> Any: ...
    def func(self, name: str, *args: Any) -> Any: ...
    def as_text(self, e: Any) -> Any: ...
    def predicate(self, text: str) -> Any: ...
    def custom_query(self, text: str) -> Any: ...
    def resolve(self, product: str) -> list[str] | None: ...


class Judging(Protocol):
    """What judging a compiled check may use besides the scan's values."""

    @property
    def previous_rows(self) -> int | None: ...
    @property
    def now(self) -> datetime | None: ...

    def first(self, query: Any) -> Sequence[Any]: ...


class ProfileEvidence(Protocol):
    """What judging a check from stored profiles may use (``steward.profile.service``
    gives it the candidate version's; tests build one from plain profiles)."""

    @property
    def current(self) -> dict[str, Any] | None: ...

    def previous(self) -> dict[str, Any] | None:
        """The previous version's stored profile (read on first use), None without one."""
        ...

    def compare(self) -> dict[str, Any] | None:
        """The drift report from the previous profile to the current one
        (``steward.profile.drift.compare``), None without both."""
        ...

    def value(self, metric: str, column: str | None) -> float | None:
        """A metric of the current profile (``row_count``, ``null_fraction`` ...)."""
        ...

    def history(self, metric: str, column: str | None) -> Sequence[float | None]:
        """The metric's past values, oldest first."""
        ...


class DbtTest(Protocol):
    """A dbt generic test being imported as a check (``steward.interop.dbt.tests``)."""

    args: dict[str, Any]  # its arguments, rendered

    def column(self) -> str:
        """The column it tests (a test without one is refused)."""
        ...

    def relation(self, text: Any) -> str:
        """The product a ``ref('...')`` / ``source('...', '...')`` argument names."""
        ...

    def refuse(self, why: str) -> NoReturn:
        """Give up: the test has no Steward equivalent, for the reason given."""
        ...


@dataclass(frozen=True)
class Skipped:
    """A profile-judged check with nothing to judge yet (no previous version, too short a
    history): neither passed nor failed, and not stored."""

    reason: str


Validator = Callable[[Any], None]


@dataclass(frozen=True)
class Kind:
    """A check kind.

    Attributes:
        names: the ``type`` values it answers (statistics share one kind).
        model: the name of its pydantic model in ``steward.core.checks``.
        args: its arguments (besides name, severity, description and the tolerance).
        validate: raises ``ValueError`` for a combination of arguments that is wrong.
        field_checks: per argument, a function that returns the value or raises.
        shorthand: the argument a non-mapping short form fills
            (``accepted_values: [a, b]`` -> ``values``).
        column_scoped: under a column, ``column`` is filled in (unless one of
            ``column_unless`` is given).
        bounded: has ``min``/``max`` bounds (``min`` above ``max`` is refused at load).
        row_level: compiles to a failing-row predicate (samples, quarantine).
        compile: fills a :class:`Compiled` for a check; raises :class:`CompileError`.
        judge: the result from the scan's values.
        judge_profiles: for a kind judged from stored profiles instead of a scan, the
            result (or :class:`Skipped`) from a :class:`ProfileEvidence`; such a kind is
            not compiled.
        to_odcs: the check as an ODCS quality rule (its type, metric, arguments and
            threshold; ``steward.core.checkkinds.odcs``), for the kinds the standard can
            say; the others export as a ``custom`` rule.
        from_odcs: the check's type and arguments from an ODCS rule this kind
            recognises (the rule's standard fields only), else None.
        from_dbt: the dbt generic tests that are this kind (``not_null``,
            ``dbt_utils.accepted_range``), each with the check it imports as; dbt's
            ``where`` and the tests that become expressions or queries are the dbt
            import's own (``steward.interop.dbt.tests``).
        mixin: plain methods and properties the model gets (``Unique.key``).
        example: one check of this kind, for the golden SQL fixtures.
    """

    names: tuple[str, ...]
    model: str
    args: dict[str, Arg]
    validate: Validator | None = None
    field_checks: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    shorthand: str | None = None
    column_scoped: bool = True
    column_unless: tuple[str, ...] = ()
    bounded: bool = False
    row_level: bool = False
    compile: Callable[[Any, Compiled, Scope], None] | None = None
    judge: Callable[[Compiled, dict[str, Any], Judging], CheckResult] | None = None
    judge_profiles: Callable[[Any, ProfileEvidence], CheckResult | Skipped] | None = None
    to_odcs: Callable[[Any, str | None, OdcsScope], dict[str, Any]] | None = None
    from_odcs: Callable[[dict[str, Any], str | None], dict[str, Any] | None] | None = None
    from_dbt: dict[str, Callable[[DbtTest], dict[str, Any]]] = field(default_factory=dict)
    failing: Callable[[Any, Scope], Any] | None = None
    mixin: type | None = None
    example: dict[str, Any] = field(default_factory=dict)

    @property
    def compiled(self) -> bool:
        """Compiled to SQL and evaluated by the quality gate (else judged from profiles)."""
        return self.judge_profiles is None

    @property
    def key(self) -> str:
        """The kind's own name (``statistic`` for the statistics that share it)."""
        return self.names[0] if len(self.names) == 1 else self.model.lower()


# -- judgement helpers shared by kinds ------------------------------------------------


def profile_result(check: Any, ok: bool, observed: float | None, message: str
                   ) -> CheckResult:
    """A profile-judged check's result (a failing ``severity: warn`` check only warns)."""
    return CheckResult(check.label(), check.type, check.severity, "pass" if ok else "fail",
                       0 if ok else 1, observed=observed, message=message,
                       column=getattr(check, "column", None))


def rows_of(values: dict[str, Any]) -> int:
    return int(values.get("__rows") or 0)


def rows_result(check: Any, name: str, failures: int, total: int, column: str | None
                ) -> CheckResult:
    """A row-level result, with the check's tolerance (``mostly`` / ``max_failures``)."""
    if check.mostly is not None:
        ok = total == 0 or (total - failures) / total >= check.mostly
        allowed = f"mostly {check.mostly:g}"
    elif check.max_failures is not None:
        ok = failures <= check.max_failures
        allowed = f"max_failures {check.max_failures:,}"
    else:
        ok = failures == 0
        allowed = "none allowed"
    pct = (100.0 * failures / total) if total else 0.0
    if failures:
        msg = (f"{failures:,} of {counted(total, 'row')} {verb(failures, 'fails', 'fail')} "
               f"({pct:.2f}%; {allowed})")
    else:
        msg = {0: "no rows to check", 1: "the 1 row passes"}.get(total, f"all {total:,} rows pass")
    return CheckResult(name, check.type, check.severity, "pass" if ok else "fail", failures,
                       total, round(pct, 4), msg, column=column)


def bounds(check: Any, name: str, value: Any, lo: Any, hi: Any, rows: int, what: str,
           column: str | None = None) -> CheckResult:
    """A value that must fall within ``[lo, hi]``."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return CheckResult(name, check.type, check.severity, "fail", 1, rows, None,
                           f"{what} is NULL (no values)", column=column)
    num = float(value) if not isinstance(value, int) else value
    ok = (lo is None or num >= lo) and (hi is None or num <= hi)
    span = f"[{'' if lo is None else f'{lo:g}'}, {'' if hi is None else f'{hi:g}'}]"
    shown = f"{num:,}" if isinstance(num, int) else f"{num:.6g}"
    return CheckResult(name, check.type, check.severity, "pass" if ok else "fail",
                       0 if ok else 1, rows, num,
                       f"{what} is {shown}" + (f", within {span}" if ok else f", outside {span}"),
                       column=column)


def row_level_judge(comp: Compiled, values: dict[str, Any], _run: Judging) -> CheckResult:
    """Failing rows counted in the scan (``<prefix>_fail``) against all rows."""
    return rows_result(comp.check, comp.name, int(comp.value(values, "fail") or 0),
                       rows_of(values), getattr(comp.check, "column", None))


def row_level_compile(check: Any, out: Compiled, q: Scope, kind: Kind) -> None:
    """A row-level check: count its failing rows in the scan; sample them when asked."""
    from sqlglot import exp

    assert kind.failing is not None
    pred = kind.failing(check, q)
    out.predicate = pred
    out.add("fail", exp.CountIf(this=pred.copy()))
    out.sample = exp.select("*").from_(q.scan(q.files)).where(pred.copy()).limit(q.sample_rows)


def row_level(names: tuple[str, ...], model: str, args: dict[str, Arg],
              failing: Callable[[Any, Scope], Any], **more: Any) -> Kind:
    """A kind whose check is a failing-row predicate: compiled and judged alike."""
    kind = Kind(names, model, args, row_level=True, failing=failing, judge=row_level_judge,
                **more)
    return replace(kind, compile=lambda check, out, q: row_level_compile(check, out, q, kind))
