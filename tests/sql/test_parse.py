import duckdb
import pytest
import sqlglot

from steward.sql.parse import parse_sql, splice_references


def test_references_skip_ctes_and_table_functions():
    p = parse_sql("with x as (select * from raw.a) select * from x join b using (id) "
                  "join read_parquet('f.parquet') f using (id)")
    assert {r.name for r in p.references} == {"raw.a", "b"}


def test_spliced_sql_runs_with_aliases_quotes_and_subqueries(tmp_path):
    for name, rows in (("a", "1, 2, 3"), ("b", "2, 3")):
        duckdb.sql(f"copy (select unnest([{rows}]) as id) to '{tmp_path / name}.parquet'")
    sql = ('select t.id from "raw"."a" t\n'
           "where t.id in (select id from stg.b) and exists (select 1 from raw.a where id = 1)")
    p = parse_sql(sql)
    spans = [(a, b, r.name, c) for r in p.references for a, b, c in r.spans]
    assert len(spans) == 3
    scans = {"raw.a": f"read_parquet('{tmp_path / 'a'}.parquet')",
             "stg.b": f"read_parquet('{tmp_path / 'b'}.parquet')"}
    out = splice_references(sql, spans, scans)
    assert sorted(r[0] for r in duckdb.sql(out).fetchall()) == [2, 3]


def test_a_load_keeps_its_trees_for_one_later_pass_only_when_asked() -> None:
    from steward.sql.parse import keep_trees, parse_sql, take_tree

    text = "select a, sum(b) as s from m.x group by a"
    keep_trees(False)
    parse_sql(text)
    assert take_tree(text) is None  # not asked: nothing kept
    keep_trees(True)
    try:
        parsed = parse_sql(text)
        tree = take_tree(text)
        assert tree is not None and tree == sqlglot.parse_one(parsed.normalized, read="duckdb")
        assert take_tree(text) is None  # handed over once
        parse_sql("select 1 as one")
    finally:
        keep_trees(False)
    assert take_tree("select 1 as one") is None  # dropped with the switch


def test_trees_no_pass_took_are_freed_without_the_collector() -> None:
    # a run's load keeps its trees with the heap frozen (the collector never sees them):
    # the trees dropped when keeping stops must be freed by reference counting alone
    import gc
    import weakref

    from steward.sql import parse

    parse.keep_trees(True)
    try:
        parse.parse_sql("select a, b from m.x where a > 1")
        tree = next(iter(parse._kept.values()))  # type: ignore[union-attr]
        ref = weakref.ref(tree)
        node = weakref.ref(tree.find(sqlglot.exp.Column))
        del tree
        gc.disable()
    finally:
        parse.keep_trees(False)
    try:
        assert ref() is None and node() is None
    finally:
        gc.enable()


SAME = [  # the same query written differently: one normal form
    ("select a.id, upper(grp) as g from m.x as a where a.id > -1 group by all",
     "SELECT  a.id,\n  UPPER(grp) AS g -- the group\nFROM m.x AS a\n/* x */ WHERE a.id>-1\n"
     "GROUP   BY ALL"),
    ("select 'It''s' as s, \"Mixed Case\" from t", "SELECT 'It''s' AS s,\"Mixed Case\" FROM T"),
]
OTHER = [  # a different query: another normal form
    ("select 'a' as s from t", "select 'A' as s from t"),  # a string's case is data
    ('select "A" from t', 'select "a" from t'),  # a quoted name keeps its case
    ("select 1.50 as n from t", "select 1.5 as n from t"),  # a literal as written
    ("select a from t", "select a from t limit 1"),
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_reformatting_keeps_the_normal_form(a: str, b: str) -> None:
    assert parse_sql(a).normalized == parse_sql(b).normalized


@pytest.mark.parametrize(("a", "b"), OTHER)
def test_a_changed_query_changes_the_normal_form(a: str, b: str) -> None:
    assert parse_sql(a).normalized != parse_sql(b).normalized


def test_the_normal_form_is_the_same_query() -> None:
    """DuckDB runs it to the same rows and sqlglot parses it to the same tree."""
    sql = ("-- every kind of token\n"
           "select a.id, upper(grp) as \"Grp\", 'it''s' as s, e'x\\n' as e2, $$dollar$$ as d,\n"
           "  1.5e3::decimal(12,2) as n, [1,2] as l, {'a': 1} as st,\n"
           "  count(*) filter (where a.id > -1) as c, a.id // 2 as h, 2**3 as p,\n"
           "  list_transform([1,2], lambda x: x + 1) as lt, 'a' || 'b' as cc,\n"
           "  interval 3 minute as iv, a.id::varchar ilike '%1%' as il\n"
           "from (select 1 as id, 'g' as grp) as a   group   by all order by 1 nulls first")
    normal = parse_sql(sql).normalized
    assert "--" not in normal and "  " not in normal
    con = duckdb.connect()
    assert con.execute(normal).fetchall() == con.execute(sql).fetchall()
    assert sqlglot.parse_one(normal, read="duckdb") == sqlglot.parse_one(sql, read="duckdb")
