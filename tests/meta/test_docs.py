"""Stored documents (profiles): what is written reads back as the same values."""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from decimal import Decimal

from steward.core.docs import dump_doc, load_doc


def test_profile_like_document_round_trips() -> None:
    doc = {"format": 2, "rows": 1000, "columns": {
        "amount": {"type": "DECIMAL(18,2)", "min": 0.01, "max": 1e300, "mean": 1 / 3,
                   "quantiles": [0.1, 2.5e-7, -3.0], "top": [["x\"y", 3], ["ü", 1]],
                   "null_fraction": 0.0, "exact": True, "empty": None}}}
    assert load_doc(dump_doc(doc)) == doc
    assert json.loads(dump_doc(doc)) == doc  # plain JSON, readable by anything


def test_values_json_cannot_hold_are_written_as_str_gives_them() -> None:
    when = datetime(2026, 12, 2, 17, 5, tzinfo=UTC)
    out = load_doc(dump_doc({"d": Decimal("1.50"), "t": when, "day": date(2026, 1, 2)}))
    assert out == {"d": "1.50", "t": str(when), "day": "2026-01-02"}


def test_non_finite_floats_become_null_and_old_documents_with_nan_still_read() -> None:
    assert load_doc(dump_doc({"mean": math.nan, "max": math.inf})) == {"mean": None,
                                                                       "max": None}
    old = json.dumps({"mean": math.nan, "rows": 3})  # what the standard library wrote
    got = load_doc(old)
    assert got["rows"] == 3 and math.isnan(got["mean"])
