"""The cheap PII paths: small versions read straight from Parquet, one scan row per run."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from steward.audit import pii
from steward.audit.compliance import build_report
from steward.context import Context
from steward.core.records import Version
from steward.core.spec import EngineSpec
from steward.engine.duckdb import DuckDBEngine
from steward.meta import audit as q

DATA = Path(__file__).parent / "data" / "pii_labelled.csv"


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> DuckDBEngine:
    return DuckDBEngine(EngineSpec(threads=2), str(tmp_path_factory.mktemp("eng")))


def _key(values: list[object] | Counter[object]) -> Counter[str]:
    """Values as counts of their repr (a sample is a ``Counter`` of its values)."""
    if isinstance(values, Counter):
        return Counter({repr(v): n for v, n in values.items()})
    return Counter(repr(v) for v in values)


def test_small_versions_read_from_parquet_classify_as_the_engine_sample(
        engine: DuckDBEngine, tmp_path: Path) -> None:
    """Every column of the labelled set, written as Parquet (split over two files for
    some), gives the same values and the same detection on both paths."""
    with DATA.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    detections = 0
    for i, r in enumerate(rows):
        col = r["column_name"]
        values = json.loads(r["sample_values"])
        table = pa.table({"id": pa.array(range(len(values)), pa.int64()),
                          col: pa.array(values, pa.string())})
        files = []
        parts = [table] if i % 3 else [table.slice(0, len(values) // 2),
                                       table.slice(len(values) // 2)]
        for j, part in enumerate(parts):
            files.append(str(tmp_path / f"c{i}_{j}.parquet"))
            pq.write_table(part, files[-1])
        fast = pii.read_small(files, [col])
        assert fast is not None
        # a row count above the sample size forces the engine's reservoir sample
        slow = pii.sample_columns(engine, files, [col], row_count=10**9)
        assert _key(fast[col]) == _key(slow[col]) == _key(values)
        assert pii.sample_columns(engine, files, [col]) == fast  # the default path
        got = pii.classify_sample(fast)
        assert got == pii.classify_sample(slow)
        detections += bool(got)
    assert detections > 100  # the set is mostly PII: the comparison covered real findings


def test_large_versions_are_sampled_by_the_engine(engine: DuckDBEngine, tmp_path: Path) -> None:
    path = str(tmp_path / "big.parquet")
    emails = [f"user{i}@example.com" for i in range(1500)]
    pq.write_table(pa.table({"email": emails}), path)
    assert pii.read_small([path], ["email"], rows=1000) is None
    sample = pii.sample_columns(engine, [path], ["email"], rows=1000)
    assert sum(sample["email"].values()) == 1000 and set(sample["email"]) <= set(emails)
    # a wrong (too small) row count is caught by the footers, not trusted
    assert sum(pii.sample_columns(engine, [path], ["email"], rows=1000, row_count=10)
               ["email"].values()) == 1000
    assert [d.kind for d in pii.scan_files(engine, [path], [_col("email")])] == ["email"]


def test_non_text_columns_and_missing_names_fall_back(engine: DuckDBEngine,
                                                      tmp_path: Path) -> None:
    path = str(tmp_path / "t.parquet")
    pq.write_table(pa.table({"n": [1, 2], "b": pa.array([b"a@b.co", b"x"], pa.binary())}),
                   path)
    assert pii.read_small([path], ["b"]) is None  # binary: the engine decides
    assert pii.read_small([path], ["nope"]) is None
    assert pii.scan_files(engine, [path], [_col("n", "BIGINT")]) == []  # no text, no work


def test_ties_between_kinds_do_not_depend_on_value_order() -> None:
    values = ["ada@example.com", "10.0.0.7"] * 5
    first = pii.classify_column("c", values)
    again = pii.classify_column("c", list(reversed(values)))
    assert first is not None and first == again
    # an exact tie goes to the earlier kind in KINDS (it used to go to whichever value
    # came first, so a reversed sample proposed nothing: ip_address at 50% < 60%)
    assert first.kind == "email" and first.fraction == 0.5


def _col(name: str, type_: str = "VARCHAR") -> object:
    from steward.core.records import Column

    return Column(name, type_, True)


def test_clean_versions_are_scanned_through_their_run(starter: Path) -> None:
    ctx = Context(starter)
    result = ctx.run()
    current = ctx.current()
    ids = [v.id for v in current.values()]
    # the customer names upstream are found (and declared); the mart holds none: it gets
    # no row of its own, and is scanned through the run's row
    with_pii = {current["raw.orders"].id, current["staging.orders"].id}
    assert set(q.detections(ctx.metastore, ids)) == with_pii
    assert q.scanned(ctx.metastore, ids) == set(ids)
    with ctx.metastore.sa_engine.connect() as conn:
        keys = {r[0] for r in conn.execute(q.pii_scans.select())}
    assert keys == {q.RUN_SCAN_PREFIX + result.run_id, *with_pii}
    report = build_report(ctx.project, ctx.metastore, "prod", current)
    assert not [g for g in report.gaps if g.kind == "not_scanned"]
    assert all(e.scanned for e in report.products)

    # a version the gate never saw: published outside a run (an alias), or refused
    v = current["staging.orders"]
    alias = Version(id="v-alias", product=v.product, fingerprint="fp-alias",
                    metadata_fp=v.metadata_fp, status="published", path=v.path,
                    schema=v.schema, created_at=v.created_at, run_id=None)
    refused = Version(id="v-refused", product=v.product, fingerprint="fp-refused",
                      metadata_fp=v.metadata_fp, status="failed", path=v.path,
                      schema=v.schema, created_at=v.created_at, run_id=result.run_id)
    ctx.metastore.insert_version(alias)
    ctx.metastore.insert_version(refused)
    assert q.scanned(ctx.metastore, ["v-alias", "v-refused", v.id]) == {v.id}
    report = build_report(ctx.project, ctx.metastore, "prod",
                          {**current, "staging.orders": alias})
    assert [(g.kind, g.product) for g in report.gaps if g.kind == "not_scanned"] == [
        ("not_scanned", "staging.orders")]


def test_pii_versions_keep_their_own_rows(pii_project: Path) -> None:
    ctx = Context(pii_project)
    ctx.run()
    v = ctx.current()["crm.customers"]
    with ctx.metastore.sa_engine.connect() as conn:
        own = conn.execute(q.pii_scans.select().where(q.pii_scans.c.version_id == v.id)
                           ).all()
    assert len(own) == 1 and own[0].columns == 5  # full_name, email, phone, last_ip, segment
    assert {d["column"] for d in q.detections(ctx.metastore, [v.id])[v.id]} == {
        "full_name", "email", "phone", "last_ip"}
