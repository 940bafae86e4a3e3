"""The registry of check kinds: one module per kind, each exporting ``KIND``.

A new kind is one module here and one entry in ``ALL``. Everything else reads the
registry: the pydantic models (``steward.core.checks``), the short forms
(``steward.core.checkforms``), the load-time argument checks (``steward.project.checkargs``),
the compiler and the judgement (``steward.quality.compile``, ``steward.quality.run``),
and for a kind judged from stored profiles, the profile gate (``steward.profile.service``).
Importing it imports neither pydantic nor sqlglot.
"""

from __future__ import annotations

from steward.core.checkkinds import (
    accepted_values,
    anomaly,
    drift,
    expression,
    freshness,
    length,
    not_null,
    range,
    regex,
    relationships,
    row_count,
    row_count_change,
    sql,
    statistic,
    unique,
)
from steward.core.checkkinds.base import Kind

# In the order the models are offered (pydantic lists the tags in this order).
ALL: tuple[Kind, ...] = (
    not_null.KIND, unique.KIND, accepted_values.KIND, range.KIND, regex.KIND, length.KIND,
    row_count.KIND, relationships.KIND, freshness.KIND, expression.KIND, sql.KIND,
    statistic.KIND, row_count_change.KIND, drift.KIND, anomaly.KIND,
)
KINDS: dict[str, Kind] = {name: k for k in ALL for name in k.names}
# the types judged from stored profiles (``Kind.judge_profiles``) instead of compiled
PROFILED: tuple[str, ...] = tuple(sorted(n for n, k in KINDS.items() if not k.compiled))

# dbt generic test (``not_null``, ``dbt_utils.accepted_range``) -> the check it imports as
DBT_TESTS = {name: make for k in ALL for name, make in k.from_dbt.items()}

__all__ = ["ALL", "DBT_TESTS", "KINDS", "PROFILED", "Kind"]
