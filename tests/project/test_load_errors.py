"""Project mistakes found when the project loads: each one message at its file and line,
all at once, exit code 2, never a traceback, and nothing published touched."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from steward.context import Context
from steward.core.errors import ConfigError
from steward.project.loader import load_project
from tests.conftest import published_state, steward, write


def problems(root: Path) -> list[str]:
    with pytest.raises(ConfigError) as e:
        load_project(str(root))
    return [p.render() for p in e.value.problems]


@pytest.fixture
def built(starter: Path) -> Path:
    """The starter project, run once into prod."""
    assert Context(starter).run().ok
    return starter


# -- (9) bytes that are not UTF-8 ------------------------------------------------------------

def _latin1(path: Path, text: str) -> int:
    """Write ``text`` encoded as Latin-1; returns the byte offset of its first 'é'."""
    data = text.encode("latin-1")
    path.write_bytes(data)
    return data.index(b"\xe9")


@pytest.mark.parametrize(("rel", "text", "line"), [
    ("models/marts/daily_revenue.sql",
     "select order_date, count(*) as orders,\n  sum(amount) as revenue -- café\n"
     "from staging.orders group by order_date\n", 2),
    ("models/marts/daily_revenue.yml", "owner: finance@example.com\ndescription: Café\n", 2),
    ("steward.yaml", "name: starter\ndefaults:\n  owner: data-team@example.com\n"
                     "description: Café revenue\n", 4),
])
@pytest.mark.parametrize("command", ["run", "plan"])
def test_bytes_that_are_not_utf8_name_the_file_line_and_offset(built: Path, rel: str,
                                                               text: str, line: int,
                                                               command: str):
    before = published_state(built)
    offset = _latin1(built / rel, text)
    code, out, err = steward(built, command)
    assert code == 2, out + err
    assert "Traceback" not in err
    assert f"{rel}:{line}: not valid UTF-8: byte 0xe9 at byte offset {offset}" in err
    assert "save the file as UTF-8" in err
    assert published_state(built) == before


def test_a_python_product_that_is_not_utf8_is_a_load_error(starter: Path):
    path = starter / "models" / "marts" / "py_rev.py"
    _latin1(path, "from steward import product\n\n# café\n@product()\n"
                  "def py_rev(staging__orders):\n    return staging__orders\n")
    [msg] = problems(starter)
    assert msg.startswith("models/marts/py_rev.py:3: not valid UTF-8: byte 0xe9")


def test_a_glossary_that_is_not_utf8_is_a_load_error(starter: Path):
    _latin1(starter / "glossary.yaml", "terms:\n  revenue:\n    definition: Café takings\n")
    [msg] = problems(starter)
    assert msg.startswith("glossary.yaml:3: not valid UTF-8: byte 0xe9")


# -- (8) a broken steward.yaml does not hide broken models and sources ------------------------

def test_a_broken_steward_yaml_does_not_hide_model_and_source_mistakes(built: Path):
    before = published_state(built)
    write(built, "steward.yaml", """\
        name: starter
        environments:
          defualt: prod
        """)
    write(built, "models/staging/orders.yml", "ownr: someone\n")
    write(built, "models/marts/daily_revenue.sql", "select * from staging.ordrs\n")
    write(built, "sources/raw.yml", "sources:\n  raw.orders:\n    path: data/orders.csv\n"
                                    "    formt: csv\n")
    code, _, err = steward(built, "run")
    assert code == 2 and "Traceback" not in err
    assert "4 problems in the project" in err
    assert "steward.yaml:3: unknown key 'defualt'" in err
    assert "models/staging/orders.yml:1: unknown key 'ownr'" in err
    assert "models/marts/daily_revenue.sql:1: marts.daily_revenue references unknown " \
           "product 'staging.ordrs'" in err
    assert "sources/raw.yml:4: unknown key 'formt'" in err
    assert published_state(built) == before


def test_steward_yaml_that_is_not_yaml_does_not_hide_model_mistakes(starter: Path):
    write(starter, "steward.yaml", "name: starter\nenvironments: [prod\n")
    write(starter, "models/staging/orders.yml", "ownr: someone\n")
    msgs = problems(starter)
    assert any(m.startswith("steward.yaml:") and "invalid YAML" in m for m in msgs)
    assert any(m.startswith("models/staging/orders.yml:1: unknown key 'ownr'") for m in msgs)


def test_models_are_read_from_the_declared_folder_even_when_steward_yaml_is_broken(
        starter: Path):
    (starter / "models").rename(starter / "transforms")
    write(starter, "steward.yaml", """\
        name: starter
        paths: {models: transforms}
        parallelism: many
        """)
    write(starter, "transforms/staging/orders.yml", "ownr: someone\n")
    msgs = problems(starter)
    assert any(m.startswith("steward.yaml:3: parallelism") for m in msgs)
    assert any(m.startswith("transforms/staging/orders.yml:1: unknown key 'ownr'")
               for m in msgs)


# -- (10) check arguments and column types are checked when the project loads ---------------

def test_check_arguments_are_validated_at_load_all_at_once(built: Path):
    before = published_state(built)
    write(built, "models/staging/orders.yml", """\
        owner: data-team@example.com
        columns:
          order_id:
            checks: [not_null]
          amount:
            type: DATETIMEE
            checks:
              - range: {min: ten}
              - length: {min: 1, max: 0}
        checks:
          - row_count: {min: 5, max: 1}
          - sql: "select * from {{ that }} where amount < 0"
          - expression: "amount >= "
          - sql: "select * from {{ this }} wher amount < 0"
          - expression: "select 1"
          - mean: {column: amount, min: 10, max: 2}
        """)
    code, _, err = steward(built, "run")
    assert code == 2 and "Traceback" not in err
    assert "9 problems in the project" in err, err
    f = "models/staging/orders.yml"
    expected = [
        (f"{f}:6: column 'amount': unknown type 'DATETIMEE'", "did you mean 'DATETIME'?"),
        (f"{f}:8: check 'range_amount': min 'ten' is not a number, a date or a time",
         "write a number (min: 10)"),
        (f"{f}:9: check 'length_amount': min 1 is greater than max 0", "swap them"),
        (f"{f}:11: check 'row_count': min 5 is greater than max 1", "swap them"),
        (f"{f}:12: check 'sql': unknown placeholder '{{{{ that }}}}'",
         "did you mean '{{ this }}'?"),
        (f"{f}:13: check 'expression': SQL syntax error in 'amount >= '",
         "a row-level predicate"),
        (f"{f}:14: check 'sql': SQL syntax error", "a SELECT returning the failing rows"),
        (f"{f}:15: check 'expression': 'select 1' is a query", "use a 'sql' check"),
        (f"{f}:16: check 'mean_amount': min 10 is greater than max 2", "swap them"),
    ]
    for message, hint in expected:
        assert message in err, (message, err)
        after = err[err.index(message):].split("\n", 2)
        assert hint in after[1], (hint, after)
    assert published_state(built) == before


def test_source_column_types_and_check_arguments_are_validated_at_load(starter: Path):
    write(starter, "sources/raw.yml", """\
        sources:
          raw.orders:
            path: data/orders.csv
            owner: shop-team@example.com
            columns:
              order_id: {type: INTEGER NOT NULL}
              amount: {type: DOUBLE, checks: [{range: {min: 5, max: 1}}]}
              ordered_at: {type: 'TIMESTAMP WITH TIME ZONE'}
              customer: {type: 'VARCHAR(20)'}
        """)
    msgs = problems(starter)
    assert len(msgs) == 2, msgs
    assert msgs[0].startswith("sources/raw.yml:6: column 'order_id': unknown type "
                              "'INTEGER NOT NULL'")
    assert "nullable: false" in msgs[0]
    assert msgs[1].startswith("sources/raw.yml:7: check 'range_amount': min 5 is greater "
                              "than max 1")


def test_valid_check_arguments_and_types_load(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        columns:
          order_id: {type: 'BIGINT', checks: [{range: {min: 1, max: 100}}]}
          customer: {type: 'VARCHAR', checks: [{range: {min: A, max: Z}}]}
          amount: {type: 'DECIMAL(10, 2)'}
          order_date: {type: DATE, checks: [{range: {min: 2020-01-01, max: '2030-12-31'}}]}
        checks:
          - sql: "select * from {{this}} where amount < 0"
          - expression: "amount >= 0 and order_id is not null"
          - row_count: {min: 1, max: 1}
        """)
    load_project(str(starter))


def test_check_arguments_are_validated_again_only_when_their_file_changes(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        checks:
          - sql: "select * from {{ this }} where amount < 0"
          - expression: "amount >= 0"
        """)
    load_project(str(starter))  # fills the load memo
    write(starter, "models/marts/daily_revenue.sql",
          "select order_date, count(*) as orders, sum(amount) as revenue\n"
          "from staging.orders group by order_date\n")
    code = ("import sys; from steward.project.loader import load_project; "
            f"load_project({str(starter)!r}); "
            "print('pydantic' in sys.modules, 'steward.project.checkargs' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["False", "False"]
    write(starter, "models/staging/orders.yml", "checks: [{expression: 'amount >= '}]\n")
    [msg] = problems(starter)
    assert msg.startswith("models/staging/orders.yml:1: check 'expression': SQL syntax error")


# -- (11) a sidecar whose name matches no model ----------------------------------------------

def test_a_sidecar_matching_no_model_is_a_warning_with_the_name_it_should_have(
        starter: Path, steward_cmd):
    (starter / "models" / "staging" / "orders.yml").rename(
        starter / "models" / "staging" / "order.yml")
    project = load_project(str(starter))
    [warning] = [w for w in project.warnings if "order.yml" in w]
    assert warning.startswith("models/staging/order.yml:1: describes no model: there is no "
                              "order.sql or order.py beside it")
    assert "did you mean 'orders.yml'?" in warning
    code, out, err = steward(starter, "run")
    assert code == 0, out + err  # a warning, not an error
    assert "models/staging/order.yml:1: describes no model" in err
    assert "did you mean 'orders.yml'?" in err
    # the cached load warns too
    assert any("order.yml" in w for w in load_project(str(starter)).warnings)


# -- (13) YAML aliases that expand without bound ----------------------------------------------

BOMB = """\
owner: data-team@example.com
meta:
  a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
  e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
  f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
  g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
  h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
  i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""


def test_a_yaml_alias_bomb_is_refused_quickly_at_its_line(built: Path):
    before = published_state(built)
    write(built, "models/staging/orders.yml", BOMB)
    code = ("import resource, sys; "
            "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30)); "
            "from steward.cli.entry import main; sys.argv = ['steward', 'plan']; main()")
    t0 = time.perf_counter()
    try:
        p = subprocess.run([sys.executable, "-c", code], cwd=built, capture_output=True,
                           text=True, timeout=30, env={**os.environ})
    except subprocess.TimeoutExpired:
        pytest.fail("loading an alias bomb took over 30 s")
    assert time.perf_counter() - t0 < 15
    assert p.returncode == 2, p.stderr[-2000:]
    assert "Traceback" not in p.stderr
    assert "models/staging/orders.yml:7: YAML aliases expand to more than 10,000 values" \
           in p.stderr, p.stderr
    assert "anchors (&) and aliases (*)" in p.stderr
    assert published_state(built) == before


def test_a_few_yaml_aliases_still_load(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        owner: data-team@example.com
        columns:
          order_id: &documented {description: An identifier}
          customer: *documented
        """)
    project = load_project(str(starter))
    cols = project["staging.orders"].spec_dump["columns"]
    assert cols["customer"]["description"] == "An identifier"
