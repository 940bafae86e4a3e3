"""File sources on DuckDB: CSV (plain, gzip, zip), Parquet, JSON and NDJSON, with
declared types as casts and ``on_error: quarantine`` (see :mod:`steward.engine.ingest`)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
import zipfile
from collections.abc import Mapping
from typing import Any

import duckdb

from steward.core.errors import BuildError
from steward.core.model import Product
from steward.core.spec import FileSource
from steward.engine.base import BuildResult
from steward.engine.duckdb_text import arrow_table, clean_error, ident, lit, sql_list


class FileSources:
    """The file-source half of :class:`steward.engine.duckdb.DuckDBEngine`."""

    root: str

    def connection(self) -> Any:  # (the engine's)
        raise NotImplementedError

    def _copy(self, select_sql: str, out: str) -> int:
        raise NotImplementedError

    def _result(self, out: str, rows: int, rejected: int = 0,
                notes: tuple[str, ...] = ()) -> BuildResult:
        raise NotImplementedError

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
            scan = f"read_csv({sql_list(scan_files)}{_opts(opts)})"
        elif fmt == "parquet":
            scan = f"read_parquet({sql_list(scan_files)}{_opts(opts)})"
        else:
            if fmt == "ndjson":
                opts.setdefault("format", "newline_delimited")
                if quarantine:
                    folder = tempfile.mkdtemp(dir=out_dir, prefix="json-")
                    scan_files, set_aside, records = ingest.split_ndjson(real, folder, names)
            scan = f"read_json({sql_list(scan_files)}{_opts(opts)})"
        select = f"SELECT * FROM {scan}"
        cast_bad = ""
        if types and fmt != "csv":
            if quarantine:
                # a value that does not cast sets its row aside instead of failing the build
                tries = ", ".join(f"TRY_CAST({ident(c)} AS {t}) AS {ident(c)}"
                                  for c, t in types.items())
                cast_bad = " OR ".join(
                    f"(TRY_CAST({ident(c)} AS {t}) IS NULL AND {ident(c)} IS NOT NULL)"
                    for c, t in types.items())
                select = f"SELECT * REPLACE ({tries}) FROM {scan} WHERE NOT ({cast_bad})"
            else:
                casts = ", ".join(f"CAST({ident(c)} AS {t}) AS {ident(c)}"
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
                    f"WHEN TRY_CAST({ident(c)} AS {t}) IS NULL AND {ident(c)} IS NOT NULL "
                    f"THEN {lit(c)}" for c, t in types.items())
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
                                          f"sniff_csv({lit(real[0])})").fetchone()
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
            raise BuildError(clean_error(e, shown[0] if len(shown) == 1 else None,
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
        return "{" + ", ".join(f"{lit(str(k))}: {_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    return lit(str(v))


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
