"""Engines for the conformance suite: DuckDB, and Spark in local mode sharing one session
per test process (every SparkEngine of the process reuses it: ``getOrCreate``)."""

from __future__ import annotations

import shutil

import pytest
from ehelpers import SPARK_YAML


@pytest.fixture(scope="session")
def spark_session(tmp_path_factory: pytest.TempPathFactory):
    """The one Spark session of this test process."""
    if shutil.which("java") is None:
        pytest.fail("the Spark half of the suite needs Java 17: run scripts/system-deps.sh")
    from steward.core.spec import SparkEngineSpec
    from steward.engine.spark import SparkEngine

    root = tmp_path_factory.mktemp("spark")
    (root / "steward.yaml").write_text("name: s\n" + SPARK_YAML)
    spec = SparkEngineSpec(type="spark", conf={"spark.sql.shuffle.partitions": 2,
                                               "spark.ui.enabled": False,
                                               "spark.default.parallelism": 2})
    engine = SparkEngine(spec, str(root))
    engine.start()
    yield engine.session
    engine.stop()


@pytest.fixture(params=["duckdb", "spark"])
def engine_type(request: pytest.FixtureRequest) -> str:
    if request.param == "spark":
        request.getfixturevalue("spark_session")
    return str(request.param)
