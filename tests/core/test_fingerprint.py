from dataclasses import replace

from steward.core.fingerprint import data_fingerprint, metadata_fingerprint
from steward.core.model import Product
from steward.core.spec import SqlProductSpec
from steward.sql.parse import parse_sql


def sql_product(text: str, **spec) -> Product:
    parsed = parse_sql(text)
    return Product(name="m.x", kind="sql", spec=SqlProductSpec(**spec), file="x.sql", code=text,
                   normalized_code=parsed.normalized, inputs=("raw.a",))


def test_formatting_and_comments_do_not_change_the_fingerprint():
    a = sql_product("select a, b from raw.a where a > 1")
    b = sql_product("-- tidy\nSELECT a,\n       b\nFROM raw.a  /* filter */\nWHERE a > 1\n")
    inputs = {"raw.a": "f1"}
    assert data_fingerprint(a, inputs) == data_fingerprint(b, inputs)


def test_a_real_code_change_changes_it():
    a = sql_product("select a from raw.a where a > 1")
    b = sql_product("select a from raw.a where a > 2")
    assert data_fingerprint(a, {"raw.a": "f"}) != data_fingerprint(b, {"raw.a": "f"})


def test_an_input_change_propagates():
    a = sql_product("select a from raw.a")
    assert data_fingerprint(a, {"raw.a": "f1"}) != data_fingerprint(a, {"raw.a": "f2"})


def test_metadata_changes_only_the_metadata_fingerprint():
    a = sql_product("select a from raw.a", description="one", owner="x@y")
    b = replace(a, spec=SqlProductSpec(description="two", owner="z@y", tags=("t",)))
    assert data_fingerprint(a, {"raw.a": "f"}) == data_fingerprint(b, {"raw.a": "f"})
    assert metadata_fingerprint(a) != metadata_fingerprint(b)


def test_quarantine_policy_is_data_relevant():
    a = sql_product("select a from raw.a")
    b = replace(a, spec=SqlProductSpec(on_fail="quarantine_rows"))
    assert data_fingerprint(a, {"raw.a": "f"}) != data_fingerprint(b, {"raw.a": "f"})


def test_inputs_are_hashed_as_their_json_whatever_the_names() -> None:
    import json

    from steward.core.fingerprint import digest, pairs_json

    for pairs in ([], [("raw.a", "0f3c")], [("m.p1", "ab"), ("m.p2", "cd-1")],
                  [("odd\"name", "x")], [("naïve", "f")], [("a\\b", "\n")]):
        assert pairs_json(pairs) == json.dumps(pairs)
    a = replace(sql_product("select * from raw.a join m.b using (k)"), inputs=("raw.a", "m.b"))
    inputs = {"raw.a": "f1", "m.b": "f2", "m.c": "f3"}
    # the fingerprint every stored version was made with: the inputs as a JSON list
    assert data_fingerprint(a, inputs) == digest(a.local_digest,
                                                 [["m.b", "f2"], ["raw.a", "f1"]], "")
