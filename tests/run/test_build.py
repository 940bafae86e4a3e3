"""Building, reusing and failing: the executor and planner against real DuckDB and SQLite."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.context import Context
from tests.conftest import write


def statuses(result) -> dict[str, str]:
    return {s.product: s.status for s in result.steps}


def test_first_run_builds_everything_and_publishes(starter: Path):
    ctx = Context(starter)
    result = ctx.run()
    assert result.ok
    assert set(statuses(result).values()) == {"built"}
    current = ctx.current()
    assert current["raw.orders"].row_count == 4
    assert current["marts.daily_revenue"].row_count == 3
    v = current["staging.orders"]
    assert v.status == "published" and v.inputs == {"raw.orders": current["raw.orders"].id}
    assert [c.name for c in v.schema] == ["order_id", "customer", "amount", "order_date"]
    rows = ctx.sql("select revenue from daily_revenue order by order_date").column(0).to_pylist()
    assert rows == [111.5, 5.25, 42.0]


def test_unchanged_project_is_not_rebuilt(starter: Path):
    Context(starter).run()
    again = Context(starter).run()
    assert set(statuses(again).values()) == {"kept"}


def test_metadata_only_change_does_not_rebuild(starter: Path):
    ctx = Context(starter)
    ctx.run()
    before = ctx.current()["staging.orders"].id
    write(starter, "models/staging/orders.yml", """\
        description: A new description, a new owner.
        owner: someone-else@example.com
        primary_key: [order_id]
        """)
    ctx2 = Context(starter)
    result = ctx2.run()
    assert statuses(result)["staging.orders"] == "kept"
    assert ctx2.current()["staging.orders"].id == before
    assert ctx2.show("staging.orders").product.owner == "someone-else@example.com"


def test_reformatting_sql_does_not_rebuild(starter: Path):
    Context(starter).run()
    write(starter, "models/marts/daily_revenue.sql", """\
        -- reformatted, same query
        SELECT order_date,
               COUNT(*)    AS orders,
               SUM(amount) AS revenue
        FROM staging.orders
        GROUP BY order_date
        ORDER BY order_date
        """)
    assert set(statuses(Context(starter).run()).values()) == {"kept"}


def test_editing_a_leaf_rebuilds_exactly_that_product(starter: Path):
    Context(starter).run()
    write(starter, "models/marts/daily_revenue.sql",
          "select order_date, count(*) as orders, sum(amount) * 1.0 as revenue "
          "from staging.orders group by order_date")
    result = Context(starter).run()
    assert [s.product for s in result.steps if s.status == "built"] == ["marts.daily_revenue"]


def test_editing_a_source_file_rebuilds_downstream(starter: Path):
    Context(starter).run()
    with open(starter / "data" / "orders.csv", "a") as f:
        f.write("5,Ada,7.00,2026-01-05 08:00:00\n")
    result = Context(starter).run()
    assert set(statuses(result).values()) == {"built"}
    assert Context(starter).current()["raw.orders"].row_count == 5


def test_reverting_reuses_the_earlier_version(starter: Path):
    Context(starter).run()
    first = Context(starter).current()["marts.daily_revenue"].id
    sql = (starter / "models/marts/daily_revenue.sql").read_text()
    write(starter, "models/marts/daily_revenue.sql", sql.replace("sum(amount)", "max(amount)"))
    Context(starter).run()
    write(starter, "models/marts/daily_revenue.sql", sql)
    result = Context(starter).run()
    assert statuses(result)["marts.daily_revenue"] == "reused"
    assert Context(starter).current()["marts.daily_revenue"].id == first


def test_full_refresh_rebuilds(starter: Path):
    Context(starter).run()
    result = Context(starter).run(full_refresh=True)
    assert set(statuses(result).values()) == {"built"}


def test_failure_stops_its_branch_and_other_branches_go_on(starter: Path):
    write(starter, "models/marts/orders_by_customer.sql",
          "select customer, count(*) as n from staging.orders group by customer")
    write(starter, "models/marts/broken.sql", "select no_such_column from staging.orders")
    write(starter, "models/marts/after_broken.sql", "select * from marts.broken")
    ctx = Context(starter)
    result = ctx.run()
    st = statuses(result)
    assert not result.ok
    assert st["marts.broken"] == "failed"
    assert st["marts.after_broken"] == "skipped"
    assert st["marts.orders_by_customer"] == "built"
    assert st["marts.daily_revenue"] == "built"
    failed = next(s for s in result.steps if s.product == "marts.broken")
    assert "no_such_column" in failed.error and "models/marts/broken.sql" in failed.error
    assert "marts.broken" not in ctx.current()


def test_pointer_stays_on_previous_version_when_a_rebuild_fails(starter: Path):
    ctx = Context(starter)
    ctx.run()
    before = ctx.current()["marts.daily_revenue"].id
    write(starter, "models/marts/daily_revenue.sql", "select order_date, cast('x' as integer) "
          "as orders, 0 as revenue from staging.orders")
    result = Context(starter).run()
    assert statuses(result)["marts.daily_revenue"] == "failed"
    assert Context(starter).current()["marts.daily_revenue"].id == before


def test_selection_builds_only_what_is_selected(starter: Path):
    ctx = Context(starter)
    result = ctx.run(["+staging.orders"])
    assert set(statuses(result)) == {"raw.orders", "staging.orders"}
    # a mart whose input is missing from the env is blocked with a reason, not crashed
    write(starter, "models/marts/extra.sql", "select 1 as one from raw.orders")
    result = Context(starter).run(["marts.daily_revenue"])
    assert statuses(result)["marts.daily_revenue"] == "built"


def test_python_product_and_python_source(starter: Path):
    write(starter, "sources/gen.yml", """\
        sources:
          raw.numbers:
            kind: python
            callable: gen.py:numbers
            params: {n: 5}
            description: Generated numbers
        """)
    write(starter, "gen.py", """\
        import pyarrow as pa

        def numbers(n):
            return pa.table({"n": list(range(n))})
        """)
    write(starter, "models/marts/squares.py", """\
        import pyarrow.compute as pc
        from steward import product

        @product(description="Squares", owner="ds@example.com")
        def squares(raw__numbers):
            return raw__numbers.append_column("sq", pc.multiply(raw__numbers["n"],
                                                                raw__numbers["n"]))
        """)
    write(starter, "models/marts/orders_pd.py", """\
        from steward import product

        @product(inputs_as="pandas", inputs={"orders": "staging.orders"})
        def orders_pd(orders):
            return orders.groupby("customer", as_index=False)["amount"].sum()
        """)
    ctx = Context(starter)
    assert ctx.run().ok
    assert ctx.sql("select sum(sq) from marts.squares").column(0).to_pylist() == [30]
    assert ctx.sql("select count(*) from orders_pd").column(0).to_pylist() == [3]


def test_python_product_error_names_file_and_line(starter: Path):
    write(starter, "models/marts/bad.py", """\
        from steward import product

        @product()
        def bad(staging__orders):
            x = 1
            return staging__orders.column("nope")
        """)
    result = Context(starter).run()
    step = next(s for s in result.steps if s.product == "marts.bad")
    assert step.status == "failed"
    assert "models/marts/bad.py:6" in step.error and "KeyError" in step.error


@pytest.mark.parametrize("fmt", ["parquet", "ndjson", "csv.gz"])
def test_file_formats(starter: Path, fmt: str):
    import duckdb

    out = starter / "data" / f"orders.{fmt}"
    src = starter / "data" / "orders.csv"
    if fmt == "parquet":
        duckdb.sql(f"copy (from read_csv('{src}')) to '{out}' (format parquet)")
    elif fmt == "ndjson":
        duckdb.sql(f"copy (from read_csv('{src}')) to '{out}' (format json)")
    else:
        import gzip
        out.write_bytes(gzip.compress(src.read_bytes()))
    text = (starter / "sources/raw.yml").read_text().replace("data/orders.csv",
                                                             f"data/orders.{fmt}")
    (starter / "sources/raw.yml").write_text(text)
    ctx = Context(starter)
    assert ctx.run().ok
    assert ctx.current()["raw.orders"].row_count == 4


def test_zipped_csv_and_globs(starter: Path):
    import zipfile

    with zipfile.ZipFile(starter / "data" / "orders.csv.zip", "w") as z:
        z.write(starter / "data" / "orders.csv", "orders.csv")
    write(starter, "data/more/a.csv", "order_id,customer,amount,ordered_at\n"
                                      "9,Zed,1.0,2026-02-01 00:00:00\n")
    write(starter, "data/more/b.csv", "order_id,customer,amount,ordered_at\n"
                                      "10,Yan,2.0,2026-02-02 00:00:00\n")
    write(starter, "sources/extra.yml", """\
        sources:
          raw.zipped:
            path: data/orders.csv.zip
          raw.globbed:
            path: data/more/*.csv
        """)
    ctx = Context(starter)
    assert ctx.run().ok
    assert ctx.current()["raw.zipped"].row_count == 4
    assert ctx.current()["raw.globbed"].row_count == 2


def test_a_protected_environment_is_changed_only_by_promote(starter: Path):
    import pytest

    from steward.core.errors import PlanError

    text = (starter / "steward.yaml").read_text().replace(
        "  default: prod\n", "  default: prod\n  protected: [prod]\n")
    (starter / "steward.yaml").write_text(text)
    with pytest.raises(PlanError, match="'prod' is protected"):
        Context(starter).run()
    ctx = Context(starter)
    assert ctx.run(env="dev").ok
    from steward.run.envops import promote

    if not ctx.metastore.env_exists("prod"):
        ctx.metastore.ensure_env("prod")
    promote(ctx, "dev", "prod")
    assert ctx.current("prod")["marts.daily_revenue"].id == \
        ctx.current("dev")["marts.daily_revenue"].id


def test_integer_aggregates_stay_integers(starter):
    write(starter, "models/marts/counts.sql",
          "select count_if(amount > 10) as big, sum(order_id) as ids, count(*) as n,\n"
          "  sum(order_id::hugeint * 9223372036854775807) as huge\n"
          "from staging.orders -- a comment on the last line\n")
    ctx = Context(starter)
    assert ctx.run().ok
    types = {c.name: c.type for c in ctx.current()["marts.counts"].schema}
    assert types == {"big": "BIGINT", "ids": "BIGINT", "n": "BIGINT",
                     "huge": "DECIMAL(38,0)"}
    [row] = ctx.sql("select * from marts.counts").to_pylist()
    assert (row["big"], row["ids"], row["n"]) == (3, 10, 4)
    assert row["huge"] == 10 * 9223372036854775807  # exact, past 2^63


def test_every_function_that_widens_integers_is_described_first():
    """A build skips DuckDB's DESCRIBE only when nothing in the query can make a 128-bit
    integer: every DuckDB function returning one for narrower arguments is caught."""
    import duckdb

    from steward.engine.duckdb_text import may_be_wide

    con = duckdb.connect()
    rows = con.execute("select function_name, parameter_types from duckdb_functions() "
                       "where return_type in ('HUGEINT', 'UHUGEINT')").fetchall()
    widening = {name for name, params in rows if name.isidentifier()
                and not name.startswith("__")
                and not any(p in ("HUGEINT", "UHUGEINT") for p in params)}
    assert {"sum", "count_if", "factorial"} <= widening
    for name in sorted(widening):
        assert may_be_wide(f"select {name.upper()}(a) as x from t"), name
    assert may_be_wide("select 99999999999999999999 as big")
    assert may_be_wide("select a::HUGEINT as a from t")
    assert may_be_wide("select list_aggregate(l, 'sum') as s from t")
    assert not may_be_wide("select id, upper(grp) as grp, amount * 2 as amount from t")


def test_a_projection_is_built_without_describing_it_first(starter):
    write(starter, "models/marts/plain.sql",
          "select order_id, amount * 2 as twice from staging.orders\n")
    ctx = Context(starter)
    assert ctx.run().ok
    types = {c.name: c.type for c in ctx.current()["marts.plain"].schema}
    assert types["order_id"] in ("INTEGER", "BIGINT") and "twice" in types
