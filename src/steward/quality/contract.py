"""Contracts: declared columns enforce names, types and nullability.

``contract: strict`` also refuses columns the product does not declare. Every offending
column is reported at once, in one result named ``contract``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp

from steward.core.check_results import CheckResult
from steward.core.records import Column
from steward.core.words import counted, verb
from steward.sql.parse import DIALECT


@dataclass(frozen=True)
class Contract:
    """What a product promises about its columns."""

    columns: Mapping[str, Any]  # name -> ColumnSpec
    strict: bool = False
    not_null: tuple[str, ...] = field(default=())

    @property
    def enforced(self) -> bool:
        return bool(self.columns) or self.strict


def contract_of(spec: Any, default_mode: str = "lenient") -> Contract:
    """The contract a product spec declares (its ``contract`` or the project default)."""
    mode = spec.contract or default_mode
    cols = dict(spec.columns)
    not_null = tuple(n for n, c in cols.items() if not c.nullable)
    return Contract(cols, mode == "strict", not_null)


def normalise_type(text: str) -> str:
    """A type as DuckDB spells it canonically (``INT4`` -> ``INT``, ``STRING`` -> ``TEXT``)."""
    try:
        return exp.DataType.build(text, dialect=DIALECT).sql(dialect=DIALECT).upper()
    except (sqlglot.errors.ParseError, ValueError):
        return " ".join(text.upper().split())


def same_type(declared: str, actual: str) -> bool:
    """True when a declared type matches the actual one; ``DECIMAL`` matches any precision."""
    d, a = normalise_type(declared), normalise_type(actual)
    if d == a:
        return True
    if "(" not in declared:  # a bare parametric type accepts any parameters
        return d.split("(", 1)[0] == a.split("(", 1)[0]
    return False


def schema_problems(contract: Contract, schema: Sequence[Column]) -> list[str]:
    """Names and types that break the contract, one sentence per offending column."""
    actual = {c.name: c.type for c in schema}
    problems: list[str] = []
    for name, spec in contract.columns.items():
        if name not in actual:
            problems.append(f"column {name!r} is declared but missing from the output")
        elif spec.type and not same_type(spec.type, actual[name]):
            problems.append(f"column {name!r} is {actual[name]}, declared {spec.type}")
    if contract.strict:
        extra = [n for n in actual if n not in contract.columns]
        for name in extra:
            problems.append(f"column {name!r} ({actual[name]}) is not declared "
                            "(contract: strict)")
    return problems


def contract_result(contract: Contract, schema_issues: list[str], null_counts: dict[str, int],
                    rows: int | None) -> CheckResult:
    """One ``contract`` result combining schema problems and nulls in non-null columns."""
    problems = list(schema_issues)
    offending = 0
    for name, n in null_counts.items():
        if n:
            offending += n
            problems.append(f"column {name!r} is declared not nullable but has "
                            f"{counted(n, 'null')}")
    if problems:
        return CheckResult(
            "contract", "contract", "error", "fail", failures=len(problems), total=rows,
            message=f"contract violated ({counted(len(problems), 'problem')}): "
                    + "; ".join(problems),
            details={"problems": problems, "null_rows": offending},
        )
    return CheckResult("contract", "contract", "error", "pass", 0, rows,
                       message=f"{counted(len(contract.columns), 'declared column')} "
                               f"{verb(len(contract.columns), 'conforms', 'conform')}"
                       + (" (strict)" if contract.strict else ""))
