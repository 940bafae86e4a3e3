"""Selectors as dbt users type them: path: a folder without a glob, source:."""

import pytest

from steward.core.errors import SelectionError
from steward.core.graph import Dag, select

EDGES = {"raw.a": [], "raw.b": [], "stg.a": ["raw.a"], "stg.b": ["raw.b"],
         "mart.ab": ["stg.a", "stg.b"], "mart.x": ["mart.ab"]}
ATTRS = {
    "raw.a": {"kind": "file", "path": "sources/raw.yml"},
    "raw.b": {"kind": "python_source", "path": "sources/raw.yml"},
    "stg.a": {"kind": "sql", "path": "models/stg/a.sql"},
    "stg.b": {"kind": "sql", "path": "models/stg/b.sql"},
    "mart.ab": {"kind": "sql", "path": "models/mart/ab.sql"},
    "mart.x": {"kind": "python", "path": "models/mart/deep/x.py"},
}


def sel(*s: str) -> set[str]:
    return select(Dag.build(EDGES), ATTRS, list(s))


def test_path_selects_a_folder_and_everything_under_it():
    assert sel("path:models/mart") == {"mart.ab", "mart.x"}
    assert sel("path:models/mart/") == {"mart.ab", "mart.x"}
    assert sel("path:models") == {"stg.a", "stg.b", "mart.ab", "mart.x"}
    assert sel("path:models/stg/a.sql") == {"stg.a"}
    assert sel("path:models/mart/*.sql") == {"mart.ab"}  # a glob still works as before
    assert sel("path:models/stg+") == {"stg.a", "stg.b", "mart.ab", "mart.x"}


def test_a_folder_prefix_is_not_a_folder():
    with pytest.raises(SelectionError):
        sel("path:models/ma")


def test_source_selects_sources_by_group_or_name():
    assert sel("source:raw") == {"raw.a", "raw.b"}
    assert sel("source:raw.a") == {"raw.a"}
    assert sel("source:raw.a+") == {"raw.a", "stg.a", "mart.ab", "mart.x"}
    with pytest.raises(SelectionError):
        sel("source:stg")  # models are not sources
