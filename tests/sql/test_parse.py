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
