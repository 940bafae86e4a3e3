"""Rows of a file source under ``on_error: quarantine``: every row read is either
published or set aside, and the two add up.

DuckDB's CSV reader records the rows it rejects (``store_rejects``), but a line longer
than its ``max_line_size`` is skipped without a record, and its JSON reader has no
rejects table at all. So, for a source that quarantines:

- CSV: the records of each file are counted with Python's ``csv`` module (quoted line
  breaks included); lines too long for the reader are set aside with the rows DuckDB
  rejected, and a build whose published and quarantined rows do not add up to the rows
  read fails, naming the difference.
- NDJSON: each line is parsed first; a line that is not a JSON object is set aside, the
  others are read by DuckDB.
- JSON, NDJSON and Parquet with declared types: a value that does not cast sets its row
  aside (``TRY_CAST``) instead of failing the build.

The quarantine file is ``quarantine/rejected_rows.parquet`` with the columns ``file,
line, column_name, error_type, raw_line, error_message``.
"""

from __future__ import annotations

import csv
import gzip
import json
import os
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_LINE_SIZE = 2_000_000  # DuckDB's default max_line_size
RAW_KEEP = 2_000  # characters of an over-long raw line kept in the quarantine file


@dataclass
class Rejected:
    """A row set aside before or beside DuckDB's own rejects."""

    file: str
    line: int
    error_type: str
    raw_line: str
    error_message: str
    column_name: str | None = None


@dataclass
class CsvCount:
    records: int = 0
    too_long: list[Rejected] = field(default_factory=list)


def _open(path: str) -> Any:
    opener: Any = gzip.open if path.endswith(".gz") else open
    return opener(path, "rt", encoding="utf-8", errors="replace", newline="")


def count_csv(paths: Iterable[str], delim: str, header: bool, max_line: int,
              quote: str = '"', shown: Mapping[str, str] | None = None) -> CsvCount:
    """The data records of CSV files (blank lines skipped), and the records longer than
    ``max_line`` characters (which DuckDB's reader drops without a reject row)."""
    csv.field_size_limit(sys.maxsize)
    out = CsvCount()
    for path in paths:
        with _open(path) as f:
            reader = csv.reader(f, delimiter=delim, quotechar=quote or '"')
            first = True
            prev = 0
            for record in reader:
                start = prev + 1
                prev = reader.line_num
                if not record or record == [""]:
                    continue
                if first and header:
                    first = False
                    continue
                first = False
                out.records += 1
                size = sum(len(x) for x in record) + len(record)
                if size > max_line:
                    raw = delim.join(record)
                    out.too_long.append(Rejected(
                        (shown or {}).get(path, path), start, "LINE SIZE OVER MAXIMUM",
                        raw[:RAW_KEEP] + (f"… ({size:,} characters)" if size > RAW_KEEP
                                          else ""),
                        f"the line holds {size:,} characters, more than the reader's "
                        f"max_line_size of {max_line:,}; raise it with options: "
                        f"{{max_line_size: {size + 2}}} to read it"))
    return out


def split_ndjson(paths: Iterable[str], scratch: str, shown: Mapping[str, str] | None = None
                 ) -> tuple[list[str], list[Rejected], int]:
    """Copy the lines of NDJSON files that hold a JSON object into new files; return
    them, the lines set aside, and the number of records read (non-blank lines)."""
    good_files: list[str] = []
    bad: list[Rejected] = []
    records = 0
    for k, path in enumerate(paths):
        target = os.path.join(scratch, f"good-{k}.ndjson")
        with _open(path) as src, open(target, "w", encoding="utf-8") as dst:
            for n, line in enumerate(src, start=1):
                text = line.strip()
                if not text:
                    continue
                records += 1
                try:
                    value = json.loads(text)
                except ValueError as e:
                    bad.append(Rejected((shown or {}).get(path, path), n, "INVALID JSON",
                                        text[:RAW_KEEP], str(e)))
                    continue
                if not isinstance(value, dict):
                    bad.append(Rejected((shown or {}).get(path, path), n, "NOT AN OBJECT",
                                        text[:RAW_KEEP],
                                        f"a record is a JSON object; found "
                                        f"{type(value).__name__}"))
                    continue
                dst.write(text + "\n")
        good_files.append(target)
    return good_files, bad, records


def rejected_table(rows: list[Rejected]) -> Any:
    import pyarrow as pa

    return pa.table({
        "file": pa.array([r.file for r in rows], pa.string()),
        "line": pa.array([r.line for r in rows], pa.int64()),
        "column_name": pa.array([r.column_name for r in rows], pa.string()),
        "error_type": pa.array([r.error_type for r in rows], pa.string()),
        "raw_line": pa.array([r.raw_line for r in rows], pa.string()),
        "error_message": pa.array([r.error_message for r in rows], pa.string()),
    })


_NUMERIC_NAME = re.compile(
    r"(^|_)(id|amount|price|cost|count|qty|quantity|total|num|number|value|rate|score|"
    r"delay|age|year|size|weight|height|distance)s?($|_)", re.IGNORECASE)


def csv_warnings(cur: Any, path: str, shown: str, out: str, opts: Mapping[str, Any],
                 types: Mapping[str, str]) -> tuple[str, ...]:
    """What a CSV read that succeeded probably got wrong, as notes for the run:

    - one column whose name holds a delimiter (the sniffer picked the wrong one);
    - an undeclared column read as text although (nearly) all its values are numbers,
      or whose name says it is a number: a missing-value marker such as ``NA`` is the
      usual cause.
    """
    from sqlglot import exp

    def ident(name: str) -> str:
        return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")  # type: ignore[union-attr]

    lit = exp.Literal.string(out).sql(dialect="duckdb")
    cols = [(r[0], str(r[1])) for r in
            cur.execute(f"DESCRIBE SELECT * FROM read_parquet({lit})").fetchall()]
    notes: list[str] = []
    used = opts.get("delim") or opts.get("sep") or opts.get("delimiter")
    if len(cols) == 1:
        name = cols[0][0]
        found = next((d for d in (",", ";", "\t", "|", "#", ":", "^", "~")
                      if d in name and d != used), None)
        if found:
            shown_d = "\\t" if found == "\t" else found
            notes.append(f"{shown} was read as one column {name!r}, but its header holds "
                         f"{shown_d!r}: if that is the delimiter, set options: "
                         f"{{delim: '{shown_d}'}}")
    text = [c for c, t in cols if t == "VARCHAR" and c not in types]
    if not text:
        return tuple(notes)
    aggs = ", ".join(
        f"count({ident(c)}), count(TRY_CAST({ident(c)} AS DOUBLE)), "
        f"list(DISTINCT {ident(c)}) FILTER (WHERE TRY_CAST({ident(c)} AS DOUBLE) IS NULL "
        f"AND {ident(c)} IS NOT NULL)[1:3]" for c in text)
    row = cur.execute(f"SELECT {aggs} FROM read_parquet({lit})").fetchone()
    for k, c in enumerate(text):
        n, numeric, odd = row[3 * k], row[3 * k + 1], row[3 * k + 2] or []
        if not n or not odd or numeric == 0:
            continue
        if numeric / n >= 0.9 or _NUMERIC_NAME.search(c):
            examples = ", ".join(repr(x) for x in odd)
            notes.append(
                f"{shown}: column {c!r} was read as text because of value(s) {examples} "
                f"({n - numeric:,} of {n:,} are not numbers). If they mark missing values, "
                f"declare the marker (options: {{nullstr: {odd[0]!r}}}) and the column's "
                f"type (columns: {{{c}: {{type: DOUBLE}}}})")
    return tuple(notes)
