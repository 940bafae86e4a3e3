"""The embedded engine: DuckDB reading and writing Parquet files.

Each build is one self-contained statement: references to other products are rewritten
into ``read_parquet([...])`` scans of their versions' files, so builds share no state
and run in parallel on cursors of one in-process database.

Other layers never touch a DuckDB connection: they hand the engine a query — a sqlglot
tree, or text, in Steward's dialect (:data:`steward.sql.parse.DIALECT`), where a
version's files are scanned with ``read_parquet([...])`` — and get rows, a record, an
Arrow table or a written Parquet file back (:class:`steward.engine.base.Engine`).
"""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import duckdb
import xxhash
from sqlglot import exp

from steward.core.errors import BuildError, ConfigError
from steward.core.model import Product
from steward.core.records import Column
from steward.core.spec import EngineSpec
from steward.engine import pyrunner
from steward.engine.base import BuildResult, Query
from steward.engine.duckdb_files import FileSources
from steward.engine.duckdb_text import (
    arrow_table,
    clean_error,
    ident,
    lit,
    may_be_wide,
    query_error,
    setting_problems,
    sql_list,
    statements,
)
from steward.sql.parse import DIALECT, parquet_scan, rewrite_references, splice_references

DATA_FILE = "part-0.parquet"
_PARQUET = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"


class DuckDBEngine(FileSources):
    name = "duckdb"
    dialect = "duckdb"

    def __init__(self, spec: EngineSpec, root: str):
        self.spec = spec
        self.root = root
        config: dict[str, Any] = {}
        if spec.threads:
            config["threads"] = spec.threads
        if spec.memory_limit:
            config["memory_limit"] = spec.memory_limit
        config.update(spec.settings)
        try:
            self.db = duckdb.connect(":memory:", config=config)
        except duckdb.Error as e:
            raise ConfigError(setting_problems(spec, root, e)) from None
        self._local = threading.local()

    def connection(self) -> duckdb.DuckDBPyConnection:
        """This thread's cursor (the engine's own: nothing outside engine/ uses it)."""
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self.db.cursor()
        return cur

    # -- queries from other layers ---------------------------------------------------
    def _text(self, query: Query) -> str:
        if isinstance(query, exp.Expr):
            return query.sql(dialect=self.dialect)
        return query if self.dialect == DIALECT else _transpile(query, self.dialect)

    def rows(self, query: Query) -> list[tuple[Any, ...]]:
        """Every row of ``query``."""
        return self.connection().execute(self._text(query)).fetchall()

    def first(self, query: Query) -> tuple[Any, ...] | None:
        """The first row of ``query``, or None."""
        return self.connection().execute(self._text(query)).fetchone()

    def record(self, query: Query) -> dict[str, Any]:
        """The first row of ``query`` as column name -> value ({} for none)."""
        cur = self.connection().execute(self._text(query))
        row = cur.fetchone()
        if row is None:
            return {}
        return {d[0]: v for d, v in zip(cur.description, row, strict=True)}

    def arrow(self, query: Query) -> Any:
        """``query``'s result as an Arrow table."""
        return arrow_table(self.connection().sql(self._text(query)))

    def copy(self, query: Query, out: str) -> int:
        """Write ``query``'s result to the Parquet file ``out``; returns its rows."""
        return self._copy(self._text(query), out)

    def columns(self, query: Query) -> list[tuple[str, str]]:
        """(name, type) of each column ``query`` returns."""
        return [(str(r[0]), str(r[1])) for r in
                self.connection().execute(f"DESCRIBE ({self._text(query)})").fetchall()]

    @contextmanager
    def materialized(self, query: Query) -> Iterator[str]:
        """``query``'s result kept as a table for the queries of the ``with`` block
        (named by what it yields), then dropped."""
        name = f"steward_tmp_{uuid.uuid4().hex}"
        cur = self.connection()
        cur.execute(f"CREATE TEMP TABLE {name} AS {self._text(query)}")
        try:
            yield name
        finally:
            cur.execute(f"DROP TABLE IF EXISTS {name}")

    def write_views(self, path: str, views: Mapping[str, Mapping[str, list[str]]]) -> int:
        """A DuckDB file at ``path`` with a schema per environment and a view per product
        over its files (``views``: env -> view name -> files); built beside ``path`` and
        renamed over it, so a client never sees half. Returns the number of views."""
        tmp = path + ".tmp"
        for f in (tmp, tmp + ".wal"):
            if os.path.exists(f):
                os.remove(f)
        alias = "steward_envs_tmp"
        conn = self.connection()
        # the oldest storage format DuckDB 1.x clients and BI tools read (DuckDB 2 writes
        # a newer one by default, which they refuse)
        conn.execute(f"ATTACH {lit(os.path.abspath(tmp))} AS {alias} "
                     "(STORAGE_VERSION 'v1.0.0')")
        n = 0
        try:
            for env, products in sorted(views.items()):
                conn.execute(f"CREATE SCHEMA {alias}.{ident(env)}")
                for view, files in sorted(products.items()):
                    if not files:
                        continue
                    scan = parquet_scan([os.path.abspath(f) for f in files]).sql(
                        dialect=self.dialect)
                    conn.execute(f"CREATE VIEW {alias}.{ident(env)}.{ident(view)} AS "
                                 f"SELECT * FROM {scan}")
                    n += 1
        finally:
            conn.execute(f"DETACH {alias}")
        os.replace(tmp, path)
        return n

    # -- building --------------------------------------------------------------------
    def build(self, product: Product, inputs: Mapping[str, list[str]], out_dir: str) -> BuildResult:
        out = os.path.join(out_dir, "data", DATA_FILE)
        if product.kind == "file":
            return self._build_file_source(product, out_dir, out)
        if product.kind == "sql":
            return self._build_sql(product, inputs, out)
        # Python products run the same way on every engine (steward.engine.pyrunner)
        if product.kind == "python":
            return pyrunner.build_python(product, inputs, out, self.root, self.describe)
        if product.kind == "python_source":
            return pyrunner.build_python_source(product, out, self.root, self.describe)
        if product.kind == "database_source":  # (read in full; a run reads incrementally)
            from steward.engine import dbsource

            got = dbsource.read(product, out)
            return self._result(out, got.rows, notes=tuple(got.notes))
        raise BuildError(f"unknown product kind {product.kind}")  # pragma: no cover

    def _copy(self, select_sql: str, out: str) -> int:
        cur = self.connection()
        row = cur.execute(f"COPY (\n{select_sql}\n) TO {lit(out)} {_PARQUET}").fetchone()
        return int(row[0]) if row else 0

    def describe(self, files: list[str]) -> tuple[Column, ...]:
        cur = self.connection()
        rows = cur.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_list(files)})").fetchall()
        return tuple(Column(r[0], str(r[1]), True) for r in rows)

    def _result(self, out: str, rows: int, rejected: int = 0,
                notes: tuple[str, ...] = ()) -> BuildResult:
        """The new version's result: a small one is read into Arrow once, its schema
        named from the Arrow types where they fix it (no DESCRIBE), the table kept for
        the hooks; any other is described by DuckDB."""
        from steward.engine.arrowread import SMALL_ROWS, arrow_schema_names, read_small_file

        table, raw = read_small_file(out, SMALL_ROWS, rows)
        named = arrow_schema_names(table) if table is not None else None
        if named is None:
            return BuildResult(rows, self.describe([out]), (out,), rejected, notes,
                               table=table, raw=raw)
        return BuildResult(rows, tuple(Column(n, t, True) for n, t in named), (out,),
                           rejected, notes, table=table, raw=raw)

    def _build_sql(self, product: Product, inputs: Mapping[str, list[str]], out: str
                   ) -> BuildResult:
        sql = self._sql_of(product, inputs)
        try:
            rows = self._copy_integers(sql, out, product.code)
        except duckdb.Error as e:
            raise BuildError(clean_error(e, product.file)) from None
        return self._result(out, rows)

    def build_incremental(self, product: Product, inputs: Mapping[str, list[str]],
                          previous: list[str] | None, out_dir: str) -> BuildResult:
        """An incremental product or snapshot built from its previous version's files
        (``None``: the first build); see :mod:`steward.engine.incremental`."""
        from steward.engine.incremental import build_incremental

        try:
            rows, files, new = build_incremental(self, product, self._sql_of(product, inputs),
                                                 previous, os.path.join(out_dir, "data"))
        except duckdb.Error as e:
            raise BuildError(clean_error(e, product.file)) from None
        return BuildResult(rows, self.describe(files), tuple(files), new_files=tuple(new))

    def _sql_of(self, product: Product, inputs: Mapping[str, list[str]]) -> str:
        """The product's query with its inputs' files spliced in."""
        refs = {n for _, _, n, _ in product.ref_spans}
        if refs and refs >= set(inputs):
            # splice scans in at the spans recorded at load time: no parsing per build
            scans = {n: f"read_parquet({sql_list(files)})" for n, files in inputs.items()}
            sql = splice_references(product.code, list(product.ref_spans), scans)
        else:
            mapping = {}
            for name, files in inputs.items():
                mapping[name] = parquet_scan(files)
                mapping.setdefault(name.split(".", 1)[-1], mapping[name])
            sql = rewrite_references(product.code, mapping)
        return sql

    def _copy_integers(self, sql: str, out: str, code: str | None = None) -> int:
        """COPY a query, keeping its 128-bit integers integers.

        DuckDB types ``sum`` of integers and ``count_if`` as HUGEINT, which Parquet has no
        type for: written as it is, it becomes a DOUBLE (8255.0, and inexact past 2^53).
        Such columns are written as BIGINT, or, when a value does not fit in 64 bits,
        as DECIMAL(38,0). ``code``: the product's own text (before its inputs' files were
        spliced in); when nothing in it can make such a column (:func:`may_be_wide`), the
        query is copied without asking DuckDB for its types first.
        """
        if code is not None and not may_be_wide(code):
            return self._copy(sql, out)
        cur = self.connection()
        cols = cur.execute(f"DESCRIBE (\n{sql}\n)").fetchall()
        wide = [str(c[0]) for c in cols if str(c[1]) in ("HUGEINT", "UHUGEINT")]
        names = [str(c[0]) for c in cols]
        if not wide or len(set(names)) != len(names):
            return self._copy(sql, out)

        def copy(targets: Mapping[str, str]) -> int:
            casts = ", ".join(f"CAST({ident(c)} AS {t}) AS {ident(c)}"
                              for c, t in targets.items())
            return self._copy(f"SELECT * REPLACE ({casts}) FROM (\n{sql}\n)", out)

        try:
            return copy(dict.fromkeys(wide, "BIGINT"))
        except duckdb.ConversionException:
            pass  # a value past 64 bits: find which columns need exact decimals
        fits = ", ".join(f"coalesce(bool_and({ident(c)} BETWEEN -9223372036854775808 AND "
                         f"9223372036854775807), true)" for c in wide)
        ok = cur.execute(f"SELECT {fits} FROM (\n{sql}\n)").fetchone() or ()
        return copy({c: "BIGINT" if good else "DECIMAL(38,0)"
                     for c, good in zip(wide, ok, strict=True)})


    def read_only_query(self, sql: str, tables: Mapping[str, list[str]], store_root: str
                        ) -> Any:
        """One query over products exposed as views, in a sandboxed connection.

        ``steward sql`` must never write: only one statement, of type SELECT (``DESCRIBE``,
        ``SUMMARIZE`` and ``SHOW`` are SELECTs) or EXPLAIN, runs on a separate in-memory
        database whose products are views over their versions' files; external access is
        off except for reading the store's folder, and the configuration is locked, so
        COPY, ATTACH, INSTALL, SET and reading other local files are refused.
        """
        found = statements(sql)
        if len(found) != 1:
            raise BuildError(f"query: steward sql runs one statement; found {len(found)}"
                             " (split them, or join them with a CTE)")
        kind = str(found[0].type).rsplit(".", 1)[-1]
        if kind not in ("SELECT", "EXPLAIN"):
            raise BuildError(
                f"query: steward sql only reads; {kind} statements are refused. To keep a "
                "result, use 'steward sql --output FILE' (recorded in the audit trail)")
        config: dict[str, Any] = {}
        if self.spec.threads:
            config["threads"] = self.spec.threads
        if self.spec.memory_limit:
            config["memory_limit"] = self.spec.memory_limit
        con = duckdb.connect(":memory:", config=config)
        try:
            shorts: dict[str, list[str]] = {}
            schemas: set[str] = set()
            for name, files in sorted(tables.items()):
                if not files:
                    continue
                domain, _, short = name.rpartition(".")
                schema = domain or "main"
                if schema not in schemas and schema != "main":
                    con.execute(f"CREATE SCHEMA {ident(schema)}")
                    schemas.add(schema)
                con.execute(f"CREATE VIEW {ident(schema)}.{ident(short)} AS "
                            f"SELECT * FROM read_parquet({sql_list(files)})")
                shorts.setdefault(short, []).append(name)
            for short, names in shorts.items():
                if len(names) == 1 and "." in names[0]:
                    con.execute(f"CREATE VIEW main.{ident(short)} AS SELECT * FROM "
                                f"{ident(names[0].rpartition('.')[0])}.{ident(short)}")
            root = os.path.abspath(store_root).rstrip(os.sep) + os.sep
            con.execute(f"SET allowed_directories = [{lit(root)}]")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            try:
                return arrow_table(con.sql(sql))
            except duckdb.Error as e:
                raise BuildError(query_error(e, shorts)) from None
        finally:
            con.close()

    def export(self, table: Any, path: str) -> int:
        """Write an Arrow table to ``path``: Parquet, CSV or JSON lines by its extension."""
        import pyarrow.csv as pcsv
        import pyarrow.parquet as pq

        low = path.lower()
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        if low.endswith((".parquet", ".pq")):
            pq.write_table(table, path, compression="zstd")
        elif low.endswith(".csv"):
            pcsv.write_csv(table, path)
        elif low.endswith((".json", ".jsonl", ".ndjson")):
            import json

            with open(path, "w", encoding="utf-8") as f:
                for row in table.to_pylist():
                    f.write(json.dumps(row, default=str) + "\n")
        else:
            raise BuildError(f"{path}: write .parquet, .csv or .jsonl")
        return int(table.num_rows)

    def data_hash(self, files: list[str]) -> str:
        h = xxhash.xxh3_128()
        for f in files:
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
        return h.hexdigest()


def _transpile(sql: str, dialect: str) -> str:
    import sqlglot

    return ";\n".join(sqlglot.transpile(sql, read=DIALECT, write=dialect))
