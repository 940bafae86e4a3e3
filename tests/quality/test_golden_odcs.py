"""Golden ODCS per check kind: the quality rule each kind's example exports to, and the
check that rule imports back as when only the standard's fields are read.

Compared with ``golden/odcs/<kind>.yaml``; ``STEWARD_UPDATE_GOLDEN=1`` rewrites them.
Kinds judged from profiles (drift, anomaly) are not exported.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from steward.core.checkkinds import ALL
from steward.core.checks import Check, normalise_check
from steward.quality.odcs import STEWARD_PROP, _rule, rule_to_check

GOLDEN = Path(__file__).parent / "golden" / "odcs"
EXPORTED = [k for k in ALL if k.compiled]


def _variants(example: dict[str, Any]) -> list[dict[str, Any]]:
    """The example, with a tolerance of each form, and as a warning."""
    return [example, {**example, "mostly": 0.95}, {**example, "max_failures": 3},
            {**example, "severity": "warn", "description": "checked"}]


def render(example: dict[str, Any]) -> str:
    out = []
    for raw in _variants(example):
        try:
            check = TypeAdapter(Check).validate_python(normalise_check(raw))
        except ValueError:
            continue  # (a kind without a tolerance)
        column = getattr(check, "column", None)
        rule = _rule(check, column)
        bare = {k: v for k, v in rule.items() if k != "customProperties"}
        assert [p["property"] for p in rule["customProperties"]] == [STEWARD_PROP]
        out.append({"check": raw, "rule": bare, "imported": rule_to_check(bare, column),
                    "round_trip": rule_to_check(rule, column)})
    return yaml.safe_dump(out, sort_keys=False, width=100)


@pytest.mark.parametrize("kind", EXPORTED, ids=[k.key for k in EXPORTED])
def test_each_kind_maps_to_its_golden_odcs_rule(kind):
    path = GOLDEN / f"{kind.key}.yaml"
    text = render(kind.example)
    if os.environ.get("STEWARD_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"no golden ODCS for {kind.key}: run with STEWARD_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_every_exported_kind_has_one_golden_file():
    assert {p.stem for p in GOLDEN.glob("*.yaml")} == {k.key for k in EXPORTED}


@pytest.mark.parametrize(("bad", "fails"), [(3, False), (5, False), (6, True), (60, True)])
def test_an_imported_percent_rule_compares_a_percentage_of_the_rows(bad: int, fails: bool
                                                                   ) -> None:
    """A foreign SQL rule with ``unit: percent`` judges the share of failing rows, not
    their count (100 rows: at most 5 % may break it)."""
    import duckdb

    rule = {"name": "few_negative", "type": "sql", "unit": "percent",
            "query": "SELECT COUNT(*) FROM ${object} WHERE amount < 0",
            "mustBeLessOrEqualTo": 5}
    check = rule_to_check(rule, None)
    assert check is not None and check["type"] == "sql"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT CASE WHEN range < {bad} THEN -1 ELSE 1 END AS amount "
                "FROM range(100)")
    rows = con.execute(check["query"].replace("{{ this }}", "t")).fetchall()
    assert bool(rows) is fails
    con.execute("DELETE FROM t")  # an empty table breaks no percentage
    assert con.execute(check["query"].replace("{{ this }}", "t")).fetchall() == []
