"""The registry of check kinds: each kind's declaration is what the models, the short
forms and the load read."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pydantic import TypeAdapter, ValidationError

from steward.core import checks
from steward.core.checkforms import CHECK_TYPES, normalise_check
from steward.core.checkkinds import ALL, KINDS

ADAPTER: TypeAdapter = TypeAdapter(checks.Check)


def test_every_name_belongs_to_one_kind_and_every_kind_has_its_model():
    assert sum(len(k.names) for k in ALL) == len(KINDS) == len(CHECK_TYPES)
    for kind in ALL:
        model = getattr(checks, kind.model)
        assert model.__module__ == "steward.core.checks"
        for name in kind.names:
            assert KINDS[name] is kind


@pytest.mark.parametrize("kind", ALL, ids=[k.key for k in ALL])
def test_each_example_validates_to_its_model_and_back_from_plain_data(kind):
    from steward.core.plain import pack, unpack

    check = ADAPTER.validate_python(normalise_check(kind.example))
    assert type(check) is getattr(checks, kind.model)
    # what the project cache keeps of a spec: its fields, validated again when read
    assert ADAPTER.validate_python(unpack(pack(check.model_dump()))) == check


@pytest.mark.parametrize("kind", [k for k in ALL if k.shorthand], ids=lambda k: k.key)
def test_a_shorthand_fills_the_argument_its_kind_names(kind):
    raw = {kind.names[0]: ["a", "b"]}
    assert normalise_check(raw) == {"type": kind.names[0], kind.shorthand: ["a", "b"]}


def test_under_a_column_only_column_scoped_kinds_get_it():
    for kind in ALL:
        got = normalise_check(kind.names[0], column="amount")
        assert ("column" in got) == kind.column_scoped, kind.key
    # a key of several columns replaces the column it is written under
    assert "column" not in normalise_check({"unique": ["a", "b"]}, column="amount")


def test_a_kinds_own_validation_is_the_models():
    with pytest.raises(ValidationError, match="range needs 'min' or 'max'"):
        ADAPTER.validate_python({"type": "range", "column": "x"})
    with pytest.raises(ValidationError, match="regex does not compile"):
        ADAPTER.validate_python({"type": "regex", "column": "x", "pattern": "("})
    with pytest.raises(ValidationError, match="greater than or equal to 0"):
        ADAPTER.validate_python({"type": "length", "column": "x", "min": -1})


def test_the_registry_imports_neither_pydantic_nor_sqlglot():
    code = ("import sys, steward.core.checkforms, steward.core.checkkinds\n"
            "print('pydantic' in sys.modules, 'sqlglot' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60)
    assert out.stdout.split() == ["False", "False"]


@pytest.mark.parametrize("kind", ALL, ids=[k.key for k in ALL])
def test_each_kind_is_either_compiled_and_judged_or_judged_from_profiles(kind):
    from steward.core.checkkinds import PROFILED

    if kind.judge_profiles is not None:
        assert not kind.compiled and kind.compile is None and kind.judge is None
        assert set(kind.names) <= set(PROFILED)
    else:
        assert kind.compiled and kind.compile is not None and kind.judge is not None
        assert not set(kind.names) & set(PROFILED)


class _Test:
    """A dbt test as ``Kind.from_dbt`` sees it, with every argument a kind may read."""

    args = {"values": ["a", "b"], "to": "ref('customers')", "field": "id",
            "combination_of_columns": ["a", "b"], "at_least": 0.9, "min_value": 0,
            "max_value": 10, "inclusive": False, "datepart": "day", "interval": 2}

    def column(self) -> str:
        return "c"

    def relation(self, text):
        assert text == "ref('customers')"
        return "marts.customers"

    def refuse(self, why):
        raise AssertionError(why)


def test_each_dbt_test_a_kind_names_imports_as_a_valid_check_of_that_kind():
    from steward.core.checkkinds import DBT_TESTS

    names = [n for k in ALL for n in k.from_dbt]
    assert len(names) == len(set(names)) == len(DBT_TESTS)
    assert {"not_null", "unique", "accepted_values", "relationships",
            "dbt_utils.accepted_range", "dbt_utils.recency"} <= set(names)
    for kind in ALL:
        for name, make in kind.from_dbt.items():
            check = ADAPTER.validate_python(normalise_check(make(_Test())))
            assert type(check) is getattr(checks, kind.model), name
