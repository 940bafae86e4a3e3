"""Apache Spark as Steward's engine, for data that outgrows one machine.

The same project, the same versions: a SQL product is written in Steward's dialect,
transpiled by sqlglot to Spark SQL (:mod:`steward.sql.spark`), each input version's
Parquet files are read as a view, and the result is written as Parquet part files into
the version's scratch ``data/`` folder (``part-00000.parquet`` ...; no ``_SUCCESS`` or
``.crc`` files), which the store publishes atomically as for DuckDB. Checks, contracts
and profiles send the same queries; they are transpiled the same way.

File sources are read by Spark's readers, with the columns, types and CSV dialect that
DuckDB's sniffer finds on a sample (:mod:`steward.engine.spark_files`), so they hold what
the DuckDB engine would have read; what Spark cannot read alike (quarantine, zip files,
DuckDB-only reader options ...) is read by the embedded DuckDB engine, and the run says
so in a note. What does not need a cluster does not use one: a version's schema is read
from its Parquet footers in DuckDB's type names (so a schema is the same whichever
engine built the version), and ``steward sql``, ``env views`` and exports read versions
with DuckDB. Python products run as on every engine (:mod:`steward.engine.pyrunner`).

The session starts on first use (:meth:`SparkEngine.start`), never for a run with nothing
to build: ``pyspark`` is imported only then.
"""

from __future__ import annotations

import os
import shutil
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from functools import cached_property
from typing import Any

from steward.core import faults
from steward.core.errors import BuildError, StewardError
from steward.core.model import Product
from steward.core.records import Column
from steward.core.spec import EngineSpec, SparkEngineSpec
from steward.engine import pyrunner
from steward.engine.base import BuildResult, Query
from steward.sql.spark import SparkSqlError, to_spark


class SparkEngine:
    name = "spark"
    dialect = "spark"
    # Profiles of large versions count distinct values with this sketch in their one
    # aggregate scan (Steward's dialect; ``{0}`` the column): Spark runs count(DISTINCT)
    # of several columns by copying every row once per column, which was most of a
    # profile's time. DataSketches' HLL (lgK 16: 0.4 % relative standard error) of each
    # value's 64-bit hash; Spark's approx_count_distinct at that precision was 25 times
    # slower (its registers are columns of the aggregate's row, copied for every row).
    distinct_in_scan = ("hll_sketch_estimate(hll_sketch_agg("
                        "CASE WHEN {0} IS NOT NULL THEN hash({0}) END, 16))")

    def __init__(self, spec: SparkEngineSpec, root: str):
        self.spec = spec
        self.root = root
        self._session: Any = None
        self._lock = threading.Lock()

    # -- the session -----------------------------------------------------------------
    def start(self) -> None:
        """Start the Spark session now (a :class:`ConfigError` if it cannot start)."""
        _ = self.session

    @property
    def session(self) -> Any:
        with self._lock:
            if self._session is None:
                from steward.engine.spark_session import start_session

                self._session = start_session(self.spec, self.root)
            return self._session

    def stop(self) -> None:
        with self._lock:
            if self._session is not None:
                self._session.stop()
                self._session = None

    @cached_property
    def local(self) -> Any:
        """The embedded DuckDB engine, for what reads local files only."""
        from steward.engine.duckdb import DuckDBEngine

        return DuckDBEngine(EngineSpec(), self.root)

    # -- queries from other layers ---------------------------------------------------
    def dataframe(self, query: Query) -> tuple[Any, bool]:
        """``query`` (Steward's dialect) as a Spark DataFrame over its versions' files, and
        whether it was a ``DESCRIBE`` (the frame is then the described query's)."""
        df, q = self._frame(query, "query")
        return df, q.describe

    def _frame(self, sql: str, where: str) -> tuple[Any, Any]:
        """(Spark DataFrame, the transpiled query) of ``sql`` in Steward's dialect, its
        versions registered as views; a failure is a BuildError starting with ``where``."""
        spark = self.session
        try:
            q = to_spark(sql, self._columns_of)
            self._register(q.scans)
            return spark.sql(q.sql), q
        except SparkSqlError as e:
            raise BuildError(f"{where}: {e}") from None
        except Exception as e:
            raise BuildError(f"{where}: {spark_error(e)}") from None

    def _register(self, scans: Mapping[str, list[str]]) -> None:
        for view, files in scans.items():
            self.read(files).createOrReplaceTempView(view)

    def read(self, files: list[str]) -> Any:
        """A version's Parquet files as a DataFrame; with the schema read from their
        footers here, so Spark starts no job to infer it (:mod:`.spark_schema`)."""
        from steward.engine.spark_schema import parquet_schema

        schema = parquet_schema(files)
        reader = self.session.read
        return (reader if schema is None else reader.schema(schema)).parquet(*files)

    def _columns_of(self, scans: Mapping[str, list[str]], sql: str) -> list[str]:
        """The columns a Spark SQL query returns (analysed, not run)."""
        self._register(scans)
        return list(self.session.sql(sql).columns)

    def _run(self, query: Query, what: str) -> Any:
        df, describe = self.dataframe(query)
        try:
            if describe:  # DESCRIBE <query>: DuckDB's columns
                rows = [(f.name, duckdb_type(f.dataType), "YES", None, None, None)
                        for f in df.schema.fields]
                return rows if what == "rows" else (rows[0] if rows else None)
            if what == "rows":
                return [tuple(_plain(v) for v in r) for r in df.collect()]
            if what == "first":
                got = df.take(1)
                return tuple(_plain(v) for v in got[0]) if got else None
            if what == "record":
                got = df.take(1)
                return ({c: _plain(v) for c, v in zip(df.columns, got[0], strict=True)}
                        if got else {})
            return df.toArrow()
        except StewardError:
            raise
        except Exception as e:
            raise BuildError(f"query: {spark_error(e)}") from None

    def rows(self, query: Query) -> list[tuple[Any, ...]]:
        """Every row of ``query``."""
        return self._run(query, "rows")  # type: ignore[no-any-return]

    def first(self, query: Query) -> tuple[Any, ...] | None:
        """The first row of ``query``, or None."""
        return self._run(query, "first")  # type: ignore[no-any-return]

    def record(self, query: Query) -> dict[str, Any]:
        """The first row of ``query`` as column name -> value ({} for none)."""
        return self._run(query, "record")  # type: ignore[no-any-return]

    def arrow(self, query: Query) -> Any:
        """``query``'s result as an Arrow table."""
        return self._run(query, "arrow")

    def copy(self, query: Query, out: str) -> int:
        """Write ``query``'s result to the Parquet file ``out``; returns its rows."""
        df, _ = self.dataframe(query)
        folder = os.path.dirname(os.path.abspath(out))
        files = self._write(df.coalesce(1), folder, "", where="query")
        if len(files) != 1:  # pragma: no cover  (coalesce(1) writes one file)
            raise BuildError(f"query: Spark wrote {len(files)} files for one")
        os.replace(files[0], out)
        return _parquet_rows([out])

    def columns(self, query: Query) -> list[tuple[str, str]]:
        """(name, type) of each column ``query`` returns, in DuckDB's type names."""
        df, _ = self.dataframe(query)
        return [(f.name, duckdb_type(f.dataType)) for f in df.schema.fields]

    @contextmanager
    def materialized(self, query: Query) -> Iterator[str]:
        """``query``'s result kept (cached) as a view for the ``with`` block, then dropped."""
        name = f"steward_tmp_{uuid.uuid4().hex}"
        df, _ = self.dataframe(query)
        df = df.cache()
        df.createOrReplaceTempView(name)
        try:
            yield name
        finally:
            self.session.catalog.dropTempView(name)
            df.unpersist()

    # -- building --------------------------------------------------------------------
    def build(self, product: Product, inputs: Mapping[str, list[str]], out_dir: str) -> BuildResult:
        data = os.path.join(out_dir, "data")
        if product.kind == "file":
            return self._build_file(product, inputs, out_dir)
        if product.kind == "sql":
            return self._build_sql(product, inputs, out_dir)
        out = os.path.join(data, "part-0.parquet")
        if product.kind == "python" and getattr(product.spec, "inputs_as", "") == "spark":
            return self._build_python_spark(product, inputs, out_dir)
        if product.kind == "python":
            return pyrunner.build_python(product, inputs, out, self.root, self.describe)
        if product.kind == "python_source":
            return pyrunner.build_python_source(product, out, self.root, self.describe)
        raise BuildError(f"unknown product kind {product.kind}")  # pragma: no cover

    def _build_sql(self, product: Product, inputs: Mapping[str, list[str]], out_dir: str
                   ) -> BuildResult:
        from steward.sql.parse import parquet_scan, rewrite_references

        mapping = {}
        for name, files in inputs.items():
            mapping[name] = parquet_scan(files)
            mapping.setdefault(name.split(".", 1)[-1], mapping[name])
        sql = rewrite_references(product.code, mapping)
        df, _ = self._frame(sql, product.file)
        names = [f.name for f in df.schema.fields]
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            raise BuildError(f"{product.file}: the query returns duplicate column names "
                             f"{', '.join(map(repr, dups))}; give each column its own name")
        files = self._write(df, os.path.join(out_dir, "data"), "part-",
                            where=product.file)
        return BuildResult(_parquet_rows(files), self.describe(files), tuple(files))

    def _build_file(self, product: Product, inputs: Mapping[str, list[str]], out_dir: str
                    ) -> BuildResult:
        """A file source read by Spark, with the schema and dialect DuckDB's sniffer finds
        (:mod:`steward.engine.spark_files`); by DuckDB where Spark cannot read it alike."""
        from steward.core.spec import FileSource
        from steward.engine.duckdb_files import _infer_format
        from steward.engine.spark_files import read_plan
        from steward.project.files import resolve_paths

        spec = product.spec
        assert isinstance(spec, FileSource)
        paths = resolve_paths(spec.path, self.root)
        fmt = spec.format or (_infer_format(paths[0]) if paths else "")
        plan = read_plan(product, paths, fmt, self.local.connection()) if paths else ""
        if isinstance(plan, str):
            result: BuildResult = self.local.build(product, inputs, out_dir)
            if plan:
                result = replace(result, notes=(*result.notes, f"read by DuckDB: {plan}"))
            return result
        where = f"source {product.name}"
        reader = self.session.read.options(**plan.options)
        if plan.ddl:
            reader = reader.schema(plan.ddl)
        try:
            df = reader.format(plan.fmt).load(plan.files)
            if plan.casts:
                df = df.selectExpr(*[_strict_cast(c, plan.casts.get(c), where)
                                     for c in df.columns])
        except Exception as e:
            raise BuildError(f"{where}: {spark_error(e)}") from None
        folder = os.path.join(out_dir, "data")
        try:
            files = self._write(df, folder, "part-", where=where)
        except BuildError as e:
            raise BuildError(self._read_error(product, out_dir) or str(e)) from None
        notes: tuple[str, ...] = ()
        if plan.fmt == "csv":
            from steward.engine import ingest

            types = {c: s.type for c, s in spec.columns.items() if s.type}
            notes = ingest.csv_warnings(self.local.connection(), plan.files[0],
                                        os.path.relpath(plan.files[0], self.root),
                                        os.path.join(folder, "part-*.parquet"),
                                        spec.options, types)
        return BuildResult(_parquet_rows(files), self.describe(files), tuple(files), 0, notes)

    def _read_error(self, product: Product, out_dir: str) -> str | None:
        """Where Spark's reader failed on a file source, said as DuckDB says it (file and
        line), by reading the files with DuckDB into a scratch folder; None if DuckDB reads
        them (then Spark's own message stands)."""
        import tempfile

        scratch = tempfile.mkdtemp(dir=out_dir, prefix="duckdb-read-")
        try:
            os.makedirs(os.path.join(scratch, "data"))
            self.local.build(product, {}, scratch)
        except BuildError as e:
            return str(e)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        return None

    def _build_python_spark(self, product: Product, inputs: Mapping[str, list[str]],
                            out_dir: str) -> BuildResult:
        """A Python product that asked for Spark DataFrames (``inputs_as: spark``); what it
        returns is written by Spark if a Spark DataFrame, else as on every engine."""
        assert product.function
        fn = pyrunner.load_function(os.path.join(self.root, product.file), product.function)
        kwargs = {param: self.read(inputs[name]) for param, name in product.params.items()}
        try:
            result = fn(**kwargs)
            if type(result).__module__.startswith("pyspark."):
                files = self._write(result, os.path.join(out_dir, "data"), "part-",
                                    where=product.file)
                return BuildResult(_parquet_rows(files), self.describe(files), tuple(files))
        except StewardError:
            raise
        except Exception as e:
            raise BuildError(pyrunner.python_error(e, product)) from None
        return pyrunner.write_result(result, os.path.join(out_dir, "data", "part-0.parquet"),
                                     product, self.describe)

    def _write(self, df: Any, folder: str, prefix: str, where: str) -> list[str]:
        """Write ``df`` as Parquet into ``folder``: Spark writes into a folder of its own
        beside it, then its part files are moved in as ``<prefix>00000.parquet`` ...
        (or the one file, when ``prefix`` is empty, as ``<uuid>.parquet``), and the rest
        (``_SUCCESS``, ``.crc`` files) is removed."""
        for f in df.schema.fields:
            odd = spark_only_type(f.dataType)
            if odd:
                raise BuildError(
                    f"{where}: column {f.name!r} is {odd.upper()}, a type Spark has and a "
                    "version's Parquet files cannot hold as DuckDB reads them; cast it "
                    "(an interval to a number of days or seconds, a variant to STRING)")
        tmp = os.path.join(os.path.dirname(folder.rstrip(os.sep)) or ".",
                           f".spark-{uuid.uuid4().hex}")
        try:
            try:
                df.write.mode("errorifexists").option("compression", "zstd").parquet(tmp)
            except Exception as e:
                raise BuildError(f"{where}: {spark_error(e)}") from None
            faults.point("spark.after_write")
            parts = sorted(f for f in os.listdir(tmp)
                           if f.startswith("part-") and f.endswith(".parquet"))
            if not parts:  # no rows, and Spark wrote no file: an empty one with the schema
                import pyarrow.parquet as pq

                pq.write_table(df.limit(0).toArrow(), os.path.join(tmp, "part-empty.parquet"))
                parts = ["part-empty.parquet"]
            os.makedirs(folder, exist_ok=True)
            out = []
            for i, f in enumerate(parts):
                name = f"{prefix}{i:05d}.parquet" if prefix else f"{uuid.uuid4().hex}.parquet"
                target = os.path.join(folder, name)
                os.replace(os.path.join(tmp, f), target)
                out.append(target)
            return out
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    def describe(self, files: list[str]) -> tuple[Column, ...]:
        """The schema of Parquet files in DuckDB's type names (the same whichever engine
        wrote them)."""
        return self.local.describe(files)  # type: ignore[no-any-return]

    # -- what reads local files only ---------------------------------------------------
    def write_views(self, path: str, views: Mapping[str, Mapping[str, list[str]]]) -> int:
        return self.local.write_views(path, views)  # type: ignore[no-any-return]

    def read_only_query(self, sql: str, tables: Mapping[str, list[str]], store_root: str
                        ) -> Any:
        return self.local.read_only_query(sql, tables, store_root)

    def export(self, table: Any, path: str) -> int:
        return self.local.export(table, path)  # type: ignore[no-any-return]

    def data_hash(self, files: list[str]) -> str:
        return self.local.data_hash(files)  # type: ignore[no-any-return]


def _strict_cast(column: str, to: str | None, where: str) -> str:
    """A Spark SQL expression: ``column`` cast to ``to`` (Spark DDL), failing the job on a
    value that does not cast, as DuckDB's CAST does (Steward's sessions run with ANSI mode
    off, where a failed cast is NULL)."""
    name = "`" + column.replace("`", "``") + "`"
    if to is None:
        return name
    message = f"{where}: a value of column {column!r} does not cast to {to}"
    text = message.replace("\\", "\\\\").replace("'", "\\'")
    return (f"CASE WHEN {name} IS NOT NULL AND try_cast({name} AS {to}) IS NULL "
            f"THEN raise_error('{text}') ELSE try_cast({name} AS {to}) END AS {name}")


def _plain(value: Any) -> Any:
    """A value as DuckDB returns it: a struct as a dict, a list of them as dicts."""
    if isinstance(value, tuple) and hasattr(value, "asDict"):
        return {k: _plain(v) for k, v in value.asDict().items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _parquet_rows(files: list[str]) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


_SIMPLE = {"bigint": "BIGINT", "int": "INTEGER", "smallint": "SMALLINT", "tinyint": "TINYINT",
           "double": "DOUBLE", "float": "FLOAT", "string": "VARCHAR", "boolean": "BOOLEAN",
           "date": "DATE", "timestamp": "TIMESTAMP WITH TIME ZONE",
           "timestamp_ntz": "TIMESTAMP", "binary": "BLOB", "void": "NULL"}


def spark_only_type(dtype: Any) -> str | None:
    """The Spark type in ``dtype`` (nested types too) that DuckDB has no equal of in a
    Parquet file (intervals, variants, times), or None."""
    for child in ("elementType", "keyType", "valueType"):
        inner = getattr(dtype, child, None)
        if inner is not None and spark_only_type(inner):
            return spark_only_type(inner)
    fields = getattr(dtype, "fields", None)
    if fields is not None:
        return next((spark_only_type(f.dataType) for f in fields
                     if spark_only_type(f.dataType)), None)
    text = str(dtype.simpleString())
    if text in _SIMPLE or text.startswith(("decimal", "char", "varchar", "array", "map",
                                           "struct")):
        return None
    return text


def duckdb_type(dtype: Any) -> str:
    """A Spark data type in DuckDB's words (what versions' schemas are recorded in)."""
    text = str(dtype.simpleString())
    if text in _SIMPLE:
        return _SIMPLE[text]
    if text.startswith("decimal"):
        return text.upper().replace(",", ",")
    if text.startswith(("varchar", "char")):
        return "VARCHAR"
    element = getattr(dtype, "elementType", None)
    if element is not None:
        return duckdb_type(element) + "[]"
    return text.upper()


def spark_error(e: Exception) -> str:
    """Spark's message, shortened to its first line, without the JVM's stack."""
    text = str(e)
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if len(lines) > 1 and lines[0].startswith("An error occurred while calling"):
        lines = lines[1:]  # (py4j's: the JVM's exception follows)
    head = lines[0].removeprefix(": ") if lines else type(e).__name__
    cls = getattr(e, "getCondition", None)
    try:
        code = cls() if callable(cls) else None
    except Exception:  # pragma: no cover
        code = None
    if code and code not in head:
        head = f"[{code}] {head}"
    return head[:500]
