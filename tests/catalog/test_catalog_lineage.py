"""Column lineage: SQL traced by sqlglot, degraded cases, Python products, the cache,
and classification propagation (the bad inputs of issue 6 included)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.catalog.lineage import build_lineage, propagate, propagated_classifications
from steward.catalog.lineage_view import render, walk
from steward.catalog.sqllineage import sql_lineage
from steward.project.loader import load_project
from tests.catalog.conftest import put

SCHEMAS = {"raw.users": ["id", "Email", "name"], "shop.orders": ["order_id", "user_id", "amt"],
           "raw.blob": None}


def test_sql_lineage_traces_renames_expressions_ctes_and_joins() -> None:
    pl = sql_lineage("p", """
        with u as (select id, email as mail, upper(name) as nm from raw.users)
        select o.order_id, u.mail as contact, my_fn(u.nm) as x, sum(o.amt) as total,
               count(*) as n
        from shop.orders o join u on u.id = o.user_id group by all
    """, ["raw.users", "shop.orders"], SCHEMAS)
    assert pl.level == "column" and pl.reason is None
    assert pl.columns["order_id"] == (("shop.orders", "order_id", "identity"),)
    # a rename inside a CTE and again outside is still a rename of raw.users.Email
    assert pl.columns["contact"] == (("raw.users", "Email", "rename"),)
    assert pl.columns["x"] == (("raw.users", "name", "derived"),)  # through a scalar UDF
    assert pl.columns["total"] == (("shop.orders", "amt", "derived"),)
    assert pl.columns["n"] == ()


def test_star_over_a_known_schema_expands_with_short_names() -> None:
    pl = sql_lineage("p", "select * from users", ["raw.users"], SCHEMAS)
    assert pl.level == "column"
    assert pl.outputs == ("id", "Email", "name")
    assert pl.columns["Email"] == (("raw.users", "Email", "identity"),)


@pytest.mark.parametrize("sql, inputs, why", [
    ("select * from raw.blob", ["raw.blob"], "SELECT * over raw.blob"),
    ("select * from my_table_udf(42)", [], "table function my_table_udf"),
    ("select a from (select * from raw.blob) s join raw.users u on s.id = u.id",
     ["raw.blob", "raw.users"], "SELECT * over raw.blob"),
])
def test_unresolvable_sql_degrades_to_table_level_with_a_reason(sql: str, inputs: list[str],
                                                                why: str) -> None:
    pl = sql_lineage("p", sql, inputs, SCHEMAS)
    assert pl.level == "table"
    assert pl.reason is not None and why in pl.reason
    assert pl.columns == {}


def test_broken_sql_never_raises() -> None:
    pl = sql_lineage("p", "select from where (", ["raw.users"], SCHEMAS)
    assert pl.level == "table" and "cannot parse" in (pl.reason or "")


def test_ambiguous_column_over_unknown_schema_is_reported_as_partial() -> None:
    pl = sql_lineage("p", "select a, email from raw.blob join raw.users on true",
                     ["raw.blob", "raw.users"], SCHEMAS)
    assert pl.level == "column"
    assert pl.columns["a"] == () and "a" in (pl.reason or "")
    assert pl.columns["email"] == (("raw.users", "Email", "identity"),)


def test_project_lineage_python_products_and_select_star(people: Path) -> None:
    project = load_project(str(people), hash_sources=False)
    g = build_lineage(project)
    assert g.products["raw.people"].level == "source"
    assert g.products["staging.people"].columns["contact"] == (
        ("raw.people", "email", "derived"),)
    # select * through a CTE expands to staging.people's columns, plus the new one
    assert g.columns["marts.mailing"] == ("person_id", "contact", "country", "signup",
                                          "country_code")
    assert g.products["marts.mailing"].columns["contact"] == (
        ("staging.people", "contact", "identity"),)
    py = g.products["ml.features"]
    assert py.level == "table" and "declared inputs" in (py.reason or "")
    assert py.columns["contact"] == (("staging.people", "contact", "name"),)
    assert g.downstream("raw.people", "EMAIL") == [("staging.people", "contact", "derived")]


def test_pii_renamed_downstream_still_propagates(people: Path) -> None:
    project = load_project(str(people), hash_sources=False)
    classes = propagated_classifications(project)
    assert classes[("raw.people", "email")] == (("pii",), None)
    # renamed and lower()-ed: still pii, and the card can say where it came from
    assert classes[("staging.people", "contact")] == (("pii",), "raw.people.email")
    assert classes[("marts.mailing", "contact")] == (("pii",), "raw.people.email")
    assert classes[("ml.features", "contact")] == (("pii",), "raw.people.email")
    # a declared classification on the downstream column wins (here: none)
    assert ("marts.stats", "contacts") not in classes
    assert ("marts.stats", "country") not in classes
    assert ("staging.people", "person_id") not in classes


def test_table_level_product_inherits_classification_by_column_name(people: Path) -> None:
    put(people, "models/marts/dump.sql", "select * from read_csv('data/people.csv')\n"
        "union all select person_id, contact, country, signup from staging.people\n")
    project = load_project(str(people), hash_sources=False)
    g = build_lineage(project)
    pl = g.products["marts.dump"]
    assert pl.level == "table" and "read_csv" in (pl.reason or "")
    put(people, "models/marts/dump.yml", "columns: {contact: {}, signup: {}}\n")
    project = load_project(str(people), hash_sources=False)
    classes = propagate(project, build_lineage(project))
    assert classes[("marts.dump", "contact")] == (("pii",), "raw.people.email")
    assert ("marts.dump", "signup") not in classes


def test_cache_skips_unchanged_products(people: Path) -> None:
    project = load_project(str(people), hash_sources=False)
    first = build_lineage(project)
    assert first.computed == len(project.products)
    cache = people / ".steward" / "cache" / "lineage.json"
    assert set(json.loads(cache.read_text())["products"]) == set(project.products)
    again = build_lineage(load_project(str(people), hash_sources=False))
    assert again.computed == 0
    assert again.products["staging.people"] == first.products["staging.people"]
    # a new column in staging.people re-parses it and the products whose inputs changed
    # (mailing's star, stats, features' by-name match) but not the source
    put(people, "models/staging/people.sql",
        "select id as person_id, lower(email) as contact, country, signup, 1 as v\n"
        "from raw.people\n")
    third = build_lineage(load_project(str(people), hash_sources=False))
    assert third.computed == 4
    assert "v" in (third.columns["marts.mailing"] or ())
    # a comment or reformat only changes nothing the key depends on
    put(people, "models/marts/stats.sql", """\
        -- per country
        SELECT country, COUNT(*) AS people, count(DISTINCT contact) AS contacts
        FROM staging.people GROUP BY country
    """)
    assert build_lineage(load_project(str(people), hash_sources=False)).computed == 0


def test_stored_schemas_resolve_star_over_an_undeclared_source(tmp_path: Path) -> None:
    put(tmp_path, "steward.yaml", "name: t\n")
    put(tmp_path, "data/x.csv", "a,b\n1,2\n")
    put(tmp_path, "sources/raw.yml", "sources:\n  raw.x: {path: data/x.csv}\n")
    put(tmp_path, "models/m/y.sql", "select * from raw.x\n")
    project = load_project(str(tmp_path), hash_sources=False)
    assert build_lineage(project).products["m.y"].level == "table"
    g = build_lineage(project, schemas={"raw.x": ["a", "b"]})
    assert g.products["m.y"].level == "column"
    assert g.products["m.y"].columns["b"] == (("raw.x", "b", "identity"),)


def test_views_in_every_format(people: Path) -> None:
    project = load_project(str(people), hash_sources=False)
    g = build_lineage(project)
    classes = propagate(project, g)
    v = walk(project, g, "raw.people", "email", "downstream", None, classes)
    tree = render(v, "tree")
    assert "staging.people.contact (derived)  [pii via raw.people.email]" in tree
    assert "marts.mailing.contact" in tree
    data = json.loads(render(v, "json"))
    assert {"from": "raw.people.email", "to": "staging.people.contact",
            "how": "derived"} in data["edges"]
    dot = render(v, "dot")
    assert '"raw.people.email" -> "staging.people.contact" [label="derived"];' in dot
    mer = render(v, "mermaid")
    assert mer.startswith("graph LR") and "-- derived -->" in mer
    one = walk(project, g, "raw.people", "email", "downstream", 1, classes)
    assert [b for _, b, _ in one.edges] == ["staging.people.contact"]
    up = walk(project, g, "marts.mailing", None, "upstream", None)
    assert ("raw.people", "staging.people", "input") in up.edges


def test_one_parse_gives_lineage_and_the_facts_openlineage_adds(people: Path) -> None:
    """A SQL product's facts (aggregates, clause columns) come from the lineage pass's
    own parse, are cached with its lineage, and equal those of a separate parse."""
    from steward.sql.facts import sql_facts

    project = load_project(str(people), hash_sources=False)
    first = build_lineage(project)
    sql = [n for n, p in project.products.items() if p.kind == "sql"]
    assert sql and set(first.facts) == set(sql)
    for n in sql:
        p = project.products[n]
        assert first.facts[n] == sql_facts(p.code, tuple(p.inputs)), n
    assert "people" in first.facts["marts.stats"].aggregated
    again = build_lineage(load_project(str(people), hash_sources=False))
    assert again.computed == 0 and again.facts == first.facts
    # the same normal form in other words (case): lineage cached, facts of the new text
    put(people, "models/marts/stats.sql",
        "SELECT country, COUNT(*) AS People, count(DISTINCT contact) AS contacts\n"
        "FROM staging.people GROUP BY country\n")
    third = build_lineage(load_project(str(people), hash_sources=False))
    assert third.computed == 0
    assert "People".lower() in third.facts["marts.stats"].aggregated
    p = load_project(str(people), hash_sources=False).products["marts.stats"]
    assert third.facts["marts.stats"] == sql_facts(p.code, tuple(p.inputs))


def test_lineage_warmed_beside_a_run_leaves_nothing_to_compute(people: Path) -> None:
    from steward.catalog.lineage import warm_lineage

    project = load_project(str(people), hash_sources=False)
    t = warm_lineage(project, {"raw.people": ["id", "email", "country", "signup"]})
    t.join(timeout=60)
    assert not t.is_alive()
    g = build_lineage(project, {"raw.people": ["id", "email", "country", "signup"]})
    assert g.computed == 0 and g.facts


def test_a_run_parses_each_model_once_for_load_lineage_and_openlineage(
        starter: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first run of a project parses each SQL model once: the load's tree is handed
    to the lineage computed beside the builds, whose facts OpenLineage's events use."""
    from sqlglot.parser import Parser

    from steward.context import Context

    parsed: list[str] = []
    real_parse = Parser.parse

    def parse(self, raw_tokens, sql=None, *a, **kw):  # every parse goes through here
        parsed.append(sql)
        return real_parse(self, raw_tokens, sql, *a, **kw)

    monkeypatch.setattr(Parser, "parse", parse)
    ctx = Context(starter)
    result = ctx.run()
    assert result.ok
    codes = [p.code for p in ctx.project.products.values() if p.kind == "sql"]
    assert codes
    for code in codes:
        assert parsed.count(code) == 1, code
    events = (starter / ".steward" / "openlineage").glob("*.ndjson")
    assert any(f.stat().st_size for f in events)
