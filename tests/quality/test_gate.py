"""The gate inside `steward run`: block, warn, quarantine, fix and publish."""

from __future__ import annotations

import pyarrow.parquet as pq
from qhelpers import base_files, write
from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context
from steward.meta.checks import results_for

BLOCKING = """\
columns:
  amount:
    checks:
      - range: {min: 0}
  status:
    checks:
      - accepted_values: {values: [paid, refunded], severity: warn}
"""


def statuses(result):
    return {s.product: s.status for s in result.steps}


def test_error_check_blocks_publication_and_skips_downstream(project):
    root = project(base_files(BLOCKING))
    ctx = Context(root)
    result = ctx.run()
    assert not result.ok
    st = statuses(result)
    assert st["staging.orders"] == "failed"
    assert st["marts.revenue"] == "skipped"
    assert st["raw.orders"] == "built"
    assert "staging.orders" not in ctx.current()
    failed = ctx.metastore.versions("staging.orders")[0]
    assert failed.status == "failed" and failed.check_status == "fail"
    assert "range_amount" in failed.error and "1 of 5 rows fails" in failed.error
    results = {r.name: r for r in results_for(ctx.metastore, failed.id)}
    assert results["range_amount"].status == "fail"
    assert results["accepted_values_status"].status == "fail"
    assert results["accepted_values_status"].severity == "warn"
    # the failing-row sample survives with the refused candidate
    sample = pq.read_table(f"{ctx.store.path(failed.path)}/{results['range_amount'].sample_path}")
    assert sample.column("amount").to_pylist() == [-3.0]


def test_gate_failure_then_fix_publishes_and_failed_candidate_stays_inspectable(project):
    root = project(base_files(BLOCKING))
    ctx = Context(root)
    assert not ctx.run().ok
    failed = ctx.metastore.versions("staging.orders")[0]
    # the fix: clean the data in the model
    write(root, {"models/staging/orders.sql": """\
        select order_id, customer, greatest(amount, 0) as amount, status, email, ordered_at
        from raw.orders
        """})
    ctx = Context(root)
    result = ctx.run()
    assert result.ok, result.steps
    current = ctx.current()["staging.orders"]
    assert current.check_status == "warn"  # the warn check still fires
    assert "marts.revenue" in ctx.current()
    runner = CliRunner()
    out = runner.invoke(app, ["check", "show", "staging.orders", "--version", failed.id,
                              "--project", str(root)])
    assert out.exit_code == 0, out.output
    assert "failed, not current in 'prod'" in out.output
    assert "range_amount" in out.output and "-3.0" in out.output
    out = runner.invoke(app, ["check", "show", "staging.orders", "--project", str(root)])
    assert current.id in out.output and "current in 'prod'" in out.output


def test_failed_gate_keeps_previous_version_in_env(project):
    root = project(base_files("checks:\n  - row_count: {min: 1}\n"))
    ctx = Context(root)
    assert ctx.run().ok
    before = ctx.current()["staging.orders"].id
    write(root, {"models/staging/orders.yml": "checks:\n  - row_count: {min: 1}\n",
                 "models/staging/orders.sql": "select * from raw.orders where amount > 1000\n"})
    ctx = Context(root)
    result = ctx.run()
    assert statuses(result)["staging.orders"] == "failed"
    assert ctx.current()["staging.orders"].id == before
    assert "row count is 0, outside [1, ]" in ctx.metastore.versions("staging.orders")[0].error


def test_warn_only_publishes_with_a_note(project):
    root = project(base_files("""\
        columns:
          email:
            checks:
              - regex: {pattern: '^[^@]+@[^@]+$', severity: warn}
        """))
    ctx = Context(root)
    result = ctx.run()
    assert result.ok
    assert ctx.current()["staging.orders"].check_status == "warn"
    assert any("regex_email" in n for n in result.notes["staging.orders"])


def test_quarantine_rows_publishes_passing_rows(project):
    root = project(base_files("""\
        on_fail: quarantine_rows
        columns:
          amount: {checks: [{range: {min: 0}}]}
          customer: {checks: [not_null]}
        checks:
          - row_count: {min: 1}
        """))
    ctx = Context(root)
    result = ctx.run()
    assert result.ok, result.steps
    v = ctx.current()["staging.orders"]
    assert v.row_count == 4 and v.check_status == "warn"
    qfile = ctx.quarantine("staging.orders")
    assert qfile is not None
    bad = ctx.sql(f"select order_id, _failed_checks from read_parquet('{qfile}')")
    assert bad.to_pylist() == [{"order_id": 5, "_failed_checks": "range_amount, not_null_customer"}]
    assert ctx.sql("select count(*) as n from staging.orders").to_pylist() == [{"n": 4}]
    res = {r.name: r for r in results_for(ctx.metastore, v.id)}
    assert res["range_amount"].quarantined == 1
    assert res["row_count"].observed == 4  # re-checked after quarantine


def test_quarantine_does_not_hide_non_row_failures(project):
    root = project(base_files("""\
        on_fail: quarantine_rows
        columns:
          customer: {checks: [unique]}
        """))
    result = Context(root).run()
    assert statuses(result)["staging.orders"] == "failed"


def test_relationships_use_the_target_current_version(project):
    files = base_files("""\
        columns:
          customer:
            checks:
              - relationships: {to: raw.customers, field: name, severity: warn}
        """)
    files["models/staging/orders.sql"] = """\
        select o.*, c.country from raw.orders o left join raw.customers c on o.customer = c.name
        """
    root = project(files)
    ctx = Context(root)
    assert ctx.run().ok
    res = {r.name: r for r in results_for(ctx.metastore, ctx.current()["staging.orders"].id)}
    assert res["relationships_customer"].status == "pass"
    assert res["relationships_customer"].total == 4  # null customer is not checked
    write(root, {"data/customers.csv": "name,country\nAda,UK\n"})
    ctx = Context(root)
    assert ctx.run().ok
    res = {r.name: r for r in results_for(ctx.metastore, ctx.current()["staging.orders"].id)}
    assert res["relationships_customer"].failures == 2


def test_source_checks_gate_ingestion(project):
    files = base_files()
    files["sources/raw.yml"] = """\
        sources:
          raw.orders:
            path: data/orders.csv
            columns:
              order_id: {type: BIGINT, nullable: false, checks: [unique]}
              customer: {checks: [not_null]}
          raw.customers:
            path: data/customers.csv
        """
    root = project(files)
    result = Context(root).run()
    st = statuses(result)
    assert st["raw.orders"] == "failed" and st["staging.orders"] == "skipped"
    assert st["raw.customers"] == "built"


def test_row_count_change_against_previous_version(project):
    root = project(base_files("checks:\n  - row_count_change: {max_change_pct: 30}\n"))
    ctx = Context(root)
    assert ctx.run().ok
    write(root, {"models/staging/orders.sql": "select * from raw.orders where order_id <= 3\n"})
    ctx = Context(root)
    result = ctx.run()
    assert statuses(result)["staging.orders"] == "failed"
    assert "5 -> 3 (-40.0%" in ctx.metastore.versions("staging.orders")[0].error
