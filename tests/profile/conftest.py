"""Helpers for profile tests: Parquet files written by DuckDB from a SELECT."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest

from steward.profile.compute import compute_profile


@pytest.fixture
def con() -> Any:
    c = duckdb.connect()
    c.execute("SET threads = 1")  # random() after setseed repeats only on one thread
    yield c
    c.close()


@pytest.fixture
def engine(tmp_path: Path) -> Any:
    """Steward's DuckDB engine: what profiles and checks run their queries on."""
    from steward.core.spec import EngineSpec
    from steward.engine.duckdb import DuckDBEngine

    return DuckDBEngine(EngineSpec(), str(tmp_path))


@pytest.fixture
def table(tmp_path: Path, con: Any) -> Any:
    """``table(select_sql) -> [parquet file]``."""
    n = [0]

    def make(select: str) -> list[str]:
        n[0] += 1
        path = tmp_path / f"t{n[0]}.parquet"
        con.execute(f"COPY ({select}) TO '{path}' (FORMAT parquet)")
        return [str(path)]

    return make


@pytest.fixture(params=["duckdb", "arrow"])
def profile_of(engine: Any, table: Any, request: pytest.FixtureRequest) -> Any:
    """``profile_of(select_sql) -> profile dict``, by each path (DuckDB scans, in process)."""
    return lambda select: compute_profile(engine, table(select), method=request.param)
