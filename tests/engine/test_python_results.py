"""A Python product returning something that is not a table: say what came back."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.context import Context
from tests.conftest import published_state, steward, write

PRODUCT = """\
from steward import product

@product()
def odd(staging__orders):
    {body}
"""


@pytest.mark.parametrize(("body", "expected"), [
    ("return {'orders': 4, 'note': 'many'}",
     "odd returned a dict whose value for 'orders' is int, not a column (a list of values); "
     "return a pyarrow Table"),
    ("return {'a': [1, 2], 'b': [1]}",
     "odd returned a dict whose columns differ in length: 'a' has 2 values, 'b' has 1; "
     "return a pyarrow Table"),
    ("import pyarrow as pa\n    return pa.table([pa.array([1]), pa.array([2])], "
     "names=['x', 'x'])",
     "odd returned a table with duplicate column names: 'x'; give each column its own name"),
    ("import pandas as pd\n    return pd.DataFrame([[1, 2]], columns=['x', 'x'])",
     "odd returned a table with duplicate column names: 'x'; give each column its own name"),
    ("return [1, 2, 3]", "odd returned a list; return a pyarrow Table"),
])
def test_python_product_returning_a_non_table_says_what_to_return(starter: Path, body: str,
                                                                   expected: str):
    assert Context(starter).run().ok
    before = published_state(starter)
    write(starter, "models/marts/odd.py", PRODUCT.format(body=body))
    code, out, err = steward(starter, "run")
    assert code == 1
    assert "Traceback" not in out + err and "internal error" not in out
    assert f"models/marts/odd.py: {expected}" in out, out
    pointers, _, _ = published_state(starter)
    assert pointers == before[0]  # nothing published moved


def test_python_product_returning_a_dict_of_columns_builds(starter: Path):
    write(starter, "models/marts/odd.py",
          PRODUCT.format(body="return {'n': [1, 2], 'label': ['a', 'b']}"))
    ctx = Context(starter)
    assert ctx.run().ok
    assert ctx.current()["marts.odd"].row_count == 2
