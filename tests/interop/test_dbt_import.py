"""`steward import dbt` on a representative dbt project, built by Steward and by
dbt-duckdb 1.11 in the same run: every table must hold the same rows."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from steward.context import Context
from steward.interop.dbt.convert import import_dbt

HERE = Path(__file__).resolve().parent
PROJECT = HERE / "dbt_project"
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from dbtenv import DBT_PYTHON  # noqa: E402

# dbt-duckdb builds the same project in the same run (its venv is created once)
pytestmark = pytest.mark.slow

# dbt relation -> the Steward product the import makes of it
TABLES = {
    "main.country_codes": "seeds.country_codes",
    "main.payment_method_labels": "seeds.payment_method_labels",
    "main.stg_customers": "staging.stg_customers",
    "main.stg_orders": "staging.stg_orders",
    "main.stg_payments": "staging.stg_payments",
    "main.orders": "marts.orders",
    "main.customers": "marts.customers",
    "main.order_events": "marts.order_events",
    "snapshots.customers_snapshot": "snapshots.customers_snapshot",
}

EXPORT = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
for relation, out in json.loads(sys.argv[2]).items():
    con.execute(f"COPY (SELECT * FROM {relation}) TO '{out}' (FORMAT parquet)")
"""


@pytest.fixture(scope="module")
def dbt_built(dbt_exe: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The test project built by dbt: its folder (with target/manifest.json) and each
    table exported to Parquet."""
    work = tmp_path_factory.mktemp("dbt")
    project = work / "project"
    shutil.copytree(PROJECT, project)
    db = work / "jaffle.duckdb"
    env = {**os.environ, "DBT_DUCKDB_PATH": str(db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run([dbt_exe, "build", "--profiles-dir", ".", "--no-use-colors"],
                          cwd=project, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    out = {rel: str(work / f"{rel}.parquet") for rel in TABLES}
    # (dbt's views read the source files by paths relative to the project)
    subprocess.run([DBT_PYTHON, "-c", EXPORT, str(db), json.dumps(out)], check=True,
                   cwd=project, timeout=120)
    return {"project": project, "tables": {rel: pq.read_table(p) for rel, p in out.items()}}


def _norm(v: Any) -> Any:
    if isinstance(v, Decimal | float):
        return round(float(v), 9)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    return v


def _rows(table: Any) -> list[tuple[Any, ...]]:
    cols = sorted(table.column_names)
    data = table.select(cols).to_pylist()
    return sorted((tuple(_norm(r[c]) for c in cols) for r in data), key=repr)


def _build(folder: Path) -> Context:
    ctx = Context(folder)
    result = ctx.run()
    assert result.ok, [s for s in getattr(result, "steps", [])]
    return ctx


def _compare(ctx: Context, dbt_tables: dict[str, Any]) -> None:
    for relation, product in TABLES.items():
        ours = ctx.sql(f"SELECT * FROM {product}")
        theirs = dbt_tables[relation]
        assert sorted(ours.column_names) == sorted(theirs.column_names), product
        assert ours.num_rows == theirs.num_rows > 0, product
        assert _rows(ours) == _rows(theirs), product


def test_jinja_import_builds_what_dbt_builds(dbt_built: dict[str, Any], tmp_path: Path) -> None:
    report = import_dbt(str(PROJECT), str(tmp_path / "steward"))
    assert report.used_manifest is None  # the pristine project has no target/
    assert (report.models, report.seeds, report.sources, report.snapshots) == (6, 2, 3, 1)
    assert report.consumers == 1
    ctx = _build(tmp_path / "steward")
    _compare(ctx, dbt_built["tables"])

    # the dbt tests became checks: the warn-level relationship fires, as in dbt
    project = ctx.project
    customers = project.products["staging.stg_customers"].spec
    rel = customers.columns["country_code"].checks[0]
    assert (rel.type, rel.to, rel.field, rel.severity) == (
        "relationships", "seeds.country_codes", "code", "warn")
    orders = project.products["marts.orders"].spec
    assert [c.name for c in orders.checks] == ["assert_payments_match_orders"]
    assert "{{ this }}" in orders.checks[0].query
    assert orders.owner == "analytics@example.com" and "mart" in orders.tags
    assert orders.meta["consumers"][0]["name"] == "revenue_dashboard"
    assert project.products["staging.stg_orders"].spec.owner == "orders-team@example.com"
    raw = project.products["shop.raw_customers"].spec
    assert (raw.freshness.column, raw.freshness.warn_after, raw.freshness.error_after) == (
        "updated_at", "12h", "2d")
    positive = project.products["staging.stg_payments"].spec.columns["amount"].checks[0]
    assert positive.type == "sql" and "amount < 0" in positive.query  # allow_zero rendered

    # the incremental model and the snapshot keep their nature
    events = project.products["marts.order_events"].spec
    assert (events.materialize, events.incremental.unique_key) == ("incremental", ("order_id",))
    assert events.incremental.where == "order_date > (select max(order_date) from {{ this }})"
    snap = project.products["snapshots.customers_snapshot"].spec
    assert (snap.materialize, snap.snapshot.updated_at) == ("snapshot", "updated_at")

    # what differs from dbt is listed with file and line
    assert [(p.file, p.line) for p in report.notes] == [("models/marts/order_events.sql", 16)]
    assert report.not_converted == []
    text = (tmp_path / "steward" / "IMPORTED_FROM_DBT.md").read_text()
    assert "models/marts/order_events.sql:16" in text


def test_manifest_import_uses_dbts_compiled_sql(dbt_built: dict[str, Any],
                                                tmp_path: Path) -> None:
    folder = dbt_built["project"]
    report = import_dbt(str(folder), str(tmp_path / "steward"))
    assert report.used_manifest == str(folder / "target" / "manifest.json")
    sql = (tmp_path / "steward" / "models" / "staging" / "stg_payments.sql").read_text()
    assert "seeds.payment_method_labels" in sql and "shop.raw_payments" in sql
    assert "read_csv" not in sql and '"main"' not in sql
    ctx = _build(tmp_path / "steward")
    _compare(ctx, dbt_built["tables"])


def test_a_macro_steward_cannot_render_is_listed_and_the_rest_imported(tmp_path: Path) -> None:
    src = tmp_path / "dbt"
    shutil.copytree(PROJECT, src)
    (src / "macros" / "introspect.sql").write_text(
        "{% macro column_list(relation) %}\n"
        "  {% set cols = run_query('select 1') %}\n"
        "  {{ cols }}\n"
        "{% endmacro %}\n")
    (src / "models" / "marts" / "wide.sql").write_text(
        "select\n  {{ dbt_utils.star(ref('orders')) }}\nfrom {{ ref('orders') }}\n")
    (src / "models" / "marts" / "cols.sql").write_text(
        "-- columns\nselect {{ column_list(ref('orders')) }} from {{ ref('orders') }}\n")
    report = import_dbt(str(src), str(tmp_path / "out"))
    where = {(p.file, p.line): p.message for p in report.not_converted}
    assert ("models/marts/wide.sql", 2) in where, where
    assert "dbt_utils" in where[("models/marts/wide.sql", 2)]
    # the error points into the macro, where run_query is called
    assert ("macros/introspect.sql", 2) in where, where
    assert "run_query" in where[("macros/introspect.sql", 2)]
    assert report.models == 6  # every other model was imported
    assert not (tmp_path / "out" / "models" / "marts" / "wide.sql").exists()


def test_an_unsupported_manifest_version_is_one_clear_error(tmp_path: Path) -> None:
    from steward.core.errors import ConfigError

    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"metadata": {
        "dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v4.json"}, "nodes": {}}))
    with pytest.raises(ConfigError) as e:
        import_dbt(str(PROJECT), str(tmp_path / "out"), manifest=str(manifest))
    assert "manifest schema v4" in str(e.value) and "v12" in str(e.value)
    assert not (tmp_path / "out").exists()  # nothing written


def test_dbt_utils_tests_map_to_steward_checks(tmp_path: Path) -> None:
    src = tmp_path / "dbt"
    shutil.copytree(PROJECT, src)
    (src / "models" / "marts" / "utils_tests.yml").write_text("""\
version: 2
models:
  - name: customers
    data_tests:
      - dbt_utils.unique_combination_of_columns:
          arguments: {combination_of_columns: [customer_id, full_name]}
      - dbt_utils.expression_is_true:
          arguments: {expression: "number_of_orders >= 0"}
      - dbt_utils.equal_rowcount:
          arguments: {compare_model: ref('stg_customers')}
    columns:
      - name: lifetime_value
        data_tests:
          - dbt_utils.accepted_range:
              arguments: {min_value: 0, inclusive: true}
          - dbt_utils.not_null_proportion:
              arguments: {at_least: 0.5}
      - name: full_name
        data_tests:
          - dbt_utils.not_empty_string
          - dbt_utils.at_least_one
          - unique:
              config: {severity: warn, where: "number_of_orders > 0"}
      - name: country
        data_tests:
          - dbt_expectations.expect_column_values_to_be_of_type:
              arguments: {column_type: varchar}
""")
    # dbt would read both files; the import reads the last declaration of a model
    schema = (src / "models" / "marts" / "schema.yml").read_text()
    (src / "models" / "marts" / "schema.yml").write_text(
        schema.replace("  - name: customers\n", "  - name: customers_old\n"))
    report = import_dbt(str(src), str(tmp_path / "out"))
    ctx = _build(tmp_path / "out")
    spec = ctx.project.products["marts.customers"].spec
    kinds = [(c.type, getattr(c, "columns", None)) for c in spec.checks]
    assert kinds[0] == ("unique", ("customer_id", "full_name"))
    assert [k for k, _ in kinds] == ["unique", "expression", "sql"]
    ltv = spec.columns["lifetime_value"].checks
    assert (ltv[0].type, ltv[0].min, ltv[1].type, ltv[1].mostly) == ("range", 0, "not_null", 0.5)
    name = spec.columns["full_name"].checks
    assert [c.type for c in name] == ["expression", "sql", "sql"]
    assert name[2].severity == "warn" and "number_of_orders > 0" in name[2].query
    missing = [p for p in report.not_converted if "dbt_expectations" in p.message]
    assert missing and missing[0].file == "models/marts/utils_tests.yml"
    assert missing[0].line == 26


def test_cli_import_lists_what_it_did_not_convert(tmp_path: Path) -> None:
    steward = Path(sys.executable).parent / "steward"
    done = subprocess.run([str(steward), "import", "dbt", str(PROJECT), "--into",
                           str(tmp_path / "out"), "--json"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["models"] == 6 and data["checks"] > 20
    assert data["not_converted"] == [] and data["notes"][0]["line"] == 16
    again = subprocess.run([str(steward), "import", "dbt", str(PROJECT), "--into",
                            str(tmp_path / "out")], capture_output=True, text=True, timeout=120)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_second_builds_match_too_incremental_and_snapshot(dbt_exe: str, tmp_path: Path) -> None:
    """New and changed rows arrive: dbt's second build (incremental merge, snapshot
    history) and Steward's second run of the imported project agree on every table."""
    project = tmp_path / "dbt"
    shutil.copytree(PROJECT, project)
    db = tmp_path / "jaffle.duckdb"
    env = {**os.environ, "DBT_DUCKDB_PATH": str(db), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}

    def dbt_build() -> dict[str, Any]:
        done = subprocess.run([dbt_exe, "build", "--profiles-dir", ".", "--no-use-colors"],
                              cwd=project, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-4000:]
        out = {rel: str(tmp_path / f"{rel}.parquet") for rel in TABLES}
        subprocess.run([DBT_PYTHON, "-c", EXPORT, str(db), json.dumps(out)], check=True,
                       cwd=project, timeout=120)
        return {rel: pq.read_table(p) for rel, p in out.items()}

    first = dbt_build()
    import_dbt(str(project), str(tmp_path / "steward"), use_manifest=False)
    ctx = _build(tmp_path / "steward")
    _compare(ctx, first)

    data = project / "data"
    with open(data / "raw_customers.csv", "a") as f:
        f.write("8,Ada,L.,FR,2026-01-09 09:00:00\n")
    text = (data / "raw_customers.csv").read_text().replace(
        "2,Shawn,M.,US,2026-01-02 09:30:00", "2,Shawn,M.,DE,2026-01-08 10:00:00")
    (data / "raw_customers.csv").write_text(text)
    with open(data / "raw_orders.csv", "a") as f:
        f.write("11,8,2026-01-09,placed\n12,2,2026-01-10,placed\n")
    text = (data / "raw_orders.csv").read_text().replace("10,1,2026-01-08,completed",
                                                         "10,1,2026-01-08,returned")
    (data / "raw_orders.csv").write_text(text)
    with open(data / "raw_payments.csv", "a") as f:
        f.write("13,11,coupon,700\n14,12,credit_card,1200\n")

    second = dbt_build()
    ctx = _build(tmp_path / "steward")
    _compare(ctx, second)
    snap = second["snapshots.customers_snapshot"]
    assert snap.num_rows == 9  # 8 customers, one of them twice
    events = ctx.sql("SELECT order_id, status FROM marts.order_events ORDER BY order_id")
    # order 10 changed status but is older than the newest order: neither tool re-reads it
    assert events.to_pylist()[9] == {"order_id": 10, "status": "completed"}
    assert events.num_rows == 12
