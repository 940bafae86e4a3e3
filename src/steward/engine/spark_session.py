"""Starting a Spark session for ``engine: {type: spark}``, or saying why it cannot start.

Whatever goes wrong — PySpark not installed, no Java, a session that does not start, a
Spark Connect server that does not answer — is one :class:`ConfigError` at the
``engine:`` line of ``steward.yaml`` saying what to do, never a JVM stack trace.

The JVM a local or cluster session starts writes its output (the JVM's own warnings,
Spark's log at level ERROR) to ``.steward/spark.log``, not to the user's terminal:
Steward reports what failed itself, and ``--json`` output stays one document a line.
The log is rolled over by size (:data:`LOG_BYTES`, :data:`LOG_KEEP` older files): by
log4j's appender while a session runs, and when a session starts.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
from typing import Any

from steward.core.errors import ConfigError, Problem
from steward.core.spec import SparkEngineSpec

# Settings that make Spark read and write what DuckDB does: UTC, timestamps without a
# zone as TIMESTAMP (not INT96), zstd, no _SUCCESS marker, and DuckDB's NULL on a
# division by zero. ``conf`` in steward.yaml overrides any of them.
DEFAULT_CONF: dict[str, str] = {
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.ansi.enabled": "false",
    "spark.hadoop.mapreduce.fileoutputcommitter.marksuccessfuljobs": "false",
    "spark.hadoop.parquet.enable.summary-metadata": "false",
    "spark.sql.sources.partitionOverwriteMode": "static",
}
# only for a session this process starts (local or a cluster master), not Spark Connect
LOG_CONFIG = os.path.join(os.path.dirname(__file__), "spark_log4j2.properties")
LOCAL_CONF: dict[str, str] = {
    "spark.ui.showConsoleProgress": "false",
}
# .steward/spark.log is rolled over past this size, keeping this many older files
# (spark.log.1 is the newest of them): Spark's log by its log4j appender while a
# session runs, the file as a whole when a session starts
LOG_BYTES = 5 * 2**20
LOG_KEEP = 3

CONNECT_TIMEOUT = 5.0  # seconds to open a connection to a Spark Connect server
INSTALL_JAVA = ("install Java 17 (Debian/Ubuntu: apt-get install openjdk-17-jre-headless; "
                "or run scripts/system-deps.sh), or set JAVA_HOME to a Java 17 installation")


def _problem(root: str, message: str, hint: str, *loc: str) -> ConfigError:
    from steward.project.locate import declared_line
    from steward.project.paths import PROJECT_FILE

    line = declared_line(root, ("engine", *loc)) or declared_line(root, ("engine",))
    return ConfigError([Problem(PROJECT_FILE, line, message, hint)])


def java_problem() -> tuple[str, str] | None:
    """(what is wrong, what to do) when no usable ``java`` can be found, else None."""
    home = os.environ.get("JAVA_HOME")
    if home:
        exe = os.path.join(home, "bin", "java")
        if not os.access(exe, os.X_OK):
            return (f"engine spark needs Java, and JAVA_HOME={home} holds no bin/java",
                    INSTALL_JAVA)
        return None
    if shutil.which("java") is None:
        return ("engine spark needs Java 17, and no 'java' is on the PATH (JAVA_HOME is "
                "not set)", INSTALL_JAVA)
    return None


def start_session(spec: SparkEngineSpec, root: str) -> Any:
    """A Spark session as ``spec`` says: local/cluster (``master``) or Spark Connect."""
    import warnings

    # (PySpark warns about the pandas version when imported; Steward hands it no pandas)
    warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas",
                            category=FutureWarning)
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise _problem(root, "engine spark needs PySpark, which is not installed",
                       "pip install 'datasteward[spark]'", "type") from None
    conf = {**DEFAULT_CONF, **{k: _text(v) for k, v in spec.conf.items()}}
    if spec.remote:
        return _connect(spec, root, conf)
    problem = java_problem()
    if problem:
        raise _problem(root, *problem, "type")
    builder = SparkSession.builder.master(spec.master).appName(spec.app_name)
    log = log_path(root)
    settings = {**LOCAL_CONF, **conf}
    settings["spark.driver.extraJavaOptions"] = " ".join(filter(None, [
        _java_options(log), settings.get("spark.driver.extraJavaOptions", "")]))
    for k, v in settings.items():
        builder = builder.config(k, v)
    os.makedirs(os.path.dirname(log), exist_ok=True)
    rotate_log(log)  # (what the JVM writes itself, and the log of earlier sessions)
    try:
        _launch_jvm(settings, spec, log)
        session = builder.getOrCreate()
    except Exception as e:  # the JVM did not start, or refused a setting
        raise _problem(root, f"the Spark session did not start (master {spec.master}): "
                       f"{_first_line(e)}",
                       "check engine.master and engine.conf; Spark needs Java 17 "
                       f"(Spark's own log: {os.path.relpath(log, root)})",
                       "master") from None
    session.sparkContext.setLogLevel("ERROR")
    return session


def log_path(root: str) -> str:
    """Where the JVM's output goes: ``.steward/spark.log`` of the project."""
    from steward.project.paths import STATE_DIR

    return os.path.join(root, STATE_DIR, "spark.log")


def _java_options(log: str) -> str:
    """The JVM options that send Spark's log to ``log`` (quoted: a path may hold spaces)."""
    props = {"log4j2.configurationFile": f"file:{LOG_CONFIG}", "steward.spark.log": log,
             "steward.spark.log.bytes": str(LOG_BYTES), "steward.spark.log.keep": str(LOG_KEEP)}
    return " ".join(f'"-D{k}={v}"' for k, v in props.items())


def rotate_log(path: str, max_bytes: int = LOG_BYTES, keep: int = LOG_KEEP) -> None:
    """Roll ``path`` over when it holds ``max_bytes`` or more: ``path.1`` ... ``path.<keep>``
    (the newest first), the oldest dropped; ``path`` then starts empty."""
    try:
        if os.path.getsize(path) < max_bytes:
            return
    except OSError:
        return
    for i in range(keep - 1, 0, -1):
        older = f"{path}.{i}"
        if os.path.exists(older):
            os.replace(older, f"{path}.{i + 1}")
    if keep > 0:
        os.replace(path, f"{path}.1")
    else:
        os.remove(path)


def _launch_jvm(settings: dict[str, str], spec: SparkEngineSpec, log: str) -> None:
    """Start the JVM (PySpark's gateway) with its stdout and stderr in ``log``, unless
    this process already has one (a session started earlier and stopped reuses it)."""
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway

    if SparkContext._gateway is not None:
        return
    conf = SparkConf(loadDefaults=False).setMaster(spec.master).setAppName(spec.app_name)
    for k, v in settings.items():
        conf.set(k, v)
    with open(log, "ab") as out:  # (the JVM keeps its own descriptor)
        gateway = launch_gateway(conf, popen_kwargs={"stdout": out, "stderr": out})
    SparkContext._ensure_initialized(gateway=gateway, conf=conf)


def _connect(spec: SparkEngineSpec, root: str, conf: dict[str, str]) -> Any:
    from pyspark.sql import SparkSession

    assert spec.remote
    hint = ("check that the server runs and engine.remote names its host and port "
            "(sc://host:15002)")
    host, port = _address(spec.remote)
    try:  # the client retries for minutes; a closed port is said at once
        socket.create_connection((host, port), timeout=CONNECT_TIMEOUT).close()
    except OSError as e:
        raise _problem(root, f"the Spark Connect server {spec.remote} is unreachable: "
                       f"{e.strerror or e}", hint, "remote") from None
    try:
        builder = SparkSession.builder.remote(spec.remote)
        session = builder.getOrCreate()
        for k, v in conf.items():
            if not k.startswith("spark.hadoop."):  # static settings belong to the server
                session.conf.set(k, v)
        session.sql("SELECT 1").collect()  # Spark Connect connects on the first request
    except ImportError as e:
        raise _problem(root, f"Spark Connect needs more packages: {e}",
                       "pip install 'pyspark[connect]'", "remote") from None
    except Exception as e:
        raise _problem(root, f"the Spark Connect server {spec.remote} did not answer: "
                       f"{_first_line(e)}", hint, "remote") from None
    return session


def _address(url: str) -> tuple[str, int]:
    """(host, port) of ``sc://host[:port][/;params]`` (Spark Connect's port: 15002)."""
    rest = url.removeprefix("sc://").split("/", 1)[0].split(";", 1)[0]
    m = re.fullmatch(r"\[(?P<v6>[^\]]+)\](?::(?P<p6>\d+))?|(?P<host>[^:]+)(?::(?P<port>\d+))?",
                     rest)
    if not m:
        return rest, 15002
    host = m.group("v6") or m.group("host")
    port = m.group("p6") or m.group("port")
    return host, int(port) if port else 15002


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _first_line(e: Exception) -> str:
    text = next((ln.strip() for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
    return text[:300]
