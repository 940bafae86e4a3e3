"""Database sources against a real PostgreSQL: read into Arrow, fingerprinted by their
data (a change signal or a content hash), read incrementally past a watermark, and
every way the database can go wrong said once, with nothing published lost."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from steward.context import Context
from steward.core.errors import ConfigError
from steward.project.loader import load_project
from tests.conftest import published_state as _state
from tests.conftest import steward, write

PW_VAR = "STEWARD_TEST_SRC_PW"


@pytest.fixture
def shop(pg: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """A source database with an orders table, and a project reading it."""
    db = pg.create_database("shop")
    url = pg.url(db, "postgresql")
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("CREATE TABLE orders (id integer PRIMARY KEY, amount numeric(10,2), "
                    "customer text, updated_at timestamptz NOT NULL)")
        con.execute("INSERT INTO orders VALUES (1, 12.50, 'Ada', '2026-01-02 10:00+00'), "
                    "(2, 99.00, 'Grace', '2026-01-02 11:30+00')")
    monkeypatch.setenv(PW_VAR, url.split(":")[2].split("@")[0])
    root = tmp_path / "proj"
    write(root, "steward.yaml", "name: shop\nenvironments:\n  default: prod\n")
    templated = url.replace(url.split(":")[2].split("@")[0], "${" + PW_VAR + "}")
    write(root, "sources/db.yml", f"""\
        sources:
          raw.orders:
            connection: {templated}
            table: orders
            watermark: id
            change_signal: select max(updated_at), count(*) from orders
            columns:
              id: {{type: INTEGER, nullable: false}}
              customer: {{classification: pii}}
          raw.customers:
            connection: {templated}
            query: select distinct customer from orders
            columns:
              customer: {{classification: pii}}
        """)
    write(root, "models/marts/totals.sql",
          "select count(*) as n, sum(amount) as total from raw.orders\n")
    return {"root": root, "url": url, "password": url.split(":")[2].split("@")[0]}


def published_state(root: Path) -> Any:
    """Pointers, published versions and store files (a failed read adds a failed row)."""
    pointers, versions, files = _state(root)
    return pointers, [v for v in versions if v[1] == "published"], files


def sql(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as con:
        for s in statements:
            con.execute(s)


def statuses(result: Any) -> dict[str, str]:
    assert all(s.status != "failed" for s in result.steps), [s.error for s in result.steps]
    return {s.product: s.status for s in result.steps}


def reads(ctx: Context) -> list[tuple[Any, ...]]:
    with ctx.metastore.sa_engine.connect() as c:
        return [tuple(r) for r in c.exec_driver_sql(
            "SELECT product, signal, watermark, rows_read FROM source_reads ORDER BY read_at")]


def test_read_kept_while_unchanged_and_read_incrementally(shop: dict[str, Any]):
    root = shop["root"]
    ctx = Context(root)
    r = ctx.run()
    assert r.ok, [(s.product, s.status, s.error) for s in r.steps]
    assert statuses(r) == {"raw.orders": "built", "raw.customers": "built",
                                    "marts.totals": "built"}
    rows = Context(root).sql("select n, total from marts.totals").to_pylist()
    assert rows == [{"n": 2, "total": pytest.approx(111.5)}]
    # the numeric column arrives as a decimal of its declared precision
    schema = {c.name: c.type for c in Context(root).current()["raw.orders"].schema}
    assert schema["amount"] == "DECIMAL(10,2)" and schema["updated_at"].startswith("TIMESTAMP")
    # unchanged: the change signal says so, nothing is read, nothing rebuilt
    r = Context(root).run()
    assert statuses(r) == {"raw.orders": "kept", "raw.customers": "kept",
                           "marts.totals": "kept"}
    assert r.notes["raw.orders"] == [
        "not read: its change signal or watermark says nothing changed"]
    assert r.notes["raw.customers"] == ["read again: its data is unchanged"]
    orders_reads = [x for x in reads(Context(root)) if x[0] == "raw.orders"]
    assert len(orders_reads) == 1 and orders_reads[0][2] == "2"
    assert len(reads(Context(root))) == 2  # customers: read again, the same content
    # a new order: only the row past the watermark is read, appended to the others
    sql(shop["url"], "INSERT INTO orders VALUES (3, 5.25, 'Ada', '2026-01-03 09:15+00')")
    r = Context(root).run()
    assert statuses(r)["raw.orders"] == "built" and statuses(r)["marts.totals"] == "built"
    assert statuses(r)["raw.customers"] == "kept"  # the same customers: the same data
    last = [x for x in reads(Context(root)) if x[0] == "raw.orders"][-1]
    assert last[2:] == ("3", 1)
    rows = Context(root).sql("select n, total from marts.totals").to_pylist()
    assert rows == [{"n": 3, "total": pytest.approx(116.75)}]
    assert Context(root).sql("select count(distinct id) as n from raw.orders").to_pylist() \
        == [{"n": 3}]
    # --full-refresh reads everything again, whatever the signal and the watermark say
    r = Context(root).run(full_refresh=True)
    assert r.ok
    last = [x for x in reads(Context(root)) if x[0] == "raw.orders"][-1]
    assert last[2:] == ("3", 3)


def test_content_hash_decides_without_a_signal(shop: dict[str, Any]):
    root = shop["root"]
    assert Context(root).run().ok
    # a row rewritten with the same values: the same content, nothing rebuilt
    sql(shop["url"], "UPDATE orders SET customer = 'Ada' WHERE id = 1")
    assert statuses(Context(root).run())["raw.customers"] == "kept"
    sql(shop["url"], "UPDATE orders SET customer = 'Linus' WHERE id = 1")
    r = Context(root).run()
    assert statuses(r)["raw.customers"] == "built"
    assert sorted(x["customer"] for x in Context(root).sql(
        "select customer from raw.customers").to_pylist()) == ["Grace", "Linus"]


def test_the_password_stays_out_of_the_metastore(shop: dict[str, Any]):
    root = shop["root"]
    ctx = Context(root)
    assert ctx.run().ok
    with ctx.metastore.sa_engine.connect() as c:
        specs = [r[0] for r in c.exec_driver_sql("SELECT spec_json FROM products")]
        specs += [r[0] for r in c.exec_driver_sql("SELECT spec_json FROM env_specs")]
    assert specs and all(shop["password"] not in s for s in specs)
    assert any("${" + PW_VAR + "}" in s for s in specs)


def test_wrong_credentials_and_an_unreachable_server(shop: dict[str, Any],
                                                     monkeypatch: pytest.MonkeyPatch):
    root = shop["root"]
    assert Context(root).run().ok
    sql(shop["url"], "INSERT INTO orders VALUES (3, 5.25, 'Ada', '2026-01-03 09:15+00')")
    before = published_state(root)
    code, out, err = steward(root, "run", env={PW_VAR: "not-the-password"})
    text = out + err
    assert code != 0 and "Traceback" not in text
    assert "sources/db.yml:2: source raw.orders: cannot connect to" in text
    assert "password authentication failed" in text and "check the user and password" in text
    assert "not-the-password" not in text and shop["password"] not in text
    assert published_state(root) == before
    # a server that is not there
    db = write(root, "sources/db.yml", (root / "sources/db.yml").read_text()
               .replace(shop["url"].split("@")[1].split("/")[0], "127.0.0.1:1"))
    assert db.exists()
    code, out, err = steward(root, "run")
    text = out + err
    assert code != 0 and "Traceback" not in text
    assert "cannot connect to postgresql://steward:***@127.0.0.1:1/" in text
    assert "check the host, port and database" in text
    assert published_state(root) == before


def test_a_dropped_table_and_changed_columns(shop: dict[str, Any]):
    root = shop["root"]
    assert Context(root).run().ok
    before = published_state(root)
    # a column added: the rows past the watermark no longer fit the old ones: read in full
    sql(shop["url"], "ALTER TABLE orders ADD COLUMN channel text DEFAULT 'web'",
        "INSERT INTO orders VALUES (3, 5.25, 'Ada', '2026-01-03 09:15+00', 'shop')")
    r = Context(root).run()
    assert r.ok and statuses(r)["raw.orders"] == "built"
    assert any("read in full" in n for n in r.notes.get("raw.orders", []))
    assert Context(root).sql("select channel, count(*) as n from raw.orders group by 1 "
                             "order by 1").to_pylist() == [{"channel": "shop", "n": 1},
                                                           {"channel": "web", "n": 2}]
    before = published_state(root)
    # the watermark column renamed away (while the change signal stays, nothing is read)
    sql(shop["url"], "ALTER TABLE orders RENAME COLUMN id TO order_id")
    assert statuses(Context(root).run())["raw.orders"] == "kept"
    sql(shop["url"], "INSERT INTO orders VALUES (4, 1, 'Ada', '2026-01-04 09:00+00', 'web')")
    code, out, err = steward(root, "run")
    text = out + err
    assert code != 0 and "Traceback" not in text
    assert "no longer has a column" in text and "id" in text
    assert published_state(root) == before
    # the table dropped
    sql(shop["url"], "DROP TABLE orders")
    code, out, err = steward(root, "run")
    text = out + err
    assert code != 0 and "Traceback" not in text
    assert "source raw.orders: the table orders does not exist in postgresql://steward:***@" \
        in text
    assert "published versions are untouched" in text
    assert published_state(root) == before
    assert Context(root).sql("select count(*) as n from raw.orders").to_pylist() == [{"n": 3}]


def test_declaration_mistakes_are_located(shop: dict[str, Any],
                                          monkeypatch: pytest.MonkeyPatch):
    root = shop["root"]
    text = (root / "sources/db.yml").read_text()
    monkeypatch.delenv(PW_VAR)
    with pytest.raises(ConfigError) as e:
        load_project(str(root))
    assert f"sources/db.yml:3: the environment variable {PW_VAR} is not set" in str(e.value)
    monkeypatch.setenv(PW_VAR, "x")
    write(root, "sources/db.yml", text.replace("    table: orders\n",
                                               "    table: orders\n    query: select 1\n"))
    with pytest.raises(ConfigError) as e:
        load_project(str(root))
    assert "sources/db.yml:2" in str(e.value) and "either 'table' or 'query'" in str(e.value)
    write(root, "sources/db.yml", text.replace("connection: postgresql://",
                                               "connection: mysql://"))
    with pytest.raises(ConfigError) as e:
        load_project(str(root))
    assert "sources/db.yml:3" in str(e.value) and "reads PostgreSQL" in str(e.value)
