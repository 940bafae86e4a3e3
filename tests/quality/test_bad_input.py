"""Each 'bad input' of the quality issue, shown by a test."""

from __future__ import annotations

import os

import pytest
from qhelpers import ORDERS_CSV, base_files, write
from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context
from steward.core.errors import ConfigError
from steward.meta.checks import results_for
from tests.conftest import published_state


def test_check_on_unknown_column_is_a_config_error_with_file_and_line(project):
    root = project(base_files("""\
        columns:
          amount: {description: total}
        checks:
          - not_null: {column: amuont}
        """, model_sql="select order_id, amount from raw.orders\n"))
    with pytest.raises(ConfigError) as e:
        Context(root).project  # noqa: B018  (loading is the point)
    text = e.value.render()
    assert "models/staging/orders.yml:5:" in text
    assert "'amuont'" in text and "did you mean 'amount'?" in text


def test_regex_that_does_not_compile_is_a_config_error(project):
    root = project(base_files("""\
        columns:
          email:
            checks:
              - regex: {pattern: '([a-z'}
        """))
    with pytest.raises(ConfigError) as e:
        Context(root).project  # noqa: B018
    text = e.value.render()
    assert "models/staging/orders.yml:" in text and "regex does not compile" in text


def test_contract_disagreeing_with_sql_output_fails_the_gate(project):
    root = project(base_files("""\
        contract: strict
        columns:
          order_id: {type: INTEGER, nullable: false}
          customer: {type: VARCHAR, nullable: false}
          amount: {type: INTEGER}
          status: {type: VARCHAR}
        """, model_sql="select * from raw.orders\n"))
    ctx = Context(root)
    result = ctx.run()
    step = {s.product: s for s in result.steps}["staging.orders"]
    assert step.status == "failed"
    # every offending column at once, in one readable message
    for part in ("'order_id' is BIGINT, declared INTEGER", "'amount' is DOUBLE, declared INTEGER",
                 "'email' (VARCHAR) is not declared", "'ordered_at' (TIMESTAMP) is not declared",
                 "'customer' is declared not nullable but has 1 null"):
        assert part in step.error
    assert "contract violated (5 problems)" in step.error


def test_declared_column_missing_from_sql_output_is_a_load_error(project):
    root = project(base_files("columns:\n  discount: {type: DOUBLE}\n"))
    with pytest.raises(ConfigError) as e:
        Context(root).project  # noqa: B018
    assert "declares column 'discount' but its SQL does not produce it" in e.value.render()


def test_check_whose_sql_errors_gets_status_error_and_blocks(project):
    root = project(base_files("""\
        checks:
          - sql: "select * from {{ this }} where amount > 'lots'::INTEGER"
          - expression: {expression: "amount >= 0", severity: warn}
        """))
    ctx = Context(root)
    result = ctx.run()
    step = {s.product: s for s in result.steps}["staging.orders"]
    assert step.status == "failed"
    assert "ERROR sql: could not run: Conversion Error" in step.error
    failed = ctx.metastore.versions("staging.orders")[0]
    res = {r.name: r for r in results_for(ctx.metastore, failed.id)}
    assert res["sql"].status == "error"
    assert res["expression"].status == "fail"  # the others still ran


def test_warn_check_whose_sql_errors_does_not_block(project):
    root = project(base_files("""\
        checks:
          - expression: {expression: "amount >= no_such_column", severity: warn}
        """))
    ctx = Context(root)
    assert ctx.run().ok
    v = ctx.current()["staging.orders"]
    res = results_for(ctx.metastore, v.id)
    assert res[0].status == "error" and "no_such_column" in res[0].message
    assert v.check_status == "warn"


def test_relationship_to_unknown_product_is_a_config_error(project):
    root = project(base_files("""\
        columns:
          customer:
            checks:
              - relationships: {to: raw.custmers, field: name}
        """))
    with pytest.raises(ConfigError) as e:
        Context(root).project  # noqa: B018
    text = e.value.render()
    assert "models/staging/orders.yml:5:" in text
    assert "unknown product 'raw.custmers'" in text and "raw.customers" in text


def test_relationship_to_product_without_version_is_an_error_result(project):
    root = project(base_files("""\
        columns:
          customer:
            checks:
              - relationships: {to: raw.customers, field: name}
        """))
    result = Context(root).run(["raw.orders", "staging.orders"])
    step = {s.product: s for s in result.steps}["staging.orders"]
    assert step.status == "failed"
    assert "no current version" in step.error


def test_cli_prints_one_summary_and_exits_nonzero(project):
    root = project(base_files("columns:\n  amount: {checks: [{range: {min: 0}}]}\n"))
    out = CliRunner().invoke(app, ["run", "--project", str(root)])
    assert out.exit_code == 1
    assert "1 blocking check failed; the version was not published" in out.output
    assert "steward check show staging.orders" in out.output
    assert "Traceback" not in out.output
    fixed = "columns:\n  amount: {checks: [{range: {min: -5}}]}\n"
    write(root, {"models/staging/orders.yml": fixed})
    out = CliRunner().invoke(app, ["run", "--project", str(root)])
    assert out.exit_code == 0, out.output


def test_relationships_reports_failing_rows_and_distinct_missing_values(project):
    orders = ORDERS_CSV + "".join(f"{6 + i},Grace,1.00,paid,g@example.com,2026-01-06 10:00:00\n"
                                  for i in range(4))
    files = base_files("""\
        columns:
          customer:
            checks:
              - relationships: {to: raw.customers, field: name}
        """)
    files["data/orders.csv"] = orders
    files["data/customers.csv"] = "name,country\nLinus,FI\n"
    root = project(files)
    ctx = Context(root)
    ctx.run(["raw.customers"])
    result = ctx.run()
    step = {s.product: s for s in result.steps}["staging.orders"]
    assert step.status == "failed"
    # Ada twice and Grace five times: 7 rows, 2 distinct values missing from the parent
    assert ("7 rows (2 distinct values) of customer not found in raw.customers.name"
            in step.error)
    failed = ctx.metastore.versions("staging.orders")[0]
    [res] = [r for r in results_for(ctx.metastore, failed.id) if r.type == "relationships"]
    assert res.failures == 7 and res.total == 8
    assert res.details["missing_values"] == 2


def test_check_of_a_version_whose_files_are_gone_names_product_version_and_file(
        project, steward_cmd):
    import subprocess

    root = project(base_files("columns:\n  order_id: {checks: [not_null]}\n"))
    ctx = Context(root)
    assert ctx.run().ok
    v = ctx.current()["staging.orders"]
    [data] = ctx.store.data_files(v.path)
    os.remove(data)
    before = published_state(root)
    p = subprocess.run([*steward_cmd, "check"], cwd=root, capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 1, p.stdout + p.stderr
    assert "Traceback" not in p.stderr
    folder = os.path.relpath(ctx.store.path(v.path), root)
    assert (f"staging.orders version {v.id} has lost its data: its Parquet files under "
            f"{folder} are not the ones published" in p.stderr), p.stderr
    assert "steward run staging.orders --full-refresh" in p.stderr
    assert published_state(root) == before  # no result recorded, no status changed
