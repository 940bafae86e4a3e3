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
        row = cur.execute(f"COPY ({select_sql}) TO {_lit(out)} {_PARQUET}").fetchone()
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
            rows = self._copy(sql, out)
        except duckdb.Error as e:
            raise BuildError(_clean(e, product.file)) from None
        return self._result(out, rows)

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
        cur = self.connection()
        types = {c: s.type for c, s in spec.columns.items() if s.type}
        opts = dict(spec.options)
        quarantine = spec.on_error == "quarantine"
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
                opts["store_rejects"] = True
            scan = f"read_csv({_list(real)}{_opts(opts)})"
        elif fmt == "parquet":
            scan = f"read_parquet({_list(real)}{_opts(opts)})"
        else:
            if fmt == "ndjson":
                opts.setdefault("format", "newline_delimited")
            scan = f"read_json({_list(real)}{_opts(opts)})"
        select = f"SELECT * FROM {scan}"
        if types and fmt != "csv":
            casts = ", ".join(f"CAST({_ident(c)} AS {t}) AS {_ident(c)}" for c, t in types.items())
            select = f"SELECT * REPLACE ({casts}) FROM {scan}"
        try:
            rows = self._copy(select, out)
        except duckdb.Error as e:
            raise BuildError(_clean(e, shown[0] if len(shown) == 1 else None,
                                    where=f"source {product.name}")) from None
        rejected = 0
        if quarantine and fmt == "csv":
            qdir = os.path.join(out_dir, "quarantine")
            os.makedirs(qdir, exist_ok=True)
            rejected = int(cur.execute("SELECT count(*) FROM reject_errors").fetchone()[0])
            if rejected:
                cur.execute(
                    f"COPY (SELECT s.file_path AS file, e.line, e.column_name, e.error_type, "
                    f"e.csv_line AS raw_line, e.error_message FROM reject_errors e "
                    f"JOIN reject_scans s USING (scan_id)) TO "
                    f"{_lit(os.path.join(qdir, 'rejected_rows.parquet'))} {_PARQUET}"
                )
            cur.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
        notes = (f"{rejected} malformed row(s) quarantined",) if rejected else ()
        return self._result(out, rows, rejected, notes)

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

    def data_hash(self, files: list[str]) -> str:
        h = xxhash.xxh3_128()
        for f in files:
            with open(f, "rb") as fh:
                while chunk := fh.read(1 << 22):
                    h.update(chunk)
        return h.hexdigest()


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
        detail = next((ln for ln in lines[1:] if ln.startswith(("Error", "Expected", "Original"))
                       and not ln.startswith("Original")), lines[0])
        original = next((ln for ln in lines if ln.startswith("Original Line:")), None)
        msg = f"{file}:{m.group(1)}: {detail}"
        if original:
            msg += f"\n    {original}"
        return msg + "\n    hint: fix the row, declare the column's type, or set " \
                     "'on_error: quarantine' to set bad rows aside"
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
