"""SQL text for DuckDB and DuckDB's errors in words a user can act on."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from typing import Any

import duckdb
from sqlglot import exp

from steward.core.errors import BuildError, Problem
from steward.core.spec import EngineSpec
from steward.core.sqltext import sql_string

lit = sql_string  # a DuckDB string literal (steward.core.sqltext)


def statements(sql: str) -> list[Any]:
    try:
        return list(duckdb.extract_statements(sql))
    except duckdb.Error as e:
        raise BuildError(clean_error(e, None, where="query")) from None


def query_error(e: Exception, shorts: Mapping[str, list[str]]) -> str:
    text = str(e)
    m = re.search(r"Table with name (\w+) does not exist", text)
    if m and len(shorts.get(m.group(1), [])) > 1:
        names = sorted(shorts[m.group(1)])
        return (f"query: {m.group(1)!r} is ambiguous: write one of {', '.join(names)}")
    if "Permission Error" in text or "disabled by configuration" in text:
        first = text.splitlines()[0]
        return (f"query: refused: {first.split(': ', 1)[-1]} (steward sql reads products "
                "and the store only)")
    return clean_error(e, None, where="query")


def setting_problems(spec: EngineSpec, root: str, error: Exception) -> list[Problem]:
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
            reason = first_line(e)
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
                                f"DuckDB refuses the engine settings: {first_line(error)}")]


def first_line(e: Exception) -> str:
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


def sql_list(paths: list[str]) -> str:
    return "[" + ", ".join(lit(p) for p in paths) + "]"


def ident(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect="duckdb")  # type: ignore[union-attr]


_LINE = re.compile(r"CSV Error on Line: (\d+)")


def clean_error(e: Exception, file: str | None, where: str | None = None) -> str:
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


# What can make a 128-bit integer out of columns that are not: DuckDB's functions that
# return HUGEINT or UHUGEINT for narrower arguments (``sum``, ``count_if``, ``factorial``,
# ``md5_number``, ``binom``...; list functions that aggregate), the type names, and
# integer literals past 64 bits. Products read Parquet, which has no 128-bit integer.
_WIDE_WORDS = ("sum", "count_if", "countif", "factorial", "md5_number", "binom", "hugeint",
               "int128", "list_", "array_", "aggr", "reduce", "apply", "->")
_BIG_LITERAL = re.compile(r"\d{19}")


def may_be_wide(code: str) -> bool:
    """Whether a query's text could produce a HUGEINT/UHUGEINT column (conservative: a
    false answer is certain; a true one costs a DESCRIBE before the build)."""
    low = code.lower()
    return any(w in low for w in _WIDE_WORDS) or _BIG_LITERAL.search(low) is not None
