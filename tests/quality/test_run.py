"""Evaluating every check kind on a real Parquet file inside DuckDB."""

from __future__ import annotations

import os
from datetime import datetime

import duckdb
import pyarrow.parquet as pq
import pytest
from pydantic import TypeAdapter

from steward.core.checks import Check, normalise_check
from steward.core.records import Column
from steward.quality.compile import compile_check, label_all, scan_query, to_sql
from steward.quality.run import CheckRun, evaluate

ADAPTER: TypeAdapter = TypeAdapter(Check)


def mk(raw, column=None):
    return ADAPTER.validate_python(normalise_check(raw, column))


@pytest.fixture
def table(tmp_path):
    con = duckdb.connect()
    path = str(tmp_path / "t.parquet")
    con.execute(f"""
        COPY (SELECT i AS id,
                     CASE WHEN i % 10 = 0 THEN NULL ELSE 'c' || (i % 3) END AS cat,
                     i * 1.5 AS x,
                     CASE WHEN i = 7 THEN 'bad' ELSE 'u' || i || '@ex.com' END AS email,
                     TIMESTAMP '2026-01-01' + INTERVAL (i) HOUR AS ts,
                     i % 50 AS k
              FROM range(1, 101) r(i)) TO '{path}' (FORMAT parquet)""")
    schema = tuple(Column(r[0], str(r[1])) for r in
                   con.execute(f"DESCRIBE SELECT * FROM '{path}'").fetchall())
    return con, path, schema


def run_on(table, checks, tmp_path=None, **kw):
    con, path, schema = table
    from steward.core.spec import EngineSpec
    from steward.engine.duckdb import DuckDBEngine

    engine = DuckDBEngine(EngineSpec(), os.path.dirname(path))
    run = CheckRun(engine=engine, files=[path], schema=schema,
                   sample_dir=str(tmp_path / "samples") if tmp_path else None, **kw)
    return {r.name: r for r in evaluate([mk(c) for c in checks], run).results}


def test_row_level_checks_count_failures(table):
    res = run_on(table, [
        {"not_null": {"column": "cat"}},
        {"accepted_values": {"column": "cat", "values": ["c0", "c1"]}},
        {"range": {"column": "x", "min": 0, "max": 100}},
        {"regex": {"column": "email", "pattern": r"^[^@]+@[^@]+\.com$"}},
        {"length": {"column": "email", "min": 4}},
        {"expression": "x > id"},
    ])
    assert res["not_null_cat"].failures == 10 and res["not_null_cat"].status == "fail"
    # nulls pass accepted_values; c2 rows fail
    assert res["accepted_values_cat"].failures == sum(
        1 for i in range(1, 101) if i % 10 and i % 3 == 2)
    assert res["range_x"].failures == sum(1 for i in range(1, 101) if i * 1.5 > 100)
    assert res["regex_email"].failures == 1
    assert res["length_email"].failures == 1  # 'bad'
    assert res["expression"].status == "pass" and res["expression"].total == 100


def test_tolerance_mostly_and_max_failures(table):
    res = run_on(table, [
        {"not_null": {"column": "cat", "mostly": 0.9, "name": "m_ok"}},
        {"not_null": {"column": "cat", "mostly": 0.95, "name": "m_bad"}},
        {"not_null": {"column": "cat", "max_failures": 10, "name": "n_ok"}},
        {"not_null": {"column": "cat", "max_failures": 9, "name": "n_bad"}},
    ])
    assert [res[n].status for n in ("m_ok", "m_bad", "n_ok", "n_bad")] == [
        "pass", "fail", "pass", "fail"]


def test_unique_single_and_compound(table):
    res = run_on(table, [
        {"unique": {"column": "id"}},
        {"unique": {"column": "k"}},
        {"unique": {"columns": ["k", "id"]}},
    ])
    assert res["unique_id"].status == "pass"
    assert res["unique_k"].failures == 50
    assert res["unique_k_id"].status == "pass"


def test_aggregates_and_statistics(table):
    res = run_on(table, [
        {"row_count": {"min": 100, "max": 100}},
        {"mean": {"column": "x", "min": 75, "max": 76}},
        {"stddev": {"column": "x", "max": 1}},
        {"quantile": {"column": "id", "q": 0.5, "min": 50, "max": 51}},
        {"distinct_count": {"column": "k", "min": 50, "max": 50}},
        {"null_fraction": {"column": "cat", "max": 0.1}},
        {"min": {"column": "id", "min": 1}},
        {"max": {"column": "id", "max": 99}},
        {"sum": {"column": "id", "min": 5050, "max": 5050}},
    ])
    assert res["row_count"].status == "pass" and res["row_count"].observed == 100
    assert res["mean_x"].status == "pass" and res["mean_x"].observed == pytest.approx(75.75)
    assert res["stddev_x"].status == "fail"
    assert res["quantile_id"].status == "pass"
    assert res["distinct_count_k"].observed == 50
    assert res["null_fraction_cat"].observed == pytest.approx(0.1)
    assert res["null_fraction_cat"].status == "pass"
    assert res["max_id"].status == "fail" and "outside" in res["max_id"].message
    assert res["sum_id"].status == "pass"


def test_freshness_and_row_count_change(table):
    now = datetime(2026, 1, 5, 4, 0, 0)  # newest ts is 2026-01-05 04:00
    res = run_on(table, [
        {"freshness": {"column": "ts", "max_age": "1h", "name": "fresh"}},
        {"freshness": {"column": "ts", "max_age": "30m", "name": "fresh_ok"}},
        {"row_count_change": {"max_change_pct": 10}},
    ], now=now.replace(hour=5), previous_rows=80)
    assert res["fresh"].status == "pass" and res["fresh"].observed == 3600
    assert res["fresh_ok"].status == "fail"
    assert res["row_count_change"].status == "fail"
    assert res["row_count_change"].observed == pytest.approx(25.0)


def test_custom_sql_and_errors_are_isolated(table):
    res = run_on(table, [
        {"type": "sql", "query": "select * from {{ this }} where x < id", "name": "never"},
        {"type": "sql", "query": "select * from {{ this }} where id > 95", "name": "five"},
        {"type": "expression", "expression": "no_such_col > 1", "name": "broken"},
        {"type": "sql", "query": "select * from {{ this }} where", "name": "syntax"},
        {"not_null": {"column": "id"}},
    ])
    assert res["never"].status == "pass"
    assert res["five"].status == "fail" and res["five"].failures == 5
    assert res["broken"].status == "error" and "no_such_col" in res["broken"].message
    assert res["syntax"].status == "error" and "syntax" in res["syntax"].message.lower()
    assert res["not_null_id"].status == "pass"  # a broken check does not hide the others


def test_samples_only_for_failing_checks_and_bounded(table, tmp_path):
    res = run_on(table, [{"not_null": {"column": "cat"}}, {"not_null": {"column": "id"}},
                         {"unique": {"column": "k"}}], tmp_path, sample_rows=3)
    assert res["not_null_id"].sample_path is None
    assert not (tmp_path / "samples" / "not_null_id.parquet").exists()
    sample = pq.read_table(tmp_path / "samples" / "not_null_cat.parquet")
    assert sample.num_rows == 3 and sample.column("cat").null_count == 3
    assert res["not_null_cat"].sample_path == "checks/not_null_cat.parquet"
    dups = pq.read_table(tmp_path / "samples" / "unique_k.parquet")
    assert dups.column_names == ["k", "duplicates"] and dups.num_rows == 3


def test_missing_column_is_an_error_result(table):
    res = run_on(table, [{"not_null": {"column": "nope"}}])
    assert res["not_null_nope"].status == "error"
    assert "'nope' is not in the data" in res["not_null_nope"].message


def test_all_checks_compile_into_one_scan(table):
    con, path, _ = table
    checks = [mk(c) for c in [{"not_null": {"column": "cat"}}, {"unique": {"column": "id"}},
                              {"mean": {"column": "x", "min": 0}},
                              {"range": {"column": "x", "min": 0}}]]
    aggs = {}
    for i, (name, c) in enumerate(label_all(checks)):
        aggs.update(compile_check(c, name, i, [path], lambda n: None, 5).aggregates)
    sql = to_sql(scan_query([path], aggs))
    assert sql.upper().count("READ_PARQUET") == 1
    assert sql.startswith("SELECT COUNT(*) AS __rows, COUNT_IF(\"cat\" IS NULL) AS c0_fail")
    assert "AVG(\"x\")" in sql
    assert len(con.execute(sql).fetchone()) == 1 + len(aggs)


def test_duplicate_labels_get_suffixes():
    checks = [mk({"not_null": {"column": "a"}}), mk({"not_null": {"column": "a"}})]
    assert [n for n, _ in label_all(checks)] == ["not_null_a", "not_null_a_2"]
