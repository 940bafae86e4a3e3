import duckdb

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
        assert tree is not None and tree.sql(dialect="duckdb", normalize=True,
                                             comments=False) == parsed.normalized
        assert take_tree(text) is None  # handed over once
        parse_sql("select 1 as one")
    finally:
        keep_trees(False)
    assert take_tree("select 1 as one") is None  # dropped with the switch
