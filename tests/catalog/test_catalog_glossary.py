"""The glossary: load-time errors with file and line, cycles, and its listing."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.catalog.glossary import glossary_listing, glossary_warnings
from steward.core.errors import ConfigError
from steward.project.loader import load_project
from tests.catalog.conftest import put


def test_listing_shows_definitions_and_usage(people: Path) -> None:
    project = load_project(str(people), hash_sources=False)
    rows = {r["term"]: r for r in glossary_listing(project)}
    assert rows["customer"]["used_by"] == ["raw.people.id", "staging.people.person_id"]
    assert rows["customer"]["synonyms"] == ["client", "buyer"]
    assert rows["country"]["used_by"] == ["raw.people.country"]
    # a synonym finds its term
    assert [r["term"] for r in glossary_listing(project, "Buyer")] == ["customer"]
    # a mutual pair of related terms is not a cycle worth reporting
    assert glossary_warnings(project) == []


def test_undefined_term_is_a_load_error_with_file_and_line(people: Path) -> None:
    put(people, "models/marts/stats.yml", """\
        description: Sign-ups per country.
        columns:
          country: {glossary: country}
          people:
            description: how many
            glossary: headcount
    """)
    with pytest.raises(ConfigError) as e:
        load_project(str(people), hash_sources=False)
    (p,) = e.value.problems
    assert (p.file, p.line) == ("models/marts/stats.yml", 6)
    assert "'headcount'" in p.message and "glossary.yaml" in p.message


def test_synonym_instead_of_term_gets_a_hint(people: Path) -> None:
    put(people, "models/marts/stats.yml", "columns:\n  country: {glossary: nation}\n")
    with pytest.raises(ConfigError) as e:
        load_project(str(people), hash_sources=False)
    assert "synonym of 'country'" in (e.value.problems[0].hint or "")


def test_cycle_in_related_terms_is_a_warning_not_an_error(people: Path) -> None:
    put(people, "glossary.yaml", """\
        terms:
          customer: {definition: a buyer, related: [order]}
          order: {definition: a purchase, related: [invoice]}
          invoice: {definition: a bill, related: [customer]}
          country: {definition: where}
    """)
    project = load_project(str(people), hash_sources=False)  # loads: a warning only
    assert glossary_warnings(project) == ["customer -> order -> invoice -> customer"]
    assert any("cycle" in w for w in project.warnings)


def test_unknown_related_term_and_bad_keys_are_errors(people: Path) -> None:
    put(people, "glossary.yaml", """\
        terms:
          customer: {definition: a buyer, related: [shopper]}
          country: {definition: where, synonym: [nation]}
    """)
    with pytest.raises(ConfigError) as e:
        load_project(str(people), hash_sources=False)
    text = e.value.render()
    assert "glossary.yaml:2: glossary term 'customer' relates to unknown term 'shopper'" in text
    assert "glossary.yaml:3: unknown key 'synonym'" in text
