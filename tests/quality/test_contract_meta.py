"""Contract type matching, and the check-results migration from empty and from m0001."""

from __future__ import annotations

import sqlalchemy as sa

from steward.core.check_results import CheckResult, overall_status
from steward.core.records import Column, Version
from steward.core.spec import ColumnSpec
from steward.meta.checks import record_results, results_for
from steward.meta.migrations import all_migrations
from steward.meta.store import Metastore
from steward.quality.contract import Contract, same_type, schema_problems


def test_type_aliases_match_and_bare_decimal_accepts_any_precision():
    assert same_type("INTEGER", "INT")
    assert same_type("string", "VARCHAR")
    assert same_type("DECIMAL", "DECIMAL(10,2)")
    assert not same_type("DECIMAL(18,2)", "DECIMAL(10,2)")
    assert same_type("timestamp with time zone", "TIMESTAMP WITH TIME ZONE")
    assert not same_type("INTEGER", "BIGINT")


def test_schema_problems_lists_every_offending_column():
    contract = Contract({"a": ColumnSpec(type="INTEGER"), "b": ColumnSpec(),
                         "c": ColumnSpec(type="DATE")}, strict=True)
    schema = (Column("a", "DOUBLE"), Column("c", "DATE"), Column("x", "VARCHAR"))
    problems = schema_problems(contract, schema)
    assert problems == ["column 'a' is DOUBLE, declared INTEGER",
                        "column 'b' is declared but missing from the output",
                        "column 'x' (VARCHAR) is not declared (contract: strict)"]
    lenient = Contract(contract.columns, strict=False)
    assert len(schema_problems(lenient, schema)) == 2


def test_migration_from_empty_and_from_previous(tmp_path):
    numbers = [n for n, _ in all_migrations()]
    assert 2 in numbers
    # from the previous release: only m0001 applied
    url = f"sqlite:///{tmp_path / 'old.db'}"
    eng = sa.create_engine(url)
    with eng.begin() as conn:
        conn.execute(sa.text("CREATE TABLE steward_schema (version INTEGER PRIMARY KEY, "
                             "applied_at VARCHAR(40) NOT NULL)"))
        dict(all_migrations())[1].upgrade(conn)
        conn.execute(sa.text("INSERT INTO steward_schema VALUES (1, 'then')"))
    ms = Metastore(url)
    assert "check_results" in sa.inspect(ms.sa_engine).get_table_names()
    fresh = Metastore(f"sqlite:///{tmp_path / 'new.db'}")
    assert "check_results" in sa.inspect(fresh.sa_engine).get_table_names()


def test_record_results_replaces_same_names_and_keeps_others(tmp_path):
    ms = Metastore(f"sqlite:///{tmp_path / 'm.db'}")
    ms.insert_version(Version("v1", "p", "fp", "mfp", "building", str(tmp_path)))
    record_results(ms, "v1", [CheckResult("a", "not_null"), CheckResult("b", "range")])
    record_results(ms, "v1", [CheckResult("drift_x", "drift", "warn", "fail", 1)])
    status = record_results(ms, "v1", [CheckResult("a", "not_null", status="fail", failures=3)],
                            replace_types={"range"}, update_status=True)
    got = {r.name: r for r in results_for(ms, "v1")}
    assert set(got) == {"a", "drift_x"}  # b removed by type, drift kept
    assert got["a"].failures == 3
    assert status == "fail" and ms.version("v1").check_status == "fail"


def test_overall_status():
    assert overall_status([]) is None
    assert overall_status([CheckResult("a", "x")]) == "pass"
    assert overall_status([CheckResult("a", "x", "warn", "fail")]) == "warn"
    assert overall_status([CheckResult("a", "x", "error", "error")]) == "fail"
    assert overall_status([CheckResult("a", "x", "error", "fail", quarantined=2)]) == "warn"
