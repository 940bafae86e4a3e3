"""The embedded engine: DuckDB reading and writing Parquet files.

Each build is one self-contained statement: references to other products are rewritten
into ``read_parquet([...])`` scans of their versions' files, so builds share no state
and run in parallel on cursors of one in-process database.
"""

from __future__ import annotations

import difflib
import importlib.util
import os
import re
import shutil
import sys
import tempfile
import threading
import uuid
import zipfile
from collections.abc import Mapping
from typing import Any

import duckdb
import xxhash
from sqlglot import exp

from steward.core.errors import BuildError, ConfigError, Problem
from steward.core.model import Product
from steward.core.records import Column
from steward.core.spec import EngineSpec, FileSource, PythonProductSpec, PythonSource
from steward.engine.base import BuildResult
from steward.sql.parse import parquet_scan, rewrite_references, splice_references

DATA_FILE = "part-0.parquet"
_PARQUET = "(FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880)"


def _lit(value: str) -> str:
    return exp.Literal.string(value).sql(dialect="duckdb")


class DuckDBEngine:
    name = "duckdb"

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
            raise ConfigError(_setting_problems(spec, root, e)) from None
        self._local = threading.local()

    def connection(self) -> duckdb.DuckDBPyConnection:
        cur = getattr(self._local, "cursor", None)
        if cur is None:
            cur = self._local.cursor = self.db.cursor()
        return cur

    # -- building --------------------------------------------------------------------
    def build(self, product: Product, inputs: Mapping[str, list[str]], out_dir: str) -> BuildResult:
        out = os.path.join(out_dir, "data", DATA_FILE)
        if product.kind == "file":
            result = self._build_file_source(product, out_dir, out)
        elif product.kind == "sql":
            result = self._build_sql(product, inputs, out)
        elif product.kind == "python":
            result = self._build_python(product, inputs, out)
        elif product.kind == "python_source":
            result = self._build_python_source(product, out)
        else:  # pragma: no cover - the loader only makes the kinds above
            raise BuildError(f"unknown product kind {product.kind}")
        return result

    def _copy(self, select_sql: str, out: str) -> int:
        cur = self.connection()
        row = cur.execute(f"COPY (\n{select_sql}\n) TO {_lit(out)} {_PARQUET}").fetchone()
        return int(row[0]) if row else 0

    def describe(self, files: list[str]) -> tuple[Column, ...]:
        cur = self.connection()
        rows = cur.execute(f"DESCRIBE SELECT * FROM read_parquet({_list(files)})").fetchall()
        return tuple(Column(r[0], str(r[1]), True) for r in rows)

    def _result(self, out: str, rows: int, rejected: int = 0,
                notes: tuple[str, ...] = ()) -> BuildResult:
        return BuildResult(rows, self.describe([out]), (out,), rejected, notes)

    def _build_sql(self, product: Product, inputs: Mapping[str, list[str]], out: str
                   ) -> BuildResult:
        refs = {n for _, _, n, _ in product.ref_spans}
        if refs and refs >= set(inputs):
            # splice scans in at the spans recorded at load time: no parsing per build
            scans = {n: f"read_parquet({_list(files)})" for n, files in inputs.items()}
            sql = splice_references(product.code, list(product.ref_spans), scans)
        else:
            mapping = {}
            for name, files in inputs.items():
                mapping[name] = parquet_scan(files)
                mapping.setdefault(name.split(".", 1)[-1], mapping[name])
            sql = rewrite_references(product.code, mapping)
        try:
            rows = self._copy_integers(sql, out)
        except duckdb.Error as e:
            raise BuildError(_clean(e, product.file)) from None
        return self._result(out, rows)

    def _copy_integers(self, sql: str, out: str) -> int:
        """COPY a query, keeping its 128-bit integers integers.

        DuckDB types ``sum`` of integers and ``count_if`` as HUGEINT, which Parquet has no
        type for: written as it is, it becomes a DOUBLE (8255.0, and inexact past 2^53).
        Such columns are written as BIGINT, or, when a value does not fit in 64 bits,
        as DECIMAL(38,0).
        """
        cur = self.connection()
        cols = cur.execute(f"DESCRIBE (\n{sql}\n)").fetchall()
        wide = [str(c[0]) for c in cols if str(c[1]) in ("HUGEINT", "UHUGEINT")]
        names = [str(c[0]) for c in cols]
        if not wide or len(set(names)) != len(names):
            return self._copy(sql, out)
        def copy(targets: Mapping[str, str]) -> int:
            casts = ", ".join(f"CAST({_ident(c)} AS {t}) AS {_ident(c)}"
                              for c, t in targets.items())
            return self._copy(f"SELECT * REPLACE ({casts}) FROM (\n{sql}\n)", out)

        try:
            return copy(dict.fromkeys(wide, "BIGINT"))
        except duckdb.ConversionException:
            pass  # a value past 64 bits: find which columns need exact decimals
        fits = ", ".join(f"coalesce(bool_and({_ident(c)} BETWEEN -9223372036854775808 AND "
                         f"9223372036854775807), true)" for c in wide)
        ok = cur.execute(f"SELECT {fits} FROM (\n{sql}\n)").fetchone()
        return copy({c: "BIGINT" if good else "DECIMAL(38,0)"
                     for c, good in zip(wide, ok, strict=True)})

    def _build_file_source(self, product: Product, out_dir: str, out: str) -> BuildResult:
        from steward.project.files import resolve_paths

        spec = product.spec
        assert isinstance(spec, FileSource)
        paths = resolve_paths(spec.path, self.root)
        if not paths:
            raise BuildError(f"source {product.name}: no file matches {spec.path!r}")
        fmt = spec.format or _infer_format(paths[0])
        scratch = tempfile.mkdtemp(dir=out_dir, prefix="unzip-")
        try:
            real = [_unzip(p, scratch) if p.endswith(".zip") else p for p in paths]
            return self._read_files(product, spec, fmt, real, paths, out_dir, out)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def _read_files(self, product: Product, spec: FileSource, fmt: str, real: list[str],
                    shown: list[str], out_dir: str, out: str) -> BuildResult:
        from steward.engine import ingest

        cur = self.connection()
        types = {c: s.type for c, s in spec.columns.items() if s.type}
        opts = dict(spec.options)
        quarantine = spec.on_error == "quarantine"
        names = dict(zip(real, shown, strict=False))
        set_aside: list[ingest.Rejected] = []
        records: int | None = None  # rows read, when counted apart from DuckDB
        rejects = ""
        scan_files = list(real)
        if fmt == "csv":
            header = _csv_header(real[0], opts)
            if header and types and set(header) <= set(types) and "columns" not in opts:
                # every column declared: read exactly that, no guessing, precise errors
                opts.update(columns={c: types[c] for c in header}, header=True,
                            auto_detect=False)
                opts.setdefault("delim", header.delim)
            elif types:
                opts.setdefault("types", types)
            if quarantine:
                rejects = f"steward_rejects_{uuid.uuid4().hex[:12]}"
                opts.update(store_rejects=True, rejects_table=rejects,
                            rejects_scan=f"{rejects}_scans")
            scan = f"read_csv({_list(scan_files)}{_opts(opts)})"
        elif fmt == "parquet":
            scan = f"read_parquet({_list(scan_files)}{_opts(opts)})"
        else:
            if fmt == "ndjson":
                opts.setdefault("format", "newline_delimited")
                if quarantine:
                    folder = tempfile.mkdtemp(dir=out_dir, prefix="json-")
                    scan_files, set_aside, records = ingest.split_ndjson(real, folder, names)
            scan = f"read_json({_list(scan_files)}{_opts(opts)})"
        select = f"SELECT * FROM {scan}"
        cast_bad = ""
        if types and fmt != "csv":
            if quarantine:
                # a value that does not cast sets its row aside instead of failing the build
                tries = ", ".join(f"TRY_CAST({_ident(c)} AS {t}) AS {_ident(c)}"
                                  for c, t in types.items())
                cast_bad = " OR ".join(
                    f"(TRY_CAST({_ident(c)} AS {t}) IS NULL AND {_ident(c)} IS NOT NULL)"
                    for c, t in types.items())
                select = f"SELECT * REPLACE ({tries}) FROM {scan} WHERE NOT ({cast_bad})"
            else:
                casts = ", ".join(f"CAST({_ident(c)} AS {t}) AS {_ident(c)}"
                                  for c, t in types.items())
                select = f"SELECT * REPLACE ({casts}) FROM {scan}"
        try:
            rows = self._copy(select, out)
            if not quarantine:
                return self._result(out, rows, 0, self._read_notes(fmt, real, names, out, opts,
                                                                   types))
            tables = []
            if rejects:
                tables.append(arrow_table(cur.sql(
                    f"SELECT s.file_path AS file, CAST(e.line AS BIGINT) AS line, "
                    f"e.column_name, CAST(e.error_type AS VARCHAR) AS error_type, "
                    f"e.csv_line AS raw_line, e.error_message FROM {rejects} e "
                    f"JOIN {rejects}_scans s USING (scan_id)")))
                dropped = int(cur.execute(
                    f"SELECT count(DISTINCT (scan_id, file_id, line)) FROM {rejects}"
                ).fetchone()[0])
            if cast_bad:
                first = " ".join(
                    f"WHEN TRY_CAST({_ident(c)} AS {t}) IS NULL AND {_ident(c)} IS NOT NULL "
                    f"THEN {_lit(c)}" for c, t in types.items())
                tables.append(arrow_table(cur.sql(
                    f"SELECT NULL::VARCHAR AS file, NULL::BIGINT AS line, "
                    f"CASE {first} END AS column_name, 'CAST' AS error_type, "
                    f"CAST(to_json(t) AS VARCHAR) AS raw_line, "
                    f"'a value does not cast to its declared type' AS error_message "
                    f"FROM {scan} t WHERE {cast_bad}")))
            if fmt == "csv":
                delim = opts.get("delim") or opts.get("sep") or opts.get("delimiter")
                has_header = opts.get("header")
                if delim is None or has_header is None:
                    sniffed = cur.execute(f"SELECT Delimiter, HasHeader FROM "
                                          f"sniff_csv({_lit(real[0])})").fetchone()
                    delim = delim or sniffed[0]
                    has_header = sniffed[1] if has_header is None else has_header
                counted = ingest.count_csv(real, str(delim), bool(has_header),
                                           int(opts.get("max_line_size") or
                                               ingest.MAX_LINE_SIZE),
                                           str(opts.get("quote") or '"'), names)
                lost = counted.records - rows - dropped
                if lost > 0 and len(counted.too_long) == lost:
                    set_aside.extend(counted.too_long)
                elif lost > 0:
                    raise BuildError(
                        f"source {product.name}: {lost:,} of {counted.records:,} row(s) read "
                        f"from {', '.join(shown)} were neither published ({rows:,}) nor "
                        f"quarantined ({dropped:,}); nothing was published. Check the file's "
                        "quoting and delimiter, or read it with on_error: fail to see the "
                        "first problem")
            elif records is not None or cast_bad:
                total = records if records is not None else int(
                    cur.execute(f"SELECT count(*) FROM {scan}").fetchone()[0]) + len(set_aside)
                aside = sum(t.num_rows for t in tables) + len(set_aside)
                if rows + aside != total:
                    raise BuildError(
                        f"source {product.name}: {total:,} row(s) read, {rows:,} published and "
                        f"{aside:,} quarantined do not add up; nothing was published")
        except duckdb.Error as e:
            raise BuildError(_clean(e, shown[0] if len(shown) == 1 else None,
                                    where=f"source {product.name}")) from None
        finally:
            if rejects:
                cur.execute(f"DROP TABLE IF EXISTS {rejects}; "
                            f"DROP TABLE IF EXISTS {rejects}_scans")
        if set_aside:
            tables.append(ingest.rejected_table(set_aside))
        rejected = sum(t.num_rows for t in tables)
        if rejected:
            import pyarrow as pa
            import pyarrow.parquet as pq

            qdir = os.path.join(out_dir, "quarantine")
            os.makedirs(qdir, exist_ok=True)
            schema = ingest.rejected_table([]).schema
            whole = pa.concat_tables([t.select(schema.names).cast(schema) for t in tables])
            pq.write_table(whole, os.path.join(qdir, "rejected_rows.parquet"),
                           compression="zstd")
        for f in os.listdir(out_dir):
            if f.startswith("json-"):
                shutil.rmtree(os.path.join(out_dir, f), ignore_errors=True)
        notes = (f"{rejected} malformed row(s) quarantined",) if rejected else ()
        return self._result(out, rows, rejected, notes)

    def _read_notes(self, fmt: str, real: list[str], names: Mapping[str, str], out: str,
                    opts: Mapping[str, Any], types: Mapping[str, str]) -> tuple[str, ...]:
        """Warnings about a CSV read that succeeded but probably not as meant."""
        if fmt != "csv":
            return ()
        from steward.engine import ingest

        return ingest.csv_warnings(self.connection(), real[0], names.get(real[0], real[0]),
                                   out, opts, types)

    def _build_python(self, product: Product, inputs: Mapping[str, list[str]], out: str
                      ) -> BuildResult:
        import pyarrow.parquet as pq

        spec = product.spec
        assert isinstance(spec, PythonProductSpec) and product.function
        fn = _load_function(os.path.join(self.root, product.file), product.function)
        kwargs = {}
        for param, name in product.params.items():
            table = pq.read_table(inputs[name])
            kwargs[param] = _convert(table, spec.inputs_as)
        try:
            result = fn(**kwargs)
        except Exception as e:
            raise BuildError(_python_error(e, product)) from None
        return self._write_arrow(result, out, product)

    def _build_python_source(self, product: Product, out: str) -> BuildResult:
        spec = product.spec
        assert isinstance(spec, PythonSource)
        module, _, func = spec.callable.partition(":")
        if module.endswith(".py"):
            path = module if os.path.isabs(module) else os.path.join(self.root, module)
            fn = _load_function(path, func)
        else:
            fn = getattr(__import__(module, fromlist=[func]), func)
        try:
            result = fn(**spec.params)
        except Exception as e:
            raise BuildError(_python_error(e, product)) from None
        return self._write_arrow(result, out, product)

    def _write_arrow(self, result: Any, out: str, product: Product) -> BuildResult:
        import pyarrow as pa
        import pyarrow.parquet as pq

        who = f"{product.file}: {product.function or product.name}"
        try:
            table = _to_arrow(result)
        except _NotATable as e:
            raise BuildError(f"{who} returned {e.what}; {e.hint}") from None
        except (pa.ArrowException, TypeError, ValueError) as e:
            raise BuildError(f"{who} returned {_what(result)} that does not convert to a "
                             f"table ({type(e).__name__}: {e}); {_RETURN}") from None
        if table is None:
            raise BuildError(f"{who} returned {_what(result)}; {_RETURN}")
        dups = _duplicates(table.schema.names)
        if dups:
            raise BuildError(f"{who} returned a table with duplicate column names: {dups}; "
                             "give each column its own name")
        if isinstance(table, pa.RecordBatchReader):
            with pq.ParquetWriter(out, table.schema, compression="zstd") as w:
                rows = 0
                for batch in table:
                    w.write_batch(batch)
                    rows += batch.num_rows
        else:
            pq.write_table(table, out, compression="zstd")
            rows = table.num_rows
        return self._result(out, rows)

    # -- querying --------------------------------------------------------------------
    def query(self, sql: str, tables: Mapping[str, list[str]]) -> Any:
        cur = self.connection()
        mapping: dict[str, exp.Expression] = {}
        shorts: dict[str, list[str]] = {}
        for name, files in tables.items():
            mapping[name] = parquet_scan(files)
            shorts.setdefault(name.split(".", 1)[-1], []).append(name)
        for short, names in shorts.items():
            if len(names) == 1 and short not in mapping:
                mapping[short] = mapping[names[0]]
        try:
            rewritten = rewrite_references(sql, mapping)
            return arrow_table(cur.sql(rewritten))
        except duckdb.Error as e:
            raise BuildError(_clean(e, None, where="query")) from None
        except Exception as e:  # sqlglot parse errors
            from sqlglot.errors import ParseError

            if isinstance(e, ParseError):
                raise BuildError(f"query: SQL syntax error: {str(e).splitlines()[0]}") from None
            raise

    def read_only_query(self, sql: str, tables: Mapping[str, list[str]], store_root: str
                        ) -> Any:
        """One query over products exposed as views, in a sandboxed connection.

        ``steward sql`` must never write: only one statement, of type SELECT (``DESCRIBE``,
        ``SUMMARIZE`` and ``SHOW`` are SELECTs) or EXPLAIN, runs on a separate in-memory
        database whose products are views over their versions' files; external access is
        off except for reading the store's folder, and the configuration is locked, so
        COPY, ATTACH, INSTALL, SET and reading other local files are refused.
        """
        statements = _statements(sql)
        if len(statements) != 1:
            raise BuildError(f"query: steward sql runs one statement; found {len(statements)}"
                             " (split them, or join them with a CTE)")
        kind = str(statements[0].type).rsplit(".", 1)[-1]
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
                    con.execute(f"CREATE SCHEMA {_ident(schema)}")
                    schemas.add(schema)
                con.execute(f"CREATE VIEW {_ident(schema)}.{_ident(short)} AS "
                            f"SELECT * FROM read_parquet({_list(files)})")
                shorts.setdefault(short, []).append(name)
            for short, names in shorts.items():
                if len(names) == 1 and "." in names[0]:
                    con.execute(f"CREATE VIEW main.{_ident(short)} AS SELECT * FROM "
                                f"{_ident(names[0].rpartition('.')[0])}.{_ident(short)}")
            root = os.path.abspath(store_root).rstrip(os.sep) + os.sep
            con.execute(f"SET allowed_directories = [{_lit(root)}]")
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
            try:
                return arrow_table(con.sql(sql))
            except duckdb.Error as e:
                raise BuildError(_query_error(e, shorts)) from None
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


def _statements(sql: str) -> list[Any]:
    try:
        return list(duckdb.extract_statements(sql))
    except duckdb.Error as e:
        raise BuildError(_clean(e, None, where="query")) from None


def _query_error(e: Exception, shorts: Mapping[str, list[str]]) -> str:
    text = str(e)
    m = re.search(r"Table with name (\w+) does not exist", text)
    if m and len(shorts.get(m.group(1), [])) > 1:
        names = sorted(shorts[m.group(1)])
        return (f"query: {m.group(1)!r} is ambiguous: write one of {', '.join(names)}")
    if "Permission Error" in text or "disabled by configuration" in text:
        first = text.splitlines()[0]
        return (f"query: refused: {first.split(': ', 1)[-1]} (steward sql reads products "
                "and the store only)")
    return _clean(e, None, where="query")


def _setting_problems(spec: EngineSpec, root: str, error: Exception) -> list[Problem]:
    """Each ``engine:`` setting of steward.yaml DuckDB refuses, at its line, saying what
    DuckDB accepts. Tried one at a time, on the error path only."""
    from steward.project.locate import declared_line
    from steward.project.paths import PROJECT_FILE

    known = {r[0]: (r[1], r[2]) for r in duckdb.connect(":memory:").execute(
        "SELECT name, description, input_type FROM duckdb_settings()").fetchall()}
    tried: list[tuple[str, Any, tuple[str, ...]]] = [
        ("threads", spec.threads, ("engine", "threads")),
        ("memory_limit", spec.memory_limit, ("engine", "memory_limit")),
        *((str(k), v, ("engine", "settings", str(k))) for k, v in spec.settings.items()),
    ]
    problems = []
    for name, value, loc in tried:
        if value is None:
            continue
        try:
            duckdb.connect(":memory:", config={name: value}).close()
        except duckdb.Error as e:
            line = declared_line(root, loc)
            reason = _first_line(e)
            if name not in known:
                close = difflib.get_close_matches(name, sorted(known), n=1)
                problems.append(Problem(
                    PROJECT_FILE, line, f"engine.settings: DuckDB has no setting {name!r}",
                    f"did you mean '{close[0]}'?" if close else
                    "see: SELECT name, description FROM duckdb_settings()"))
                continue
            where = ".".join(loc)
            description, input_type = known[name]
            hint = ("a size such as '4GB', '512MiB' or '80%' (of the machine's memory)"
                    if name == "memory_limit" else
                    f"{name} is a {input_type}: {description.rstrip('.')}")
            problems.append(Problem(PROJECT_FILE, line, f"{where} {value!r} is not valid for "
                                    f"DuckDB: {reason}", hint))
    return problems or [Problem(PROJECT_FILE, declared_line(root, ("engine",)),
                                f"DuckDB refuses the engine settings: {_first_line(error)}")]


def _first_line(e: Exception) -> str:
    text = next((ln for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
    return re.sub(r"^[A-Za-z ]*Error: ", "", text)


def arrow_table(result: Any) -> Any:
    """An Arrow table from a DuckDB result, across DuckDB's renames of the method."""
    for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
        fn = getattr(result, name, None)
        if fn is not None:
            out = fn()
            return out.read_all() if hasattr(out, "read_all") else out
    raise TypeError("cannot fetch an Arrow table from this DuckDB result")


def _list(paths: list[str]) -> str:
    return "[" + ", ".join(_lit(p) for p in paths) + "]"


def _ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")  # type: ignore[union-attr]


def _opts(opts: Mapping[str, Any]) -> str:
    parts = []
    for k, v in opts.items():
        parts.append(f"{k} = {_value(v)}")
    return (", " + ", ".join(parts)) if parts else ""


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return repr(v)
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_lit(str(k))}: {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return _lit(str(v))


def _infer_format(path: str) -> str:
    p = path.lower()
    for suffix in (".zip", ".gz", ".zst"):
        p = p.removesuffix(suffix)
    if p.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    if p.endswith(".json"):
        return "json"
    if p.endswith(".parquet") or p.endswith(".pq"):
        return "parquet"
    return "csv"


class _Header(list[str]):
    delim: str = ","


def _csv_header(path: str, opts: Mapping[str, Any]) -> _Header | None:
    """The header row's column names, read with Python's csv module (gzip too)."""
    import csv
    import gzip

    if opts.get("header") is False:
        return None
    opener: Any = gzip.open if path.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", newline="") as f:
            first = f.readline()
    except (OSError, UnicodeDecodeError):
        return None
    delim = opts.get("delim") or opts.get("sep") or opts.get("delimiter")
    if not delim:
        try:
            delim = csv.Sniffer().sniff(first, delimiters=",;\t|").delimiter
        except csv.Error:
            return None
    out = _Header(next(csv.reader([first], delimiter=delim), []))
    out.delim = delim
    return out


def _unzip(path: str, scratch: str) -> str:
    with zipfile.ZipFile(path) as z:
        members = [m for m in z.infolist() if not m.is_dir() and not m.filename.startswith("__")]
        if len(members) != 1:
            raise BuildError(f"{path}: a zipped source holds exactly one file; found "
                             f"{len(members)}")
        target = os.path.join(scratch, os.path.basename(members[0].filename))
        with z.open(members[0]) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 22)
    return target


_LINE = re.compile(r"CSV Error on Line: (\d+)")


def _clean(e: Exception, file: str | None, where: str | None = None) -> str:
    """DuckDB's message, shortened to what a user needs, located where possible."""
    text = str(e)
    lines = [ln for ln in text.splitlines() if ln.strip()]
    m = _LINE.search(text)
    if m and file:
        where_at = f"{file}:{m.group(1)}"
        if "Invalid unicode" in text or "not utf-8 encoded" in text:
            return (f"{where_at}: not valid UTF-8 (CSV files are read as UTF-8 unless told)"
                    "\n    hint: declare the file's encoding, e.g. options: "
                    "{encoding: latin-1} (or utf-16)")
        size = re.search(r"Maximum line size of (\d+) bytes exceeded\. Actual Size:(\d+)", text)
        if size:
            limit, actual = int(size.group(1)), int(size.group(2))
            return (f"{where_at}: the line holds {actual:,} bytes, more than the reader's "
                    f"max_line_size of {limit:,}\n    hint: raise it (options: "
                    f"{{max_line_size: {actual + 2}}}), or set 'on_error: quarantine' to set "
                    "such rows aside")
        detail = next((ln for ln in lines[1:] if ln.startswith(("Error", "Expected", "Original"))
                       and not ln.startswith("Original")), lines[0])
        original = next((ln for ln in lines if ln.startswith("Original Line:")), None)
        msg = f"{where_at}: {detail}"
        if original:
            msg += f"\n    {original[:300]}" + ("…" if len(original) > 300 else "")
        hint = ("fix the row, declare the column's type, or set 'on_error: quarantine' to "
                "set bad rows aside")
        value = re.search(r'Could not convert string "([^"]*)"', text)
        if value:
            v = value.group(1)
            hint += (f"; if {v!r} marks a missing value, declare it: options: "
                     f"{{nullstr: {v!r}}}")
        return msg + "\n    hint: " + hint
    head = lines[0] if lines else text
    more = next((ln for ln in lines[1:] if "LINE" in ln or "Candidate" in ln), "")
    prefix = f"{file}: " if file else (f"{where}: " if where else "")
    return f"{prefix}{head}" + (f" ({more.strip()})" if more else "")


def _load_function(path: str, func: str) -> Any:
    name = "steward_user_" + xxhash.xxh64_hexdigest(path.encode())
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BuildError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as e:
        raise BuildError(f"{path}: importing failed: {type(e).__name__}: {e}") from None
    fn = getattr(module, func, None)
    if fn is None:
        raise BuildError(f"{path}: no function {func!r}")
    return fn


def _convert(table: Any, kind: str) -> Any:
    if kind == "pandas":
        return table.to_pandas()
    if kind == "polars":
        import polars as pl

        return pl.from_arrow(table)
    return table


_RETURN = ("return a pyarrow Table, a pandas or polars DataFrame, a list of row dicts or a "
           "dict of column name -> equal-length list of values")


class _NotATable(ValueError):
    """What a Python product returned, said in words, when it cannot be a table."""

    def __init__(self, what: str, hint: str = _RETURN):
        super().__init__(what)
        self.what, self.hint = what, hint


def _what(result: Any) -> str:
    name = type(result).__name__
    return f"{'an' if name[:1].lower() in 'aeiou' else 'a'} {name}"


def _check_columns(result: dict[Any, Any]) -> None:
    """A dict must map column names to columns of one length; say which entry is not."""
    lengths: dict[str, int] = {}
    for key, value in result.items():
        if not isinstance(key, str):
            raise _NotATable(f"a dict with the key {key!r} ({type(key).__name__}); column "
                             "names are strings")
        if isinstance(value, str | bytes | dict) or not hasattr(value, "__len__"):
            raise _NotATable(f"a dict whose value for {key!r} is {type(value).__name__}, not "
                             "a column (a list of values)")
        lengths[key] = len(value)
    if len(set(lengths.values())) > 1:
        (a, na), (b, nb) = _two_lengths(lengths)
        raise _NotATable(f"a dict whose columns differ in length: {a!r} has {na:,} values, "
                         f"{b!r} has {nb:,}")


def _duplicates(names: list[str]) -> str:
    """The names given more than once, quoted, or an empty string."""
    from collections import Counter

    return ", ".join(repr(n) for n, k in sorted(Counter(names).items()) if k > 1)


def _two_lengths(lengths: dict[str, int]) -> list[tuple[str, int]]:
    first = next(iter(lengths.items()))
    other = next((k, n) for k, n in lengths.items() if n != first[1])
    return [first, other]


def _to_arrow(result: Any) -> Any:
    import pyarrow as pa

    if isinstance(result, pa.Table | pa.RecordBatchReader):
        return result
    if isinstance(result, pa.RecordBatch):
        return pa.Table.from_batches([result])
    mod = type(result).__module__.split(".")[0]
    if mod == "pandas":
        dups = _duplicates([str(c) for c in result.columns])
        if dups:  # (pyarrow refuses them with a message about pandas internals)
            raise _NotATable(f"a table with duplicate column names: {dups}",
                             "give each column its own name")
        return pa.Table.from_pandas(result, preserve_index=False)
    if mod == "polars":
        return result.to_arrow()
    if mod == "duckdb":
        return arrow_table(result)
    if isinstance(result, list) and all(isinstance(r, dict) for r in result):
        return pa.Table.from_pylist(result)
    if isinstance(result, dict):
        _check_columns(result)
        return pa.table(result)
    return None


def _python_error(e: Exception, product: Product) -> str:
    import traceback

    frames = traceback.extract_tb(e.__traceback__)
    user = [f for f in frames if f.filename.endswith(os.path.basename(product.file))]
    where = f"{product.file}:{user[-1].lineno}" if user else product.file
    return f"{where}: {product.name} raised {type(e).__name__}: {e}"
