"""Every mistake in a project is reported with its file and line, all at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.core.errors import ConfigError
from steward.project.loader import load_project
from tests.conftest import write


def problems(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load_project(str(root))
    return [p.render() for p in e.value.problems]


def test_starter_project_loads(starter: Path):
    project = load_project(str(starter))
    assert set(project.products) == {"raw.orders", "staging.orders", "marts.daily_revenue"}
    assert project["marts.daily_revenue"].inputs == ("staging.orders",)
    assert project["staging.orders"].outputs == ("order_id", "customer", "amount", "order_date")


def test_typo_in_steward_yaml_names_file_line_and_suggests(starter: Path):
    write(starter, "steward.yaml", """\
        name: starter
        environments:
          defualt: prod
        """)
    [msg] = problems(starter)
    assert msg.startswith("steward.yaml:3: unknown key 'defualt'")
    assert "did you mean 'default'?" in msg


def test_unknown_product_reference_points_at_the_sql_line(starter: Path):
    write(starter, "models/marts/daily_revenue.sql", """\
        select order_date, count(*) as orders, sum(amount) as revenue
        from staging.order
        group by order_date
        """)
    [msg] = problems(starter)
    assert msg.startswith("models/marts/daily_revenue.sql:2:")
    assert "unknown product 'staging.order'" in msg and "staging.orders" in msg


def test_sql_syntax_error_has_a_line(starter: Path):
    write(starter, "models/marts/daily_revenue.sql", "select order_date,\nfrom where (\n")
    [msg] = problems(starter)
    assert msg.startswith("models/marts/daily_revenue.sql:2: SQL syntax error")


def test_cycle_is_reported(starter: Path):
    write(starter, "models/staging/orders.sql", "select * from marts.daily_revenue\n")
    write(starter, "models/staging/orders.yml", "description: loops\n")
    msgs = problems(starter)
    assert any("dependency cycle" in m and "staging.orders" in m for m in msgs)


def test_duplicate_product_name(starter: Path):
    write(starter, "sources/more.yml", """\
        sources:
          staging.orders:
            path: data/orders.csv
        """)
    msgs = problems(starter)
    assert any("duplicate product name 'staging.orders'" in m for m in msgs)


def test_all_mistakes_at_once(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        description: Orders
        ownr: someone
        columns:
          order_id: {checks: [not_nul]}
        """)
    write(starter, "models/marts/daily_revenue.sql", "select * from staging.nope\n")
    msgs = problems(starter)
    assert len(msgs) >= 3
    joined = "\n".join(msgs)
    assert "models/staging/orders.yml:2: unknown key 'ownr'" in joined
    assert "models/staging/orders.yml:4:" in joined and "not_nul" in joined
    assert "models/marts/daily_revenue.sql:1:" in joined


def test_check_on_a_missing_column_is_a_load_error(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        description: Orders
        checks:
          - not_null: {column: amount_eur}
        """)
    [msg] = problems(starter)
    assert "names column 'amount_eur'" in msg and "did you mean 'amount'" in msg


def test_regex_that_does_not_compile(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        columns:
          customer:
            checks:
              - regex: {pattern: "([a-z"}
        """)
    [msg] = problems(starter)
    assert msg.startswith("models/staging/orders.yml:4:") and "regex does not compile" in msg


def test_missing_source_file(starter: Path):
    (starter / "data" / "orders.csv").unlink()
    [msg] = problems(starter)
    assert msg.startswith("sources/raw.yml:3:") and "no file matches 'data/orders.csv'" in msg


def test_invalid_yaml_and_duplicate_keys(starter: Path):
    write(starter, "models/staging/orders.yml", "description: a\ndescription: b\n")
    [msg] = problems(starter)
    assert msg.startswith("models/staging/orders.yml:2: duplicate key 'description'")
    write(starter, "models/staging/orders.yml", "columns: [a\nowner: x\n")
    [msg] = problems(starter)
    assert "invalid YAML" in msg


def test_python_product_is_read_without_running_it(starter: Path):
    write(starter, "models/marts/big_orders.py", """\
        import this_module_does_not_exist  # never imported at load time
        from steward import product

        @product(owner="ds@example.com", description="Orders above 10 EUR")
        def big_orders(staging__orders):
            \"\"\"docstring does not count\"\"\"
            return staging__orders.filter(staging__orders["amount"] > 10)
        """)
    project = load_project(str(starter))
    p = project["marts.big_orders"]
    assert p.kind == "python" and p.inputs == ("staging.orders",)
    assert dict(p.params) == {"staging__orders": "staging.orders"}
    assert p.spec.owner == "ds@example.com"


def test_unchanged_project_loads_from_cache_and_edits_invalidate_it(starter: Path):
    first = load_project(str(starter))
    assert (starter / ".steward/cache/project.msgpack").exists()
    again = load_project(str(starter))
    assert again.products.keys() == first.products.keys()
    assert again.source_hashes == first.source_hashes
    write(starter, "models/staging/orders.yml", "description: edited\nowner: new@example.com\n")
    assert load_project(str(starter))["staging.orders"].owner == "new@example.com"
    with open(starter / "data" / "orders.csv", "a") as f:
        f.write("9,Zoe,1.0,2026-01-09 00:00:00\n")
    assert load_project(str(starter)).source_hashes["raw.orders"] != \
        first.source_hashes["raw.orders"]
    (starter / "data" / "orders.csv").unlink()
    [msg] = problems(starter)  # a vanished source is reported in place, cache or not
    assert msg.startswith("sources/raw.yml:3:")
