"""The Spark engine's own costs: versions read without a schema-inference job, profiles
of large versions in two aggregations, and a JVM log that does not grow without bound."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pytest

from steward.core.spec import SparkEngineSpec
from steward.engine.spark import SparkEngine
from steward.engine.spark_schema import parquet_schema
from steward.engine.spark_session import rotate_log, start_session

# DuckDB types and the Spark type each should be read as (None: Spark infers it)
TYPES = {
    "ti": "1::TINYINT", "si": "2::SMALLINT", "i": "3::INTEGER", "bi": "4::BIGINT",
    "f": "1.5::FLOAT", "d": "2.5::DOUBLE", "s": "'x'", "b": "true",
    "dt": "DATE '2026-01-02'", "ts": "TIMESTAMP '2026-01-02 03:04:05.123456'",
    "tz": "TIMESTAMPTZ '2026-01-02 03:04:05+00'", "dec": "1.25::DECIMAL(9, 2)",
    "wide": "1.25::DECIMAL(38, 10)", "arr": "[1, 2]", "st": "{'a': 1, 'b': 'x'}",
    "mp": "MAP {'k': 1}", "nested": "[{'a': [DATE '2026-01-01']}]",
}


def _engine(root: Path, spark_session: Any) -> SparkEngine:
    (root / "steward.yaml").write_text("name: t\n")
    engine = SparkEngine(SparkEngineSpec(type="spark"), str(root))
    engine._session = spark_session
    return engine


def _jobs(engine: SparkEngine) -> int:
    return len(engine.session.sparkContext.statusTracker().getJobIdsForGroup(None))


def test_a_version_is_read_with_the_schema_spark_would_infer(tmp_path: Path,
                                                            spark_session: Any) -> None:
    engine = _engine(tmp_path, spark_session)
    path = str(tmp_path / "all.parquet")
    select = ", ".join(f"{v} AS {k}" for k, v in TYPES.items())
    duckdb.sql(f"COPY (SELECT {select}) TO '{path}' (FORMAT parquet)")
    given = parquet_schema([path])
    assert given is not None  # every type above is mapped: no inference job
    inferred = spark_session.read.parquet(path).schema
    assert given.simpleString() == inferred.simpleString()
    assert [f.nullable for f in given.fields] == [f.nullable for f in inferred.fields]
    before = _jobs(engine)
    df = engine.read([path])
    assert _jobs(engine) == before  # the footer was read here, not by a Spark job
    assert [tuple(r) for r in df.select("bi", "s", "dt").collect()] == [
        (4, "x", __import__("datetime").date(2026, 1, 2))]


@pytest.mark.parametrize("value", ["1::UTINYINT", "1::UBIGINT", "TIME '01:02:03'",
                                   "TIMESTAMP_NS '2026-01-01 00:00:00'", "'x'::BLOB"])
def test_a_type_without_a_certain_spark_equal_is_left_to_spark(tmp_path: Path,
                                                               value: str) -> None:
    path = str(tmp_path / "odd.parquet")
    duckdb.sql(f"COPY (SELECT 1 AS a, {value} AS b) TO '{path}' (FORMAT parquet)")
    assert parquet_schema([path]) is None


def test_files_of_different_schemas_are_left_to_spark(tmp_path: Path) -> None:
    a, b = str(tmp_path / "a.parquet"), str(tmp_path / "b.parquet")
    duckdb.sql(f"COPY (SELECT 1 AS x) TO '{a}' (FORMAT parquet)")
    duckdb.sql(f"COPY (SELECT 1::BIGINT AS x) TO '{b}' (FORMAT parquet)")
    assert parquet_schema([a, b]) is None
    assert parquet_schema([a, a]) is not None
    assert parquet_schema([str(tmp_path / "missing.parquet")]) is None


def test_a_sql_product_is_one_spark_job(starter: Path, spark_session: Any) -> None:
    """Reading the inputs and analysing the query start no job; the write is the one."""
    from ehelpers import use_engine

    from steward.context import Context

    use_engine(starter, "spark")
    ctx = Context(starter)
    assert ctx.run().ok
    product = ctx.project["staging.orders"]
    current = ctx.current()
    files = {i: ctx.store.data_files(current[i].path) for i in product.inputs}
    out = starter / "rebuild"
    (out / "data").mkdir(parents=True)
    engine = ctx.engine
    before = _jobs(engine)
    result = engine.build(product, files, str(out))
    assert _jobs(engine) - before == 1
    assert result.rows == current["staging.orders"].row_count
    assert result.schema == current["staging.orders"].schema


def _big(path: str, rows: int) -> None:
    duckdb.sql(textwrap.dedent(f"""
        COPY (SELECT range AS id, (range % 500)::INTEGER AS small,
                     DATE '2020-01-01' + (range % 1000)::INTEGER AS day,
                     (hash(range) % 100000) / 7.0 AS x,
                     CASE WHEN range % 10 = 0 THEN NULL ELSE 'g' || (range % 7) END AS grp,
                     'id-' || range AS name
              FROM range({rows})) TO '{path}' (FORMAT parquet, ROW_GROUP_SIZE 50000)"""))


def test_a_large_profile_on_spark_is_two_aggregations_and_agrees_with_duckdb(
        tmp_path: Path, spark_session: Any) -> None:
    from steward.core.spec import EngineSpec
    from steward.engine.duckdb import DuckDBEngine
    from steward.profile.compute import compute_profile

    path = str(tmp_path / "big.parquet")
    _big(path, 150_000)  # above the in-process profile's 100,000 rows
    engine = _engine(tmp_path, spark_session)
    queries: list[str] = []
    for name in ("first", "rows"):
        method = getattr(engine, name)
        setattr(engine, name, lambda q, m=method: (queries.append(str(q)), m(q))[1])
    spark = compute_profile(engine, [path])
    duck = compute_profile(DuckDBEngine(EngineSpec(), str(tmp_path)), [path])
    assert spark["engine"] == duck["engine"] == "duckdb"  # (the SQL path, on each engine)
    # the aggregate scan and the grouping scan (a DESCRIBE is analysed, never run)
    scans = [q for q in queries if not q.startswith("DESCRIBE")]
    assert len(scans) == 2, scans
    assert spark["rows"] == duck["rows"] == 150_000
    for name, d in duck["columns"].items():
        s = spark["columns"][name]
        for key in ("count", "nulls", "min", "max", "histogram", "top", "exact"):
            assert s.get(key) == d.get(key), (name, key, s.get(key), d.get(key))
        if d.get("mean") is not None:
            assert s["mean"] == pytest.approx(d["mean"], rel=1e-9), name
        if s.get("distinct_approx"):  # Spark's sketch, in its one scan
            assert s["distinct"] == pytest.approx(d["distinct"], rel=0.02), name
        else:
            assert s["distinct"] == d["distinct"], name
    assert spark["columns"]["x"]["distinct_approx"] is True
    assert spark["columns"]["small"]["exact"] is True
    assert spark["columns"]["name"]["unique"] is True


def test_the_spark_log_is_rolled_over_by_size(tmp_path: Path) -> None:
    log = tmp_path / "spark.log"
    for i in range(6):
        with open(log, "ab") as f:
            f.write(b"x" * 60)
        rotate_log(str(log), max_bytes=100, keep=2)
        with open(log, "ab") as f:
            f.write(f"line {i}\n".encode())
    names = sorted(os.listdir(tmp_path))
    assert names == ["spark.log", "spark.log.1", "spark.log.2"]
    assert all((tmp_path / n).stat().st_size < 200 for n in names)
    assert b"line 5" in log.read_bytes() and b"line 4" in (tmp_path / "spark.log.1").read_bytes()


def test_a_session_start_rolls_an_oversized_log_over(starter: Path, spark_session: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    from steward.engine import spark_session as ss

    log = starter / ".steward" / "spark.log"
    log.parent.mkdir(exist_ok=True)
    log.write_bytes(b"old\n" * 1000)
    monkeypatch.setattr(ss, "LOG_BYTES", 1000)
    monkeypatch.setattr(ss.rotate_log, "__defaults__", (1000, ss.LOG_KEEP))
    session = start_session(SparkEngineSpec(type="spark", conf={"spark.ui.enabled": False}),
                            str(starter))
    assert session is spark_session  # (the test process's one session)
    assert (starter / ".steward" / "spark.log.1").read_bytes() == b"old\n" * 1000
    assert not log.exists() or log.stat().st_size < 1000


ROLLING = """
import sys
from steward.engine import spark_session as ss
ss.LOG_BYTES = 4000
from steward.core.spec import SparkEngineSpec
root = sys.argv[1]
s = ss.start_session(SparkEngineSpec(type="spark", conf={"spark.ui.enabled": False}), root)
for i in range(12):  # each failing task is logged at ERROR with its stack trace
    try:
        s.sql("select raise_error('boom %d') from range(1)" % i).collect()
    except Exception:
        pass
s.stop()
"""


@pytest.mark.slow
def test_spark_log4j_rolls_the_log_over_while_a_session_runs(tmp_path: Path) -> None:
    (tmp_path / "steward.yaml").write_text("name: t\nengine: {type: spark}\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", ROLLING, str(tmp_path)], check=True, env=env,
                   capture_output=True, timeout=600)
    state = tmp_path / ".steward"
    logs = sorted(p.name for p in state.iterdir() if p.name.startswith("spark.log"))
    assert logs == ["spark.log", "spark.log.1", "spark.log.2", "spark.log.3"], logs
    text = b"".join((state / n).read_bytes() for n in logs)
    assert b"boom 11" in text  # the newest error kept
    assert b"boom 0" not in text  # the oldest dropped
    for n in logs:  # each at most about the size (a line may finish past it)
        assert (state / n).stat().st_size < 4000 + 20_000, n
