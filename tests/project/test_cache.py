"""The project cache and the load memo hold plain data, and only what they were given.

Each cached object comes back equal to what was cached, its spec included (validated
again from its fields); a stale, truncated, tampered, foreign or unsigned file is
ignored and the project is loaded from its files.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from steward.core.model import Product, Project, SpecRef
from steward.core.plain import pack, unpack
from steward.project import cache
from steward.project.loader import _Loader, load_project
from tests.conftest import write
from tests.ml.conftest import make_project

CACHE = ".steward/cache/project.msgpack"
MEMO = ".steward/cache/models.msgpack"


@pytest.fixture
def rich(tmp_path: Path) -> Path:
    """Every kind of spec a project holds: file, Python and database sources; SQL,
    Python and model products; a glossary; dates in metadata and in check bounds."""
    root = make_project(tmp_path / "rich")
    write(root, "sources/more.yml", """
        sources:
          raw.events:
            kind: python
            callable: "gen.py:events"
            params: {since: 2024-01-31, n: 3}
          raw.accounts:
            kind: database
            connection: postgresql://reader@db.example.com/shop
            table: accounts
            change_signal: select max(updated_at) from accounts
        """)
    write(root, "gen.py", "def events(since, n):\n    return None\n")
    write(root, "models/staging/trips_dated.sql",
          "select trip_id, distance, date '2024-02-01' as day from staging.trips\n")
    write(root, "models/staging/trips_dated.yml", """
        description: Trips with a day.
        tags: [ops, daily]
        meta: {since: 2024-01-31, at: 2024-01-31 08:00:00, ratio: 0.5, labels: [a, b]}
        freshness: {max_age: 2d}
        primary_key: [trip_id]
        columns:
          trip_id:
            glossary: trip
            classification: internal
            checks: [not_null, unique]
          day:
            checks:
              - range: {min: 2024-01-01, max: 2024-12-31 23:00:00, severity: warn}
          distance:
            checks:
              - range: {min: 0, max: 100.5, mostly: 0.9}
              - quantile: {q: 0.95, max: 1000}
              - accepted_values: {values: [1, 2.5, "x"]}
        checks:
          - expression: {expression: "distance >= 0", name: positive}
          - relationships: {column: trip_id, to: staging.trips, field: trip_id}
          - row_count: {min: 1}
        """)
    write(root, "glossary.yaml", """
        terms:
          trip:
            definition: One ride.
            synonyms: [ride]
            related: [distance]
          distance:
            definition: Kilometres.
            related: [fare]
          fare:
            definition: What a trip costs.
            related: [trip]
        """)
    return root


def _fields(p: Product) -> dict[str, Any]:
    keys = ("name", "kind", "file", "line", "code", "normalized_code", "inputs", "params",
            "outputs", "meta_file", "function", "ref_spans", "check_inputs", "spec_dump",
            "spec_json", "check_uses", "local_digest", "metadata_fp", "code_fp")
    return {k: getattr(p, k) for k in keys}


def _plain_only(value: Any) -> None:
    """``value`` is data: maps, lists, text, numbers, bytes, dates."""
    if isinstance(value, dict):
        for k, v in value.items():
            _plain_only(k)
            _plain_only(v)
    elif isinstance(value, list):
        for v in value:
            _plain_only(v)
    else:
        assert value is None or isinstance(value, str | bytes | int | float | dt.date), value


def test_a_cached_project_comes_back_equal_spec_and_all(rich: Path) -> None:
    first = load_project(str(rich))
    assert {p.kind for p in first.products.values()} >= {"file", "python_source",
                                                          "database_source", "sql",
                                                          "python", "model"}
    again = load_project(str(rich))  # from the cache: nothing validated yet
    assert again.load_key == first.load_key and again.root == str(rich)
    assert "spec" not in again.__dict__
    assert list(again.products) == list(first.products)
    for name, p in first.products.items():
        q = again.products[name]
        assert "spec" not in q.__dict__, name
        assert _fields(q) == _fields(p), name
        assert q.spec == p.spec, name  # validated again from its fields: the same model
        assert type(q.spec) is type(p.spec)
    dated = again.products["staging.trips_dated"].spec
    assert dated.meta["since"] == dt.date(2024, 1, 31)  # a date stays a date
    assert dated.meta["at"] == dt.datetime(2024, 1, 31, 8, 0)
    [rng] = dated.columns["day"].checks
    assert (rng.min, rng.max) == (dt.date(2024, 1, 1), dt.datetime(2024, 12, 31, 23, 0))
    assert again.spec == first.spec and again.name == first.name
    assert again.glossary == first.glossary and "trip" in again.glossary.terms
    assert again.warnings == first.warnings and again.warnings  # the glossary's cycle
    assert again.source_hashes == first.source_hashes


def test_the_files_hold_plain_data_and_no_absolute_path(rich: Path) -> None:
    load_project(str(rich))
    for rel in (CACHE, MEMO):
        raw = (rich / rel).read_bytes()
        assert str(rich).encode() not in raw, rel
        assert b"pickle" not in raw and b"\x80\x05" not in raw[:64]
        body = raw[len(cache._MAGIC) + cache._MAC:]
        klen = int.from_bytes(body[:4], "big")
        _plain_only(unpack(body[4 + klen + cache._MAC:]))  # (arrays as lists)


def test_a_moved_project_reads_its_cache_with_its_new_root(rich: Path, tmp_path: Path) -> None:
    first = load_project(str(rich))
    moved = tmp_path / "elsewhere"
    shutil.move(str(rich), moved)
    got = cache.read(str(moved / CACHE), str(first.load_key))
    assert got is not None and got.root == ""  # nothing of the old root in it
    again = load_project(str(moved))
    assert again.root == str(moved)
    assert again.products.keys() == first.products.keys()
    assert again.source_hashes == first.source_hashes


def _key(root: Path) -> str:
    return str(load_project(str(root)).load_key)


def test_a_stale_key_reads_nothing(rich: Path) -> None:
    key = _key(rich)
    assert cache.read(str(rich / CACHE), key) is not None
    stale = key[:-1] + ("1" if key.endswith("0") else "0")  # (a key may end in 0)
    assert cache.read(str(rich / CACHE), stale) is None


@pytest.mark.parametrize("damage", ["truncated", "tampered", "foreign", "garbage"])
def test_a_damaged_cache_is_ignored_and_the_files_are_read(rich: Path, damage: str) -> None:
    key = _key(rich)
    path = rich / CACHE
    raw = bytearray(path.read_bytes())
    if damage == "truncated":
        raw = raw[: len(raw) // 2]
    elif damage == "tampered":  # a model's SQL edited in the cache, the MAC left
        at = raw.index(b"select trip_id, distance, hour")
        raw[at:at + 6] = b"SELECT"
    elif damage == "foreign":  # another version of the format
        raw[:len(cache._MAGIC)] = b"STWDC1"
    else:  # signed, but not a project
        cache._dump(str(path), key, {"spec": 1})
        raw = bytearray(path.read_bytes())
    path.write_bytes(bytes(raw))
    assert cache.read(str(path), key) is None
    # the memo too: a damaged memo is an empty one
    (rich / MEMO).write_bytes((rich / MEMO).read_bytes()[:100])
    assert cache.read_memo(str(rich / MEMO)) is None
    project = load_project(str(rich))
    assert project.products["staging.trips"].code.startswith("select trip_id")
    assert cache.read(str(path), key) is not None  # written again


def test_a_cache_signed_with_another_key_is_ignored(rich: Path, monkeypatch) -> None:
    key = _key(rich)
    monkeypatch.setenv("STEWARD_CACHE_KEY", "another machine's key, 32 bytes or more")
    cache._secret.cache_clear()
    try:
        assert cache.read(str(rich / CACHE), key) is None
        assert cache.read_memo(str(rich / MEMO)) is None
    finally:
        cache._secret.cache_clear()


def test_another_version_of_stewards_code_reads_nothing(rich: Path, monkeypatch) -> None:
    load_project(str(rich))
    assert cache.read_memo(str(rich / MEMO)) is not None
    monkeypatch.setattr(cache, "_FORMAT", cache._FORMAT + 1)
    cache._version.cache_clear()
    try:
        assert cache.read_memo(str(rich / MEMO)) is None
        old = load_project(str(rich)).load_key
        assert cache.digest(str(rich), ["models", "sources"]) == old  # (this version's)
    finally:
        cache._version.cache_clear()


def test_the_memo_comes_back_equal(rich: Path) -> None:
    loader = _Loader(str(rich), True)
    loader.load()
    memo = loader.memo_out
    kinds = {type(v).__name__ for v in memo.values()}
    assert {"Located", "SpecRef", "tuple"} <= kinds
    back = cache.memo_from_plain(unpack(pack(cache.memo_to_plain(memo)), lists=False))
    assert back.keys() == memo.keys()
    for key, value in memo.items():
        got = back[key]
        if isinstance(value, SpecRef):
            assert got.dump == value.dump and got.value() == value.value(), key
            raw = ("spec_data", "spec_dump_data", "spec_dump")
            assert {k: v for k, v in got.facts.items() if k not in raw} == \
                {k: v for k, v in value.facts.items() if k not in raw}
        elif isinstance(value, tuple) and value and isinstance(value[0], Product):
            assert _fields(got[0]) == _fields(value[0])
            assert got[1:3] == value[1:3] and got[4] == value[4]
            assert (got[3] is None) == (value[3] is None)
            if value[3] is not None:
                assert (got[3].file, got[3].data, got[3].lines) == \
                    (value[3].file, value[3].data, value[3].lines)
        elif type(value).__name__ == "Located":
            assert (got.file, got.data, got.lines) == (value.file, value.data, value.lines)
        else:
            assert got == value, key
    # the memo read back serves a second load as the first one did
    second = _Loader(str(rich), True, back)
    p = second.load()
    assert p.products["staging.trips_dated"].spec.meta["since"] == dt.date(2024, 1, 31)


def test_something_that_is_not_plain_data_is_not_cached(rich: Path) -> None:
    project = load_project(str(rich))
    path = rich / ".steward" / "cache" / "odd.msgpack"
    odd = project.evolve(warnings=(object(),))
    cache.write(str(path), "k", odd)  # refused quietly: only the next load pays
    assert not path.exists()
    assert isinstance(project, Project)


def test_plain_data_keeps_dates_times_and_decimals() -> None:
    from decimal import Decimal

    value = {"d": dt.date(2024, 1, 31), "t": dt.time(8, 30),
             "ts": dt.datetime(2024, 1, 31, 8, 0, tzinfo=dt.UTC),
             "n": Decimal("1.10"), "s": {1, 2}, dt.date(2024, 1, 1): [b"x", None, 1.5]}
    assert unpack(pack(value)) == value
    with pytest.raises(TypeError):
        pack({"x": object()})
    assert unpack(pack(value)) == value  # (nothing of the failed call left behind)
    with pytest.raises(ValueError):
        unpack(pack(value)[:-2])


def test_a_rebuilt_spec_has_the_same_fields_set(rich: Path) -> None:
    """What was written stays apart from what defaulted: an explicit empty
    classification hides what lineage would infer, cached or not."""
    write(rich, "models/staging/trips_dated.yml",
          (rich / "models/staging/trips_dated.yml").read_text().replace(
              "classification: internal", "classification: []"))
    first = load_project(str(rich))
    again = load_project(str(rich))

    def sets(model: Any) -> Any:
        return (type(model).__name__, sorted(model.model_fields_set),
                {k: sets(v) for k, v in model.__dict__.items() if hasattr(v, "model_fields_set")},
                {k: {n: sets(x) for n, x in v.items()} for k, v in model.__dict__.items()
                 if isinstance(v, dict) and all(hasattr(x, "model_fields_set")
                                                for x in v.values())})

    for name, p in first.products.items():
        assert sets(again.products[name].spec) == sets(p.spec), name
    cols = again.products["staging.trips_dated"].spec.columns
    assert "classification" in cols["trip_id"].model_fields_set
    assert "classification" not in cols["day"].model_fields_set
    assert sets(again.spec) == sets(first.spec)


def test_the_cache_key_alone_imports_no_model() -> None:
    """The no-op fast path computes the key (``digest``) only: importing the cache module
    must not import the loaded-project types."""
    import subprocess
    import sys

    code = ("import sys; import steward.project.cache as c; "
            "print(sorted(m for m in ('steward.core.model', 'steward.project.yamlload', "
            "'msgpack') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert out.stdout.strip() == "[]"
    assert frozenset(Product._DERIVED) == cache._OPTIONAL
