"""Catalog search: ranking, glossary synonyms, facets, and incremental index updates."""

from __future__ import annotations

from pathlib import Path

from steward.catalog.search import CatalogIndex, project_entries
from steward.catalog.service import lineage, refreshed_index
from steward.project.loader import load_project
from tests.catalog.conftest import put


def _index(root: Path) -> CatalogIndex:
    project = load_project(str(root), hash_sources=False)
    graph, classes = lineage(project)
    index = CatalogIndex(str(root / "idx.db"))
    index.sync(project_entries(project, graph.columns, classes))
    return index


def test_ranks_by_name_description_and_glossary_synonyms(people: Path) -> None:
    index = _index(people)
    hits = index.search("country residence")
    # raw.people.country matches both words: its name, and its glossary term's definition
    # ("ISO 3166 country of residence"); marts.stats's description matches both too
    assert hits[0].name == "raw.people.country"
    assert {h.name for h in hits} >= {"staging.people.country", "marts.mailing.country"}
    # entries matching every word come before those matching one
    assert {h.name for h in hits[:2]} == {"raw.people.country", "marts.stats"}
    # "client" is a synonym of the glossary term 'customer', linked by id and person_id
    names = [h.name for h in index.search("client")]
    assert names[:2] == ["raw.people.id", "staging.people.person_id"] or set(names[:2]) == {
        "raw.people.id", "staging.people.person_id"}
    # prefix and stemming: "sign" finds "Sign-ups" and signup
    assert any(h.name == "raw.people.signup" for h in index.search("sign"))
    assert index.search("zzzz-nothing") == []


def test_facets_owner_domain_tag_classification(people: Path) -> None:
    index = _index(people)
    assert {h.product for h in index.search("country", owner="bi@example.com")} == {
        "marts.stats"}
    assert {h.product for h in index.search("country", domain="raw")} == {"raw.people"}
    assert [h.name for h in index.search("", tag="kpi")] == ["marts.stats"]
    pii = {h.name for h in index.search("", classification="pii", limit=100)}
    # propagated classifications are searchable: the renamed contact columns are pii
    assert {"raw.people.email", "staging.people.contact", "marts.mailing.contact",
            "ml.features.contact"} <= pii
    assert "marts.stats.contacts" not in pii
    assert all(h.owner == "data@example.com" for h in index.search("contact",
                                                                  owner="DATA@example.com"))


def test_update_touches_only_changed_products(people: Path) -> None:
    project = load_project(str(people), hash_sources=False)
    index, stats = refreshed_index(project)
    assert stats.touched == len(project.products) and stats.removed == 0
    n = index.count()
    index.close()
    _, stats = refreshed_index(load_project(str(people), hash_sources=False))
    assert stats.touched == 0
    put(people, "models/marts/stats.yml", """\
        description: Sign-ups per nation, refreshed daily.
        owner: bi@example.com
        columns:
          contacts: {classification: [], description: A count is not personal data}
    """)
    (people / "models/ml/features.py").unlink()
    index, stats = refreshed_index(load_project(str(people), hash_sources=False))
    assert (stats.touched, stats.removed) == (1, 1)
    assert index.count() == n - 3  # ml.features and its two columns are gone
    assert [h.name for h in index.search("refreshed")] == ["marts.stats"]
    assert index.search("kpi") == []  # the dropped tag is no longer indexed
