"""Jinja macros in a project's macros/ folder: models and custom SQL checks render them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from steward.context import Context
from steward.core.errors import ConfigError
from steward.project.loader import load_project
from tests.run.test_noop_fastpath import steward_run


def _bump(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000))


def project(root: Path) -> Path:
    (root / "data").mkdir(parents=True)
    (root / "models" / "marts").mkdir(parents=True)
    (root / "models" / "staging").mkdir(parents=True)
    (root / "sources").mkdir()
    (root / "macros").mkdir()
    (root / "steward.yaml").write_text("name: mac\nvars:\n  min_amount: 5\n")
    (root / "data" / "orders.csv").write_text("id,amount\n1,3\n2,10\n3,20\n")
    (root / "sources" / "raw.yml").write_text(
        "sources:\n  raw.shop_orders:\n    path: data/orders.csv\n")
    (root / "macros" / "money.sql").write_text(
        "{% macro cents(col) %}({{ col }} * 100){% endmacro %}\n"
        "\n"
        "{% macro big(col) -%}\n"
        "  {{ col }} >= {{ var('min_amount') }}\n"
        "{%- endmacro %}\n")
    (root / "models" / "staging" / "orders.sql").write_text(
        "select id, {{ cents('amount') }} as cents\nfrom raw.shop_orders\n"
        "where {{ big('amount') }}\n")
    (root / "models" / "staging" / "orders.yml").write_text(
        "checks:\n  - sql: \"select * from {{ this }} where {{ cents('0') }} > cents\"\n")
    (root / "models" / "marts" / "total.sql").write_text(
        "select sum(cents) as cents from {{ ref('orders') }}\n")
    (root / "models" / "marts" / "plain.sql").write_text("select 1 as one\n")
    return root


def test_models_and_checks_render_macros_and_dependencies_come_from_the_sql(
        tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    p = load_project(str(root))
    orders = p.products["staging.orders"]
    assert "(amount * 100) as cents" in orders.code
    assert "amount >= 5" in orders.code
    assert orders.inputs == ("raw.shop_orders",)
    assert p.products["marts.total"].inputs == ("staging.orders",)
    # the check's query was rendered, {{ this }} kept for the check
    assert "(0 * 100) > cents" in orders.spec_json
    ctx = Context(root)
    result = ctx.run()
    assert result.ok
    rows = ctx.sql("select * from marts.total").to_pylist()
    assert rows == [{"cents": 3000}]


def test_a_macro_edit_rerenders_every_model_using_it(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    first = load_project(str(root))
    macro = root / "macros" / "money.sql"
    macro.write_text(macro.read_text().replace("* 100", "* 1000"))
    _bump(macro)
    second = load_project(str(root))  # through the caches of the first load
    assert "(amount * 1000) as cents" in second.products["staging.orders"].code
    assert second.products["staging.orders"].code_fp != first.products["staging.orders"].code_fp
    assert second.products["marts.plain"].code_fp == first.products["marts.plain"].code_fp
    # a var changed in steward.yaml renders again too
    (root / "steward.yaml").write_text("name: mac\nvars:\n  min_amount: 15\n")
    third = load_project(str(root))
    assert "amount >= 15" in third.products["staging.orders"].code


def test_the_noop_fast_path_notices_a_macro_edit(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    assert steward_run(root)[1] == 0
    fast, code, _, _ = steward_run(root)
    assert (fast, code) == (True, 0)
    macro = root / "macros" / "money.sql"
    macro.write_text(macro.read_text().replace("* 100", "* 10"))
    _bump(macro)
    fast, code, _, _ = steward_run(root)
    assert (fast, code) == (False, 0)
    assert Context(root).sql("select * from marts.total").to_pylist() == [{"cents": 300}]


def test_a_macro_error_points_at_the_macro_file_and_line(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    (root / "macros" / "money.sql").write_text(
        "{% macro cents(col) %}({{ col }} * 100){% endmacro %}\n"
        "\n"
        "{% macro big(col) -%}\n"
        "  {{ col }} >= {{ nope.missing }}\n"
        "{%- endmacro %}\n")
    with pytest.raises(ConfigError) as e:
        load_project(str(root))
    text = str(e.value)
    assert "macros/money.sql:4:" in text
    assert "nope" in text and "models/staging/orders.sql" in text


def test_a_syntax_error_in_a_macro_file_is_reported_at_its_line(tmp_path: Path) -> None:
    root = project(tmp_path / "p")
    (root / "macros" / "broken.sql").write_text("\n\n{% macro x( %}\n{% endmacro %}\n")
    with pytest.raises(ConfigError) as e:
        load_project(str(root))
    assert "macros/broken.sql:3:" in str(e.value)


def test_a_plain_project_never_imports_jinja2(starter: Path) -> None:
    code = ("import sys; from steward.project.loader import load_project; "
            f"load_project({str(starter)!r}); print('jinja2' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"


def test_jinja_without_a_macros_folder_says_so(starter: Path) -> None:
    sql = starter / "models" / "marts" / "daily_revenue.sql"
    sql.write_text("select * from {{ ref('orders') }}\n")
    with pytest.raises(ConfigError) as e:
        load_project(str(starter))
    assert "models/marts/daily_revenue.sql:1:" in str(e.value)
    assert "macros/ folder" in str(e.value)
