"""The catalog commands end to end, through the Typer app on a built project."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context


@pytest.fixture
def built(people: Path) -> Path:
    assert Context(people).run().ok
    return people


def _cli(*args: str) -> str:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_catalog_show_card(built: Path) -> None:
    card = json.loads(_cli("catalog", "show", "staging.people", "-p", str(built), "--json"))
    assert card["owner"] == "data@example.com" and card["domain"] == "staging"
    cols = {c["name"]: c for c in card["columns"]}
    assert cols["contact"]["classification_text"] == "pii via raw.people.email"
    assert cols["contact"]["upstream"] == ["raw.people.email (derived)"]
    assert cols["person_id"]["glossary"] == "customer"
    assert cols["signup"]["type"] == "DATE"  # from the stored schema of the version
    assert card["upstream"] == ["raw.people"]
    assert card["downstream"] == ["marts.mailing", "marts.stats", "ml.features"]
    assert set(card["versions"]) == {"prod"} and card["versions"]["prod"]["rows"] == 3
    assert card["freshness"]["status"] == "ok"
    text = _cli("catalog", "show", "mailing", "-p", str(built))
    assert "pii via raw.people.email" in text and "upstream: staging.people" in text


def test_catalog_search_and_facets(built: Path) -> None:
    hits = json.loads(_cli("catalog", "search", "buyer", "-p", str(built), "--json"))
    assert hits[0]["name"] in ("raw.people.id", "staging.people.person_id")
    pii = json.loads(_cli("catalog", "search", "--classification", "pii", "--json",
                          "-p", str(built)))
    assert "marts.mailing.contact" in {h["name"] for h in pii}
    assert "marts.stats" in _cli("catalog", "search", "country", "--owner", "bi@example.com",
                                 "-p", str(built))


def test_lineage_command_formats(built: Path) -> None:
    tree = _cli("lineage", "raw.people.email", "--downstream", "-p", str(built))
    assert "staging.people.contact (derived)" in tree and "pii via raw.people.email" in tree
    data = json.loads(_cli("lineage", "marts.mailing.contact", "--upstream", "-f", "json",
                           "-p", str(built)))
    assert {"from": "raw.people.email", "to": "staging.people.contact",
            "how": "derived"} in data["edges"]
    assert _cli("lineage", "staging.people", "-f", "dot", "-p", str(built)).startswith(
        "digraph lineage {")
    assert "graph LR" in _cli("lineage", "stats", "--depth", "1", "-f", "mermaid",
                              "-p", str(built))
    bad = CliRunner().invoke(app, ["lineage", "raw.people.nope", "-p", str(built)])
    assert bad.exit_code != 0 and "no column 'nope'" in str(bad.exception)


def test_glossary_and_owners_commands(built: Path) -> None:
    text = _cli("glossary", "-p", str(built))
    assert "customer: A person who bought something" in text
    assert "used by: raw.people.id, staging.people.person_id" in text
    owners = json.loads(_cli("owners", "--json", "-p", str(built)))
    assert owners["owners"]["bi@example.com"] == ["marts.stats"]
    assert owners["unowned"] == [] and owners["failures"] == {}


def test_catalog_show_names_the_code_file_and_the_sidecar_apart(built: Path) -> None:
    card = json.loads(_cli("catalog", "show", "staging.people", "-p", str(built), "--json"))
    assert (card["file"], card["meta_file"]) == ("models/staging/people.sql",
                                                 "models/staging/people.yml")
    text = _cli("catalog", "show", "staging.people", "-p", str(built))
    assert "defined in: models/staging/people.sql" in text
    assert "metadata in: models/staging/people.yml" in text
    text = _cli("catalog", "show", "marts.mailing", "-p", str(built))  # no sidecar
    assert "defined in: models/marts/mailing.sql" in text and "metadata in" not in text
    text = _cli("catalog", "show", "ml.features", "-p", str(built))  # decorator metadata
    assert "defined in: models/ml/features.py" in text and "metadata in" not in text
    source = json.loads(_cli("catalog", "show", "raw.people", "-p", str(built), "--json"))
    assert (source["file"], source["meta_file"]) == ("sources/raw.yml", None)


def test_card_document_is_what_asdict_makes(built: Path) -> None:
    from decimal import Decimal

    from steward.catalog.card import plain_copy
    from steward.server.shapes import card

    ctx = Context(built)
    for name in ctx.project.products:
        c = card(ctx, name, None)
        expected = dataclasses.asdict(c)
        for col, doc in zip(c.columns, expected["columns"], strict=True):
            doc["classification_text"] = col.classification_text
        got = c.to_json()
        assert got == expected and repr(got) == repr(expected)
        assert got["columns"] is not expected["columns"]
        if c.checks:  # a copy: changing the document leaves the card alone
            got["checks"][0]["name"] = "changed"
            assert c.checks[0]["name"] != "changed"
    odd = {"t": (1, [2, {"x": Decimal("1.5")}]), "s": {3}}
    assert plain_copy(odd) == dataclasses.asdict(_Holder(odd))["v"]


@dataclasses.dataclass
class _Holder:
    v: Any
