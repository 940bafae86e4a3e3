"""``drift``: a column's distribution against the previous version, from stored profiles.

Judged by ``steward.profile.service`` from two stored profiles (no SQL)."""

from __future__ import annotations

from typing import Literal

from steward.core.checkkinds.base import Kind, arg

KIND = Kind(("drift",), "Drift",
            {"column": arg(str | None, None),
             "metric": arg(Literal["psi", "ks", "wasserstein", "js"], "psi"),
             "threshold": arg(float | None, None)},
            compiled=False, example={"type": "drift", "column": "amount", "metric": "ks"})
