"""Profiles and metrics recorded by a real build; drift and anomaly checks gate it."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from steward.context import Context
from steward.meta import profiles as mp
from steward.profile.service import Profiles
from tests.conftest import write


def _count(ctx: Context, table: str) -> int:
    with ctx.metastore.sa_engine.connect() as conn:
        return int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar())


def _orders(root: Path, n: int, scale: float = 1.0) -> None:
    lines = ["order_id,customer,amount,ordered_at"]
    for i in range(n):
        lines.append(f"{i + 1},c{i % 7},{(5 + (i * 37) % 90) * scale:.2f},"
                     f"2026-01-{1 + i % 28:02d} 10:00:00")
    (root / "data" / "orders.csv").write_text("\n".join(lines) + "\n")


def test_each_published_version_is_profiled_once(starter: Path):
    ctx = Context(starter)
    assert ctx.run().ok
    assert _count(ctx, "profiles") == 3
    profs = Profiles(ctx.metastore, ctx.store, ctx.engine)
    v = ctx.current()["staging.orders"]
    prof = mp.load_profile(ctx.metastore, v.id)
    assert prof["rows"] == 4 and prof["columns"]["amount"]["max"] == 99.0
    rows = [p.value for p in profs.metrics("staging.orders", "row_count")]
    assert rows == [4.0]
    names = {(m, c) for m, c, _ in profs.metric_names("staging.orders")}
    assert {("null_fraction", "customer"), ("distinct_count", "order_id"),
            ("build_duration_s", None)} <= names
    points = _count(ctx, "metrics")
    again = Context(starter)
    assert again.run().ok  # nothing changed: versions kept, not re-profiled
    assert _count(again, "profiles") == 3 and _count(again, "metrics") == points
    _orders(starter, 6)
    assert Context(starter).run().ok
    assert [p.value for p in profs.metrics("staging.orders", "row_count")] == [4.0, 6.0]


def test_drift_check_refuses_a_shifted_version(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        description: Orders with positive amounts, dated.
        owner: data-team@example.com
        checks:
          - drift: {column: amount, metric: ks, threshold: 0.5}
        """)
    _orders(starter, 40)
    ctx = Context(starter)
    assert ctx.run().ok  # first version: nothing to compare with
    before = ctx.current()["staging.orders"].id
    _orders(starter, 40, scale=10.0)
    result = Context(starter).run()
    step = {s.product: s for s in result.steps}["staging.orders"]
    assert step.status == "failed" and "ks" in step.error and "amount" in step.error
    assert Context(starter).current()["staging.orders"].id == before


def test_warn_drift_publishes_with_a_note(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        description: Orders with positive amounts, dated.
        columns:
          amount:
            checks: [{drift: {metric: psi, severity: warn}}]
        """)
    _orders(starter, 40)
    Context(starter).run()
    _orders(starter, 40, scale=10.0)
    result = Context(starter).run()
    assert result.ok
    assert any("warn" in n and "psi" in n for n in result.notes["staging.orders"])


def test_anomaly_check_flags_a_collapsed_row_count(starter: Path):
    write(starter, "models/staging/orders.yml", """\
        description: Orders with positive amounts, dated.
        checks:
          - anomaly: {metric: row_count, min_history: 4}
        """)
    for n in (100, 103, 98, 101, 99):
        _orders(starter, n)
        assert Context(starter).run().ok
    _orders(starter, 102)
    assert Context(starter).run().ok  # inside the usual band
    _orders(starter, 20)
    result = Context(starter).run()
    step = {s.product: s for s in result.steps}["staging.orders"]
    assert step.status == "failed" and "anomaly" in step.error and "row_count" in step.error


def test_version_built_before_profiling_is_profiled_on_demand(starter: Path):
    ctx = Context(starter)
    ctx.run()
    with ctx.metastore.begin() as conn:
        conn.execute(sa.text("DELETE FROM profiles"))
    profs = Profiles(ctx.metastore, ctx.store, ctx.engine)
    v = ctx.current()["marts.daily_revenue"]
    assert profs.of_version(v, compute=False) is None
    assert profs.of_version(v)["rows"] == 3
    assert mp.has_profile(ctx.metastore, v.id)


def test_results_are_stored_with_the_quality_gates_and_feed_the_pass_rate(starter: Path):
    from steward.meta.checks import results_for

    write(starter, "models/staging/orders.yml", """\
        description: Orders with positive amounts, dated.
        columns:
          amount:
            checks: [{range: {min: 0}}, {drift: {metric: ks, severity: warn}}]
        """)
    _orders(starter, 40)
    Context(starter).run()
    _orders(starter, 40, scale=10.0)
    ctx = Context(starter)
    assert ctx.run().ok
    v = ctx.current()["staging.orders"]
    results = results_for(ctx.metastore, v.id)
    by_type = {r.type: r for r in results}
    assert by_type["drift"].status == "fail" and by_type["drift"].severity == "warn"
    assert by_type["range"].status == "pass"
    assert v.check_status == "warn"
    profs = Profiles(ctx.metastore, ctx.store, ctx.engine)
    rates = [p.value for p in profs.metrics("staging.orders", "check_pass_rate")]
    assert rates[0] == 1.0  # the first version: drift skipped, the rest passed
    assert rates[1] == sum(r.status == "pass" for r in results) / len(results) < 1.0


def test_the_pii_gate_and_the_profile_share_one_read_of_a_small_version(starter: Path,
                                                                         monkeypatch):
    """A small new version is read from Parquet once per build: by the PII gate, whose
    table the published profile reuses (and releases)."""
    import pyarrow.parquet as pq

    from steward.engine import arrowread

    reads: list[str] = []
    real = pq.ParquetFile.read
    real_tables = arrowread._read  # every whole table read_small and read_small_file read

    def counted(self, *a, **kw):
        reads.append(str(self.metadata.num_rows))
        return real(self, *a, **kw)

    def counted_tables(readers, max_rows):
        reads.extend(str(r.metadata.num_rows) for r in readers)
        return real_tables(readers, max_rows)

    monkeypatch.setattr(pq.ParquetFile, "read", counted)
    monkeypatch.setattr(arrowread, "_read", counted_tables)
    ctx = Context(starter)
    result = ctx.run()
    assert result.ok
    built = [s for s in result.steps if s.status == "built"]
    assert built and len(reads) == len(built)  # one read per version, not two
    for s in built:
        prof = ctx.metastore.version(s.version_id)
        stored = mp.load_profile(ctx.metastore, prof.id)
        assert stored is not None and stored["engine"] == "arrow"
        assert stored["rows"] == prof.row_count


def test_versions_of_extreme_floats_publish_with_a_drift_check(starter: Path):
    """Doubles spanning more than a double can hold are profiled, gated and published."""
    write(starter, "models/marts/extreme.sql", """\
        SELECT CASE WHEN range % 2 = 0 THEN 1.7e308 ELSE -1.7e308 END AS wide,
               range::DOUBLE * 1e306 AS big FROM range(50)
        """)
    write(starter, "models/marts/extreme.yml", """\
        description: Doubles at the edge of their range.
        owner: data-team@example.com
        checks:
          - drift: {column: big, metric: ks, threshold: 0.99}
          - drift: {column: wide, metric: psi, severity: warn}
        """)
    for _ in range(2):
        result = Context(starter).run()
        assert result.ok, [s.error for s in result.steps if s.error]
    write(starter, "models/marts/extreme.sql", """\
        SELECT CASE WHEN range % 2 = 0 THEN 1.7e308 ELSE -1.7e308 END AS wide,
               range::DOUBLE * 1e306 AS big FROM range(60)
        """)
    ctx = Context(starter)
    assert ctx.run().ok
    prof = Profiles(ctx.metastore, ctx.store, ctx.engine).of_version(
        ctx.current()["marts.extreme"], compute=False)  # (stored by the run)
    assert prof is not None and prof["rows"] == 60
    assert prof["columns"]["big"]["mean"] == pytest.approx(2.95e307, rel=1e-12)
