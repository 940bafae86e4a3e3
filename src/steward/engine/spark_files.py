"""File sources on Spark: CSV (plain or gzip), Parquet, JSON and NDJSON read by Spark.

The data is read by Spark; what the data *is* — each column's name and type, a CSV's
delimiter, quoting and date formats — is decided by DuckDB's sniffer on a sample, as on
the DuckDB engine, and handed to Spark's reader as an explicit schema and options. So a
source read by Spark has the same columns, types and values as the same source read by
DuckDB, the same fingerprint, and products downstream see no difference. A value Spark
cannot parse as the sniffed type fails the build (``FAILFAST``): nothing becomes NULL
silently.

What Spark's readers cannot do as DuckDB does is read by the embedded DuckDB engine, into
the same version layout, and the run says why in a note: ``on_error: quarantine`` (its
rejected-rows table is DuckDB's), zipped or zstd files, a reader option Spark has no
equivalent for, a CSV with a comment marker or skipped lines, a column of a type Spark
has no type for (``TIME``, ``UUID``, unsigned integers ...), or a JSON file that is not
one array and not one object a line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from sqlglot import exp

from steward.core.errors import BuildError
from steward.core.model import Product
from steward.core.spec import FileSource
from steward.sql.spark import DUCKDB_ONLY_TYPES

# DuckDB read_csv options and their Spark CSV reader equivalents
CSV_OPTIONS = {"delim": "sep", "sep": "sep", "delimiter": "sep", "header": "header",
               "quote": "quote", "escape": "escape", "nullstr": "nullValue",
               "dateformat": "dateFormat", "timestampformat": "timestampFormat"}
# options the schema already carries
SCHEMA_OPTIONS = {"columns", "types", "auto_detect"}
JSON_OPTIONS = {"format", "columns"}

# DuckDB strftime codes -> Java DateTimeFormatter patterns
_FORMAT_CODES = {"%Y": "yyyy", "%y": "yy", "%m": "MM", "%-m": "M", "%d": "dd", "%-d": "d",
                 "%H": "HH", "%-H": "H", "%I": "hh", "%M": "mm", "%S": "ss", "%f": "SSSSSS",
                 "%g": "SSS", "%n": "SSSSSSSSS", "%p": "a", "%b": "MMM", "%B": "MMMM",
                 "%a": "EEE", "%A": "EEEE", "%z": "XX", "%j": "DDD"}


class SparkReadPlan:
    """How Spark reads a file source: format, files, schema (Spark DDL), reader options,
    and the declared casts applied after reading (Parquet and JSON)."""

    def __init__(self, fmt: str, files: list[str], ddl: str | None,
                 options: dict[str, str], casts: dict[str, str]):
        self.fmt = fmt
        self.files = files
        self.ddl = ddl
        self.options = options
        self.casts = casts


def read_plan(product: Product, paths: list[str], fmt: str, con: Any) -> SparkReadPlan | str:
    """How Spark reads ``product``'s files, or why it cannot read them as DuckDB does (the
    note the run shows when DuckDB reads them instead). ``con``: a DuckDB connection, for
    the sniffer."""
    spec = product.spec
    assert isinstance(spec, FileSource)
    if spec.on_error == "quarantine":
        return "on_error: quarantine is read by DuckDB (its rejected rows table)"
    packed = [p for p in paths if p.lower().endswith((".zip", ".zst"))]
    if packed:
        return f"{os.path.basename(packed[0])} is compressed in a way Spark does not read"
    odd = [p for p in paths if any(c in p for c in "*?[]{}:\\")]
    if odd:  # (Spark's reader takes a path as a pattern)
        return f"the file name {os.path.basename(odd[0])!r} holds a pattern character"
    types = {c: s.type for c, s in spec.columns.items() if s.type}
    opts = {k.lower(): v for k, v in spec.options.items()}
    if fmt == "csv":
        return _csv_plan(product, paths, opts, types, con)
    if fmt == "parquet":
        if opts:
            return f"the Parquet option(s) {', '.join(sorted(opts))} have no Spark equivalent"
        from steward.engine.duckdb_text import sql_list

        try:
            columns = con.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_list(paths)})"
                                  ).fetchall()
        except Exception as e:
            raise BuildError(f"source {product.name}: {_first_line(e)}") from None
        ddl = _ddl([(str(r[0]), str(r[1])) for r in columns])
        if ddl.startswith("!"):
            return ddl[1:]
        return _with_casts(SparkReadPlan("parquet", paths, None, {}, {}), types, product)
    if fmt in ("json", "ndjson"):
        return _json_plan(product, paths, fmt, opts, types, con)
    return f"the format {fmt!r} is read by DuckDB"


def _csv_plan(product: Product, paths: list[str], opts: dict[str, Any],
              types: dict[str, str], con: Any) -> SparkReadPlan | str:
    from steward.engine.duckdb_files import _csv_header, _opts
    from steward.engine.duckdb_text import sql_list

    other = sorted(set(opts) - set(CSV_OPTIONS) - SCHEMA_OPTIONS)
    if other:
        return f"the CSV option(s) {', '.join(other)} have no Spark equivalent"
    if isinstance(opts.get("nullstr"), list | tuple):
        return "several nullstr markers have no Spark equivalent (Spark takes one)"
    read = dict(opts)
    header = _csv_header(paths[0], read)
    if header and types and set(header) <= set(types) and "columns" not in read:
        read.update(columns={c: types[c] for c in header}, header=True, auto_detect=False)
        read.setdefault("delim", header.delim)
    elif types:
        read.setdefault("types", types)
    dialect = {k: v for k, v in read.items() if k in CSV_OPTIONS}
    try:
        sniffed = con.execute(f"SELECT Delimiter, Quote, Escape, Comment, SkipRows, HasHeader, "
                              f"DateFormat, TimestampFormat FROM sniff_csv("
                              f"{sql_list([paths[0]])[1:-1]}{_opts(dialect)})").fetchone()
        columns = con.execute(f"DESCRIBE SELECT * FROM read_csv({sql_list(paths)}"
                              f"{_opts(read)})").fetchall()
    except Exception as e:
        raise BuildError(f"source {product.name}: {_first_line(e)}") from None
    delim, quote, escape, comment, skip, has_header, datefmt, tsfmt = sniffed
    if (comment and comment != "(empty)") or skip:
        return "a CSV with a comment marker or skipped lines is read by DuckDB"
    if len(str(delim)) != 1:
        return f"the delimiter {delim!r} is more than one character"
    options = {"sep": str(delim), "header": _bool(read.get("header", has_header)),
               "mode": "FAILFAST", "multiLine": "true", "enforceSchema": "true",
               "encoding": "UTF-8"}
    options["quote"], options["escape"] = _quoting(read.get("quote", quote),
                                                   read.get("escape", escape))
    if "nullstr" in read:
        options["nullValue"] = str(read["nullstr"])
    for key, fmt in (("dateFormat", read.get("dateformat") or datefmt),
                     ("timestampNTZFormat", read.get("timestampformat") or tsfmt)):
        if fmt and fmt != "(empty)":
            java = java_format(str(fmt))
            if java is None:
                return f"the date format {fmt!r} has no Spark equivalent"
            options[key] = java
    if "timestampNTZFormat" in options:
        options["timestampFormat"] = options["timestampNTZFormat"]
    casts: dict[str, str] = {}
    ddl = _ddl([(str(r[0]), str(r[1])) for r in columns], casts)
    if ddl.startswith("!"):
        return ddl[1:]
    return SparkReadPlan("csv", paths, ddl, options, casts)


def _json_plan(product: Product, paths: list[str], fmt: str, opts: dict[str, Any],
               types: dict[str, str], con: Any) -> SparkReadPlan | str:
    from steward.engine.duckdb_files import _opts
    from steward.engine.duckdb_text import sql_list

    other = sorted(set(opts) - JSON_OPTIONS)
    if other:
        return f"the JSON option(s) {', '.join(other)} have no Spark equivalent"
    layout = "newline_delimited" if fmt == "ndjson" else opts.get("format") or _json_layout(
        paths)
    if layout not in ("array", "newline_delimited"):
        return "a JSON file that is neither one array nor one object a line is read by DuckDB"
    read = dict(opts)
    read["format"] = layout
    try:
        columns = con.execute(f"DESCRIBE SELECT * FROM read_json({sql_list(paths)}"
                              f"{_opts(read)})").fetchall()
    except Exception as e:
        raise BuildError(f"source {product.name}: {_first_line(e)}") from None
    casts: dict[str, str] = {}
    ddl = _ddl([(str(r[0]), str(r[1])) for r in columns], casts)
    if ddl.startswith("!"):
        return ddl[1:]
    options = {"mode": "FAILFAST", "multiLine": "true" if layout == "array" else "false",
               "encoding": "UTF-8"}
    return _with_casts(SparkReadPlan("json", paths, ddl, options, casts), types, product)


def _json_layout(paths: list[str]) -> str:
    """``array`` (the file is one JSON array), ``newline_delimited`` (one object a line),
    or ``other``: what the first file starts with."""
    import json

    with open(paths[0], "rb") as f:
        head = f.read(1 << 16).decode("utf-8", "replace")
    text = head.lstrip()
    if text.startswith("["):
        return "array"
    first = text.split("\n", 1)[0].strip()
    try:
        json.loads(first)
    except ValueError:
        return "other"
    return "newline_delimited"


def _with_casts(plan: SparkReadPlan, types: Mapping[str, str], product: Product
                ) -> SparkReadPlan | str:
    for column, duck in types.items():
        spark = spark_type(duck)
        if spark is None:
            return f"column {column!r}: Spark has no type for {duck}"
        plan.casts[column] = spark
    return plan


def _ddl(columns: list[tuple[str, str]], casts: dict[str, str] | None = None) -> str:
    """Spark DDL for DuckDB (name, type) pairs, or ``!why`` when a type has no Spark
    equivalent. With ``casts``, a ``TIMESTAMP`` column is read as an instant (a value with
    a zone, ``...T06:00:00Z``, is moved to UTC, as DuckDB does; Steward's sessions are in
    UTC) and cast back to ``TIMESTAMP_NTZ`` (recorded in ``casts``)."""
    parts = []
    for name, duck in columns:
        spark = spark_type(duck)
        if spark is None:
            return f"!column {name!r} is {duck}, which Spark has no type for"
        if casts is not None and spark == "TIMESTAMP_NTZ":
            spark = "TIMESTAMP_LTZ"
            casts[name] = "TIMESTAMP_NTZ"
        parts.append(f"`{name.replace('`', '``')}` {spark}")
    return ", ".join(parts)


def spark_type(duck: str) -> str | None:
    """A DuckDB type as Spark DDL, or None where Spark has no such type."""
    try:
        node = exp.DataType.build(duck, dialect="duckdb")
    except Exception:
        return None
    if any(t.this in DUCKDB_ONLY_TYPES for t in node.find_all(exp.DataType)):
        return None
    for t in list(node.find_all(exp.DataType)):  # (Steward's sessions read TIMESTAMP as NTZ)
        if t.this == exp.DataType.Type.TIMESTAMPTZ:
            t.set("this", exp.DataType.Type.TIMESTAMPLTZ)
    return node.sql("spark")


def java_format(duck: str) -> str | None:
    """A DuckDB strftime format as a Java DateTimeFormatter pattern, or None."""
    out: list[str] = []
    for token in re.findall(r"%-?[A-Za-z]|%%|[A-Za-z]+|[^%A-Za-z]+", duck):
        if token.startswith("%") and token != "%%":
            if token not in _FORMAT_CODES:
                return None
            out.append(_FORMAT_CODES[token])
        elif token == "%%":
            out.append("%")
        elif token.isalpha():
            out.append(f"'{token}'")
        else:
            out.append(token.replace("'", "''"))
    return "".join(out)


def _bool(value: Any) -> str:
    return "true" if value in (True, "true", "True", 1) else "false"


def _quoting(quote: Any, escape: Any) -> tuple[str, str]:
    """Spark's ``quote`` and ``escape`` for DuckDB's sniffed ones (``(empty)``: none; no
    escape inside quotes: a doubled quote, as RFC 4180)."""
    q = str(quote) if quote not in (None, "") else '"'
    q = "\u0000" if q == "(empty)" else q
    e = str(escape) if escape not in (None, "", "(empty)") else q
    return q, e


def _first_line(e: Exception) -> str:
    return next((ln.strip() for ln in str(e).splitlines() if ln.strip()), type(e).__name__)
