"""Golden SQL per check kind: what each kind compiles to, compared with a checked-in file.

Each kind (``steward.core.checkkinds``) carries an example check; its compiled pieces
(the shared scan, the failing-row predicate, the extra query, the sample query) are
rendered and compared with ``golden/<kind>.sql``. A change to what a kind compiles to
shows up here as a diff to review; ``STEWARD_UPDATE_GOLDEN=1`` rewrites the files.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter

from steward.core.checkkinds import ALL
from steward.core.checks import Check, normalise_check
from steward.quality.compile import compile_check, scan_query
from steward.sql.parse import DIALECT

GOLDEN = Path(__file__).parent / "golden"
FILES = ["/store/orders/v1/data/part-0.parquet", "/store/orders/v1/data/part-1.parquet"]
PARENT = ["/store/customers/v3/data/part-0.parquet"]
COMPILED = [k for k in ALL if k.compiled]


def render(example: dict[str, Any]) -> str:
    """The compiled pieces of one check as text, one labelled section each."""
    check = TypeAdapter(Check).validate_python(normalise_check(example))
    comp = compile_check(check, check.label(), 0, FILES, lambda _name: PARENT, 20)
    out = [f"-- check: {example}"]
    pieces = [("scan", scan_query(FILES, comp.aggregates) if comp.aggregates else None),
              ("predicate", comp.predicate), ("query", comp.query), ("sample", comp.sample)]
    for label, tree in pieces:
        if tree is not None:
            out += [f"-- {label}", tree.sql(dialect=DIALECT, pretty=True) + ";"]
    return "\n".join(out) + "\n"


@pytest.mark.parametrize("kind", COMPILED, ids=[k.key for k in COMPILED])
def test_each_kind_compiles_to_its_golden_sql(kind):
    path = GOLDEN / f"{kind.key}.sql"
    text = render(kind.example)
    if os.environ.get("STEWARD_UPDATE_GOLDEN") == "1":
        path.write_text(text)
    assert path.exists(), f"no golden SQL for {kind.key}: run with STEWARD_UPDATE_GOLDEN=1"
    assert text == path.read_text()


def test_every_compiled_kind_has_one_golden_file_and_no_file_is_stale():
    assert {p.stem for p in GOLDEN.glob("*.sql")} == {k.key for k in COMPILED}


def test_every_example_is_of_its_own_kind():
    for kind in ALL:
        assert kind.example.get("type") in kind.names, kind.model


@pytest.mark.parametrize("kind", [k for k in ALL if not k.compiled],
                         ids=[k.key for k in ALL if not k.compiled])
def test_kinds_judged_from_profiles_are_refused_by_the_compiler(kind):
    from steward.quality.compile import CompileError

    check = TypeAdapter(Check).validate_python(normalise_check(kind.example))
    with pytest.raises(CompileError, match="not evaluated by the quality gate"):
        compile_check(check, "x", 0, FILES, lambda _name: PARENT, 20)
