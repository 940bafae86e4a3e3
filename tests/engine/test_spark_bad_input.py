"""Bad input for the Spark engine: each is one clear message, exit code 2, and loses
nothing already published."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from ehelpers import use_engine

from tests.conftest import published_state, steward

BIN = str(Path(sys.executable).parent)


def _spark(root: Path, extra: str = "") -> None:
    path = root / "steward.yaml"
    use_engine(root, "duckdb")
    text = path.read_text().replace("engine: {type: duckdb}\n", "")
    path.write_text(text + "engine:\n  type: spark\n" + extra)


def _clean(err: str) -> None:
    assert "Traceback" not in err and "py4j" not in err.lower(), err
    # the JVM's and Spark's own start-up lines go to .steward/spark.log
    assert "log level" not in err and "incubator" not in err and " WARN " not in err, err


def test_java_missing_says_what_to_install(starter: Path) -> None:
    _spark(starter)
    # JAVA_HOME pointing nowhere
    code, _, err = steward(starter, "run", env={"JAVA_HOME": str(starter / "no-java")})
    assert code == 2, err
    assert "steward.yaml:" in err and "holds no bin/java" in err
    assert "openjdk-17-jre-headless" in err
    _clean(err)
    # no JAVA_HOME and no java on the PATH
    code, _, err = steward(starter, "run", env={"JAVA_HOME": None, "PATH": BIN})
    assert code == 2, err
    assert "no 'java' is on the PATH" in err and "openjdk-17-jre-headless" in err
    _clean(err)
    assert published_state(starter)[0] == []  # nothing was built or pointed at


def test_an_unreachable_spark_connect_server_is_one_message(starter: Path) -> None:
    # built on DuckDB first: what is published must stay as it was
    assert steward(starter, "run")[0] == 0
    before = published_state(starter)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    _spark(starter, f"  remote: sc://127.0.0.1:{port}\n")
    sql = starter / "models" / "marts" / "daily_revenue.sql"
    sql.write_text(sql.read_text().replace("order by order_date", "order by order_date desc"))
    code, _, err = steward(starter, "run")
    assert code == 2, err
    line = starter.joinpath("steward.yaml").read_text().splitlines().index(
        f"  remote: sc://127.0.0.1:{port}") + 1
    assert (f"steward.yaml:{line}: the Spark Connect server sc://127.0.0.1:{port} is "
            "unreachable") in err, err
    assert "sc://host:15002" in err
    _clean(err)
    assert published_state(starter) == before


def test_a_construct_spark_cannot_run_is_refused_at_load(starter: Path) -> None:
    sql = starter / "models" / "marts" / "daily_revenue.sql"
    sql.write_text("select o.order_date, count(*) as orders, sum(o.amount) as revenue\n"
                   "from staging.orders o\n"
                   "asof join staging.orders p on o.order_date >= p.order_date\n"
                   "group by o.order_date\n")
    _spark(starter)
    code, _, err = steward(starter, "run")
    assert code == 2, err
    assert "models/marts/daily_revenue.sql:3: marts.daily_revenue: ASOF JOIN is DuckDB only" \
        in err
    _clean(err)


def test_a_type_only_duckdb_has_is_refused_at_load(starter: Path) -> None:
    sql = starter / "models" / "staging" / "orders.sql"
    sql.write_text("select order_id, customer, amount,\n"
                   "  cast(ordered_at as date) as order_date,\n"
                   "  cast(order_id as UTINYINT) as small_id\n"
                   "from raw.orders\n")
    assert steward(starter, "plan")[0] == 0  # DuckDB has the type
    _spark(starter)
    code, _, err = steward(starter, "plan")
    assert code == 2, err
    assert "models/staging/orders.sql:3: staging.orders: the type UTINYINT exists in DuckDB " \
        "only" in err
    _clean(err)


PROBE = """
import json, sys
sys.argv = ["steward", *json.loads(sys.argv[1])]
from steward.cli.entry import main
try:
    main()
except SystemExit as e:
    code = e.code
sys.stdout.flush()
sys.stderr.write("\\nPYSPARK=%s\\n" % ("pyspark" in sys.modules))
"""


def _pyspark_imported(root: Path, *args: str) -> bool:
    import json
    import subprocess

    p = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], cwd=root,
                       capture_output=True, text=True, timeout=120)
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("PYSPARK="), p.stderr
    return last == "PYSPARK=True"


def test_help_and_a_run_with_nothing_to_build_never_import_pyspark(starter: Path) -> None:
    assert steward(starter, "run")[0] == 0  # built on DuckDB
    _spark(starter)
    assert not _pyspark_imported(starter, "--help")
    assert not _pyspark_imported(starter, "run")  # the engine changed, nothing to build
    assert not _pyspark_imported(starter, "run")  # the no-op fast path
    assert not _pyspark_imported(starter, "sql", "select count(*) from marts.daily_revenue")


def test_a_spark_build_killed_mid_write_leaves_nothing_visible(starter: Path,
                                                               spark_session) -> None:
    from steward.context import Context

    _spark(starter, '  conf: {spark.sql.shuffle.partitions: 2, spark.ui.enabled: false}\n')
    # killed (kill -9) after Spark wrote staging.orders, before its files were moved in
    import os
    import subprocess

    exe = [sys.executable, "-m", "steward.cli.main", "run"]
    p = subprocess.run(exe, cwd=starter, capture_output=True, text=True, timeout=900,
                       env={**os.environ, "STEWARD_FAULT": "spark.after_write"})
    assert p.returncode == -9, (p.returncode, p.stderr[-2000:])
    _clean(p.stderr)  # the user's terminal got none of the JVM's output: its log did
    assert (starter / ".steward" / "spark.log").stat().st_size > 0
    pointers, versions, _ = published_state(starter)
    assert pointers == []
    assert {status for _, status, _ in versions} <= {"building", "published"}
    # the next run recovers (its scratch removed) and builds everything
    ctx = Context(starter)
    result = ctx.run()
    assert result.ok, [(s.product, s.error) for s in result.steps]
    assert ctx.verify().ok
    store = starter / ".steward" / "store"
    assert not list(store.rglob(".spark-*"))
    assert ctx.sql("select count(*) as n from marts.daily_revenue").to_pylist() == [{"n": 3}]


def test_engine_settings_are_checked_per_engine(starter: Path) -> None:
    path = starter / "steward.yaml"
    base = path.read_text()
    line = len(base.splitlines()) + 1
    for engine, want in [
        ("{type: sparkk}", f"steward.yaml:{line}: unknown engine type 'sparkk': duckdb or spark"),
        ("{type: spark, threads: 4}", "unknown key 'threads' (at engine.threads)"),
        ('{type: spark, remote: "http://h:1"}', "engine.remote: String should match"),
    ]:
        path.write_text(base + f"engine: {engine}\n")
        code, _, err = steward(starter, "plan")
        assert code == 2 and want in err, err
        _clean(err)


def test_a_spark_session_that_cannot_start_is_one_message(starter: Path) -> None:
    _spark(starter, "  master: nowhere://cluster\n")
    code, _, err = steward(starter, "run")
    assert code == 2, err
    line = starter.joinpath("steward.yaml").read_text().splitlines().index(
        "  master: nowhere://cluster") + 1
    assert f"steward.yaml:{line}: the Spark session did not start (master nowhere://cluster)" \
        in err, err
    _clean(err)
    assert published_state(starter)[0] == []


def test_a_construct_sqlglot_cannot_transpile_is_refused_at_load(starter: Path) -> None:
    sql = starter / "models" / "marts" / "daily_revenue.sql"
    sql.write_text("select o.order_date, u.*\n"
                   "from staging.orders o,\n"
                   "  unnest([1, 2]) u\n")
    assert steward(starter, "plan")[0] == 0  # DuckDB runs it
    _spark(starter)
    code, _, err = steward(starter, "plan")
    assert code == 2, err
    assert "models/marts/daily_revenue.sql:" in err and "marts.daily_revenue" in err, err
    assert "cannot be transpiled faithfully to Spark SQL" in err, err
    _clean(err)


def _published(root: Path) -> tuple[list, list]:
    pointers, versions, _ = published_state(root)
    return pointers, [v for v in versions if v[1] == "published"]


def test_a_spark_job_failing_mid_write_publishes_nothing_and_the_next_run_recovers(
        starter: Path, spark_session) -> None:
    from steward.context import Context

    _spark(starter, '  conf: {spark.sql.shuffle.partitions: 2, spark.ui.enabled: false}\n')
    assert Context(starter).run().ok
    before = _published(starter)
    csv = starter / "data" / "orders.csv"
    good = csv.read_text()
    rows = "".join(f"{i},Ada,{i}.5,2026-01-0{1 + i % 9} 10:00:00\n" for i in range(10, 20010))
    # Spark's reader meets a value that is no DOUBLE after writing 20,000 rows: the job fails
    csv.write_text(good + rows + "20010,Ada,lots,2026-01-02 10:00:00\n")
    ctx = Context(starter)
    step = {s.product: s for s in ctx.run().steps}["raw.orders"]
    assert step.status == "failed"
    assert "data/orders.csv:" in step.error and "lots" in step.error, step.error
    assert _published(starter) == before  # nothing new published, nothing moved
    store = starter / ".steward" / "store"
    assert not list(store.rglob(".spark-*")) and not list(store.rglob("_temporary"))
    # the file fixed, the next run builds it and what depends on it
    csv.write_text(good + rows)
    ctx = Context(starter)
    result = ctx.run()
    assert result.ok, [(s.product, s.error) for s in result.steps]
    assert ctx.sql("select count(*) as n from raw.orders").to_pylist() == [
        {"n": 20000 + len(good.splitlines()) - 1}]
    assert ctx.verify().ok


def test_a_type_only_spark_has_is_one_message(starter: Path, spark_session) -> None:
    from steward.context import Context

    sql = starter / "models" / "marts" / "ages.sql"
    sql.write_text("select order_id, order_date - date '2026-01-01' as age\n"
                   "from staging.orders\n")
    ctx = Context(starter)
    assert ctx.run().ok  # DuckDB: a date minus a date is a number of days
    assert ctx.current()["marts.ages"].schema[1].type == "BIGINT"
    before = _published(starter)
    _spark(starter, '  conf: {spark.sql.shuffle.partitions: 2, spark.ui.enabled: false}\n')
    sql.write_text(sql.read_text() + "where order_id > 0\n")
    ctx = Context(starter)
    step = {s.product: s for s in ctx.run().steps}["marts.ages"]
    assert step.status == "failed"
    assert step.error.startswith("models/marts/ages.sql: column 'age' is INTERVAL DAY"), \
        step.error
    assert "cast it" in step.error
    assert _published(starter) == before
