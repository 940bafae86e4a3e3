import pytest

from steward.core.errors import SelectionError
from steward.core.graph import Dag, select

EDGES = {"raw.a": [], "raw.b": [], "stg.a": ["raw.a"], "stg.b": ["raw.b"],
         "mart.ab": ["stg.a", "stg.b"], "mart.x": ["mart.ab"]}
ATTRS = {
    "raw.a": {"tag": ("nightly",), "domain": "raw"}, "raw.b": {"tag": (), "domain": "raw"},
    "stg.a": {"tag": ("nightly",), "domain": "stg"}, "stg.b": {"tag": (), "domain": "stg"},
    "mart.ab": {"tag": ("finance",), "domain": "mart"}, "mart.x": {"tag": (), "domain": "mart"},
}


def dag() -> Dag:
    return Dag.build(EDGES)


def test_topological_order_puts_parents_first_and_is_repeatable():
    order = dag().topological()
    assert order == dag().topological()
    for child, parents in EDGES.items():
        for p in parents:
            assert order.index(p) < order.index(child)


def test_cycle_is_found_as_a_path():
    cyc = Dag.build({"a": ["c"], "b": ["a"], "c": ["b"], "d": []}).find_cycle()
    assert cyc is not None and cyc[0] == cyc[-1] and set(cyc) == {"a", "b", "c"}
    assert dag().find_cycle() is None


@pytest.mark.parametrize("selectors,expected", [
    (["+mart.ab"], {"raw.a", "raw.b", "stg.a", "stg.b", "mart.ab"}),
    (["stg.a+"], {"stg.a", "mart.ab", "mart.x"}),
    (["1+mart.ab"], {"stg.a", "stg.b", "mart.ab"}),
    (["tag:nightly"], {"raw.a", "stg.a"}),
    (["domain:mart"], {"mart.ab", "mart.x"}),
    (["tag:nightly domain:mart"], {"raw.a", "stg.a", "mart.ab", "mart.x"}),
    (["tag:nightly,domain:stg"], {"stg.a"}),
    (["stg.*"], {"stg.a", "stg.b"}),
    (["ab"], {"mart.ab"}),
    ([], set(EDGES)),
])
def test_selection_syntax(selectors, expected):
    assert select(dag(), ATTRS, selectors) == expected


def test_exclude_removes_from_selection():
    assert select(dag(), ATTRS, ["+mart.x"], ["domain:raw"]) == {"stg.a", "stg.b", "mart.ab",
                                                                  "mart.x"}


def test_unknown_selector_is_a_clear_error():
    with pytest.raises(SelectionError, match="matches no product"):
        select(dag(), ATTRS, ["nope"])
    with pytest.raises(SelectionError, match="unknown selector method"):
        select(dag(), ATTRS, ["colour:red"])
