"""One conformance suite for every engine: the same test code builds, checks, quarantines,
profiles, diffs and promotes small projects on DuckDB and on Spark (local mode, one
session for the test process), and expects the same results."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest
from ehelpers import use_engine

from steward.context import Context
from steward.core.errors import ConfigError


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


def _data_folders(ctx: Context) -> dict[str, list[str]]:
    return {name: sorted(os.listdir(os.path.join(ctx.store.local(v.path), "data")))
            for name, v in ctx.current().items()}


def test_build_diff_and_environments(starter: Path, engine_type: str) -> None:
    use_engine(starter, engine_type)
    ctx = Context(starter)
    first = ctx.run()
    assert first.ok, [(s.product, s.error) for s in first.steps]
    assert sorted(s.status for s in first.steps) == ["built"] * 3
    # the same layout whichever engine wrote it: Parquet part files and nothing else
    for name, files in _data_folders(ctx).items():
        assert files and all(f.endswith(".parquet") for f in files), (name, files)
    # read back by DuckDB (steward sql), whoever built it
    rows = ctx.sql("select order_date, orders, revenue from marts.daily_revenue "
                   "order by order_date").to_pylist()
    assert [(str(r["order_date"]), r["orders"], r["revenue"]) for r in rows] == [
        ("2026-01-02", 2, 111.5), ("2026-01-03", 1, 5.25), ("2026-01-04", 1, 42.0)]
    schema = {c.name: c.type for c in ctx.current()["marts.daily_revenue"].schema}
    assert schema == {"order_date": "DATE", "orders": "BIGINT", "revenue": "DOUBLE"}
    assert not [s for s in Context(starter).run().steps if s.status == "built"]

    # a change built into dev, compared with prod, then promoted
    sql = starter / "models" / "staging" / "orders.sql"
    sql.write_text(sql.read_text().replace("where amount > 0", "where amount > 10"))
    ctx = Context(starter)
    dev = ctx.run(env="dev")
    assert dev.ok
    assert {s.product for s in dev.steps if s.status == "built"} == {
        "staging.orders", "marts.daily_revenue"}
    from steward.run.envops import diff, promote

    d = diff(ctx, "staging.orders", "prod", "dev")
    assert (d.mode, d.rows_a, d.rows_b, d.removed, d.added, d.changed) == (
        "keyed", 4, 3, 1, 0, 0)
    d = diff(ctx, "marts.daily_revenue", "prod", "dev")
    assert (d.removed, d.changed, d.unchanged) == (1, 0, 2)
    d = diff(ctx, "raw.orders", "prod", "dev")  # no primary key: whole rows compared
    assert (d.mode, d.added, d.removed, d.unchanged) == ("full-row", 0, 0, 4)
    moved = promote(ctx, "dev", "prod")
    assert set(moved.moves) >= {"staging.orders", "marts.daily_revenue"}
    assert Context(starter).sql("select count(*) as n from staging.orders").to_pylist() == [
        {"n": 3}]


QUALITY = {
    "steward.yaml": "name: qtest\n",
    "data/orders.csv": """\
        order_id,customer,amount,status,email,ordered_at
        1,Ada,12.50,paid,ada@example.com,2026-01-02 10:00:00
        2,Grace,99.00,paid,grace@example.com,2026-01-02 11:30:00
        3,Ada,5.25,refunded,ada@example.com,2026-01-03 09:15:00
        4,Linus,42.00,paid,linus-at-example,2026-01-04 16:45:00
        5,,-3.00,lost,,2026-01-05 08:00:00
        """,
    "data/customers.csv": "name,country\nAda,UK\nGrace,US\nLinus,FI\n",
    "sources/raw.yml": """\
        sources:
          raw.orders: {path: data/orders.csv, owner: shop@example.com}
          raw.customers: {path: data/customers.csv, owner: crm@example.com}
        """,
    "models/staging/orders.sql": "select * from raw.orders\n",
    "models/staging/orders.yml": """\
        owner: data@example.com
        on_fail: quarantine_rows
        columns:
          order_id:
            checks: [not_null, unique]
          customer:
            checks:
              - not_null: {severity: warn}
              - relationships: {to: raw.customers, field: name}
          amount:
            checks:
              - range: {min: 0}
              - mean: {min: 10, max: 100, severity: warn}
          status:
            checks:
              - accepted_values: {values: [paid, refunded]}
          email:
            checks:
              - regex: {pattern: '^[^@]+@[^@]+$', severity: warn}
        checks:
          - row_count: {min: 1}
          - sql:
              query: select * from {{ this }} where amount > 1000
        """,
}


def test_checks_and_quarantine(tmp_path: Path, engine_type: str) -> None:
    root = tmp_path / "q"
    _write(root, QUALITY)
    use_engine(root, engine_type)
    ctx = Context(root)
    result = ctx.run()
    step = {s.product: s for s in result.steps}["staging.orders"]
    assert step.status == "built", step.error
    report = ctx.check_results("staging.orders")
    got = {r.name: (r.status, r.failures) for r in report.results}
    assert got == {
        "not_null_order_id": ("pass", 0), "unique_order_id": ("pass", 0),
        "not_null_customer": ("pass", 0), "relationships_customer": ("pass", 0),
        "range_amount": ("fail", 1), "mean_amount": ("pass", 0),
        "accepted_values_status": ("fail", 1), "regex_email": ("fail", 1),
        "row_count": ("pass", 0), "sql": ("pass", 0), "contract": ("pass", 0),
    }, got
    # the failing row (order 5) was set aside, the rest published
    assert ctx.current()["staging.orders"].row_count == 4
    q = ctx.quarantine("staging.orders")
    assert q is not None
    import pyarrow.parquet as pq

    bad = pq.read_table(q).to_pylist()
    assert [r["order_id"] for r in bad] == [5]
    assert set(bad[0]["_failed_checks"].split(", ")) == {"range_amount",
                                                         "accepted_values_status"}


def test_a_contract_is_checked_alike(tmp_path: Path, engine_type: str) -> None:
    root = tmp_path / "c"
    files = dict(QUALITY)
    files["models/staging/orders.yml"] = """\
        owner: data@example.com
        contract: strict
        columns:
          order_id: {type: INTEGER, nullable: false}
          customer: {type: VARCHAR}
          amount: {type: INTEGER}
          status: {type: VARCHAR}
          email: {type: VARCHAR}
        """
    files["models/staging/orders.sql"] = ("select order_id, customer, amount, status, email "
                                          "from raw.orders\n")
    _write(root, files)
    use_engine(root, engine_type)
    result = Context(root).run()
    step = {s.product: s for s in result.steps}["staging.orders"]
    assert step.status == "failed"
    assert "'order_id' is BIGINT, declared INTEGER" in step.error
    assert "'amount' is DOUBLE, declared INTEGER" in step.error


def test_profiles_are_computed_alike(tmp_path: Path, engine_type: str) -> None:
    """The engine path of profiles (what versions too large to profile in process take)
    gives the same exact statistics on every engine."""
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from steward.engine import open_engine
    from steward.profile.compute import compute_profile
    from steward.project.loader import load_project

    n = 2000
    table = pa.table({
        "id": list(range(n)),
        "x": [float(i % 97) / 3 if i % 50 else None for i in range(n)],
        "city": [["Oslo", "Rome", "Lima", "Kyiv"][i % 4] if i % 7 else None for i in range(n)],
        "flag": [i % 3 == 0 for i in range(n)],
        "day": [dt.date(2026, 1, 1) + dt.timedelta(days=i % 400) for i in range(n)],
        "at": [dt.datetime(2026, 1, 1) + dt.timedelta(minutes=37 * i) for i in range(n)],
    })
    path = str(tmp_path / "t.parquet")
    pq.write_table(table, path)
    root = tmp_path / "p"
    _write(root, {"steward.yaml": "name: p\n"})
    use_engine(root, engine_type)
    engine = open_engine(load_project(str(root)).spec.engine, str(root))
    got = compute_profile(engine, [path], method="duckdb")
    ref = compute_profile(_duckdb(root), [path], method="duckdb")
    assert got["rows"] == ref["rows"] == n
    for col in table.column_names:
        a, b = got["columns"][col], ref["columns"][col]
        for key in ("kind", "count", "nulls", "distinct", "min", "max", "top", "histogram",
                    "zeros", "negatives", "empty", "length", "exact"):
            assert _close(a.get(key), b.get(key)), (col, key, a.get(key), b.get(key))
        for key in ("mean", "std"):
            assert _close(a.get(key), b.get(key), 1e-9), (col, key)
        # approximate quantiles: another sketch, the same neighbourhood
        if b.get("quantiles"):
            span = (b["max"] - b["min"]) or 1
            for qa, qb in zip(a["quantiles"], b["quantiles"], strict=True):
                assert abs(qa - qb) <= 0.05 * span, (col, a["quantiles"], b["quantiles"])


def _duckdb(root: Path):
    from steward.core.spec import EngineSpec
    from steward.engine.duckdb import DuckDBEngine

    return DuckDBEngine(EngineSpec(), str(root))


def _close(a, b, rel: float = 0.0) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k], rel) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_close(x, y, rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return abs(float(a) - float(b)) <= rel * max(abs(float(a)), abs(float(b)), 1.0)
    return bool(a == b)


def test_switching_engines_rebuilds_nothing_unchanged(starter: Path, spark_session) -> None:
    use_engine(starter, "duckdb")
    before = Context(starter).run()
    assert before.ok
    use_engine(starter, "spark")
    ctx = Context(starter)
    after = ctx.run()
    assert not [s for s in after.steps if s.status == "built"]
    # and a product changed afterwards is built by Spark on DuckDB's versions
    sql = starter / "models" / "marts" / "daily_revenue.sql"
    sql.write_text(sql.read_text().replace("order by order_date", "order by order_date desc"))
    ctx = Context(starter)
    again = ctx.run()
    assert [s.product for s in again.steps if s.status == "built"] == ["marts.daily_revenue"]
    assert ctx.sql("select sum(orders) as n from marts.daily_revenue").to_pylist() == [
        {"n": 4}]
    assert _data_folders(ctx)["marts.daily_revenue"][0].startswith("part-00000")


def test_spark_refuses_at_load_what_it_cannot_run(starter: Path) -> None:
    sql = starter / "models" / "marts" / "daily_revenue.sql"
    sql.write_text("select order_date,\n  cast(count(*) as UHUGEINT) as orders,\n"
                   "  sum(amount) as revenue\nfrom staging.orders\ngroup by order_date\n")
    Context(starter).project  # noqa: B018  (DuckDB runs it: no complaint)
    use_engine(starter, "spark")
    with pytest.raises(ConfigError) as e:
        Context(starter).project  # noqa: B018
    text = e.value.render()
    assert "models/marts/daily_revenue.sql:2:" in text
    assert "marts.daily_revenue" in text and "UHUGEINT exists in DuckDB only" in text


SPARK_PRODUCT = '''\
from steward import product


@product(owner="data@example.com", inputs_as="spark")
def big_orders(staging__orders):
    return staging__orders.where("amount > 20").select("order_id", "amount")
'''


def test_python_products_on_spark_may_ask_for_spark_dataframes(starter: Path,
                                                               engine_type: str) -> None:
    _write(starter, {"models/marts/big_orders.py": SPARK_PRODUCT})
    use_engine(starter, engine_type)
    ctx = Context(starter)
    step = {s.product: s for s in ctx.run().steps}["marts.big_orders"]
    if engine_type == "duckdb":
        assert step.status == "failed"
        assert "inputs_as: spark needs the Spark engine" in step.error
        return
    assert step.status == "built", step.error
    got = ctx.sql("select order_id, amount from marts.big_orders order by 1").to_pylist()
    assert got == [{"order_id": 2, "amount": 99.0}, {"order_id": 4, "amount": 42.0}]


def _file_sources(root: Path) -> None:
    import gzip

    import duckdb

    _write(root, {
        "steward.yaml": "name: files\ndefaults:\n  owner: data@example.com\n",
        "data/events.csv": (
            'id,name,amount,day,at,ok,note\n'
            '1,"Ada, Countess",12.5,2026-01-02,2026-01-02 10:00:00,true,plain\n'
            '2,"say ""hi""",99,2026-01-03,2026-01-03 11:30:15.25,false,\n'
            '3,"two\nlines",-3.75,,2026-01-04 00:00:00,,x\n'
            '4,,0.5,2026-01-05,,true,"a;b"\n'),
        "data/eu.csv": "code;when;qty\nA;02/01/2026;1\nB;13/01/2026;22\nC;31/12/2025;\n",
        "data/items.ndjson": (
            '{"k": 1, "tags": ["a", "b"], "at": "2026-01-02 10:00:00", '
            '"dim": {"w": 1.5, "unit": "cm"}}\n'
            '{"k": 2, "tags": [], "at": "2026-01-03 12:00:00", "dim": {"w": 2.0, "unit": "m"}}\n'
            '{"k": 3, "tags": null, "at": null, "dim": null}\n'),
        "data/list.json": '[{"a": 1, "b": "x", "d": "2026-02-01"}, {"a": 2, "b": null, '
                          '"d": "2026-02-02"}]\n',
        "data/bad.csv": "id,v\n1,2\n2,3,4\n3,4\n",
        "data/zoned.csv": "k,t\n1,2013-01-01T06:00:00Z\n2,2013-01-01T07:30:00Z\n",
        "sources/raw.yml": """\
            sources:
              raw.events:
                path: data/events.csv
                columns: {amount: {type: 'DECIMAL(12,2)'}}
              raw.eu: {path: data/eu.csv}
              raw.gz: {path: data/gz.csv.gz}
              raw.items: {path: data/items.ndjson}
              raw.list: {path: data/list.json}
              raw.prices:
                path: data/prices.parquet
                columns: {price: {type: 'DECIMAL(10,2)'}}
              raw.kept: {path: data/bad.csv, on_error: quarantine}
              raw.zoned: {path: data/zoned.csv, columns: {t: {type: TIMESTAMP}}}
            """,
        "models/events_by_day.sql": (
            "select day, count(*) as n, cast(sum(amount) as decimal(18, 2)) as amount\n"
            "from raw.events group by day\n"),
    })
    text = "x,y\n" + "".join(f"{i},{i * 0.5}\n" for i in range(2000))
    with gzip.GzipFile(root / "data" / "gz.csv.gz", "wb", mtime=0) as f:  # the same bytes
        f.write(text.encode())
    duckdb.sql(f"COPY (SELECT range AS id, range * 1.25 AS price, 'p' || range AS label, "
               f"TIMESTAMP '2026-01-01' + INTERVAL (range) HOUR AS at FROM range(50)) "
               f"TO '{root / 'data' / 'prices.parquet'}' (FORMAT parquet)")


SPARK_READS = ["raw.events", "raw.eu", "raw.gz", "raw.items", "raw.list", "raw.prices",
               "raw.zoned"]


def test_file_sources_are_read_by_spark_alike(tmp_path: Path, spark_session) -> None:
    built: dict[str, Context] = {}
    for engine in ("duckdb", "spark"):
        root = tmp_path / engine
        _file_sources(root)
        use_engine(root, engine)
        ctx = Context(root)
        result = ctx.run()
        assert result.ok, [(s.product, s.error) for s in result.steps]
        built[engine] = ctx
    duck, spark = built["duckdb"], built["spark"]
    folders = _data_folders(spark)
    for name in SPARK_READS:  # Spark wrote them (its part files), not DuckDB
        assert folders[name][0] == "part-00000.parquet", (name, folders[name])
    assert folders["raw.kept"] == ["part-0.parquet"]  # quarantine: read by DuckDB, said so
    steps = {s.product: s for s in spark.run().steps}
    assert not [s for s in steps.values() if s.status == "built"]
    a, b = duck.current(), spark.current()
    for name in [*SPARK_READS, "raw.kept", "events_by_day"]:
        assert a[name].fingerprint == b[name].fingerprint, name
        assert a[name].schema == b[name].schema, (name, a[name].schema, b[name].schema)
        assert a[name].row_count == b[name].row_count, name
        query = f"select * from {name} order by all"
        assert duck.sql(query).to_pylist() == spark.sql(query).to_pylist(), name
    assert {c.name: c.type for c in b["raw.events"].schema} == {
        "id": "BIGINT", "name": "VARCHAR", "amount": "DECIMAL(12,2)", "day": "DATE",
        "at": "TIMESTAMP", "ok": "BOOLEAN", "note": "VARCHAR"}
    assert spark.sql("select name from raw.events where id = 3").to_pylist() == [
        {"name": "two\nlines"}]
    assert b["raw.kept"].row_count == 2


def test_a_bad_value_in_a_file_source_fails_alike(tmp_path: Path, engine_type: str) -> None:
    _write(tmp_path, {
        "steward.yaml": "name: bad\ndefaults:\n  owner: data@example.com\n",
        "data/n.csv": "id,v\n1,10\n2,20\n3,x7\n4,40\n",
        "data/n.ndjson": '{"id": 1, "v": "10"}\n{"id": 2, "v": "x7"}\n',
        "sources/raw.yml": """\
            sources:
              raw.n: {path: data/n.csv, columns: {v: {type: INTEGER}}}
              raw.j: {path: data/n.ndjson, columns: {v: {type: INTEGER}}}
            """,
    })
    use_engine(tmp_path, engine_type)
    ctx = Context(tmp_path)
    steps = {s.product: s for s in ctx.run().steps}
    assert steps["raw.n"].status == "failed"
    # the file and line, as DuckDB says it (Spark's reader cannot tell the line)
    assert "data/n.csv:4: " in steps["raw.n"].error and '"x7"' in steps["raw.n"].error, \
        steps["raw.n"].error
    assert steps["raw.j"].status == "failed"
    assert "x7" in steps["raw.j"].error, steps["raw.j"].error
    assert ctx.current() == {}


def test_star_exclude_runs_alike(tmp_path: Path, engine_type: str) -> None:
    """DuckDB's ``* EXCLUDE (...)`` is Spark's ``* EXCEPT (...)`` (sqlglot writes it so)."""
    _write(tmp_path, {
        "steward.yaml": "name: ex\ndefaults:\n  owner: data@example.com\n",
        "data/t.csv": "id,secret,note,Mixed Case\n1,s1,a,x\n2,s2,b,y\n",
        "sources/raw.yml": "sources:\n  raw.t: {path: data/t.csv}\n",
        "models/m/slim.sql": "select * exclude (secret, \"Mixed Case\") from raw.t\n",
        "models/m/joined.sql": ("select a.* exclude (note), b.note as other\n"
                                "from m.slim as a join m.slim as b on a.id = b.id\n"),
    })
    use_engine(tmp_path, engine_type)
    ctx = Context(tmp_path)
    result = ctx.run()
    assert result.ok, [(s.product, s.error) for s in result.steps]
    current = ctx.current()
    assert [c.name for c in current["m.slim"].schema] == ["id", "note"]
    assert [c.name for c in current["m.joined"].schema] == ["id", "other"]
    assert ctx.sql("select * from m.joined order by id").to_pylist() == [
        {"id": 1, "other": "a"}, {"id": 2, "other": "b"}]


def test_star_replace_is_refused_at_load_on_spark(starter: Path) -> None:
    sql = starter / "models" / "marts" / "daily_revenue.sql"
    sql.write_text("select * exclude (orders),\n  orders\nfrom (\n  select order_date,\n"
                   "  count(*) as orders, sum(amount) as revenue from staging.orders\n"
                   "  group by order_date)\n")
    use_engine(starter, "spark")
    Context(starter).project  # noqa: B018  (EXCLUDE: Spark's EXCEPT)
    sql.write_text("select * replace (\n  orders * 2 as orders)\nfrom (\n  select order_date,"
                   "\n  count(*) as orders from staging.orders group by order_date)\n")
    with pytest.raises(ConfigError) as e:
        Context(starter).project  # noqa: B018
    text = e.value.render()
    assert "models/marts/daily_revenue.sql:2:" in text, text
    assert "* REPLACE (...) is DuckDB only" in text
