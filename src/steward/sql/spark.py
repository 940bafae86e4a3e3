"""Steward's dialect to Spark SQL, with sqlglot.

Models, checks and profiles are written in Steward's dialect
(:data:`steward.sql.parse.DIALECT`), where a version's files are read with
``read_parquet([...])``. :func:`to_spark` turns such a query into Spark SQL: each scan
becomes a named view (the engine registers it over the files), and the few functions
sqlglot passes through unchanged are mapped to Spark's. :func:`spark_problems` says, at
load time, what in a model Spark would not run as written: a construct sqlglot cannot
transpile faithfully (``unsupported_level=RAISE``), a join or function Spark lacks, a
type only DuckDB has.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel, ParseError, UnsupportedError

from steward.sql.parse import DIALECT

SPARK = "spark"

# DuckDB types Spark has no type for (a model that casts to one cannot run on Spark)
DUCKDB_ONLY_TYPES = {
    exp.DataType.Type.INT128: "HUGEINT", exp.DataType.Type.UINT128: "UHUGEINT",
    exp.DataType.Type.UTINYINT: "UTINYINT", exp.DataType.Type.USMALLINT: "USMALLINT",
    exp.DataType.Type.UINT: "UINTEGER", exp.DataType.Type.UBIGINT: "UBIGINT",
    exp.DataType.Type.UNION: "UNION", exp.DataType.Type.ENUM: "ENUM",
    exp.DataType.Type.UUID: "UUID", exp.DataType.Type.BIT: "BIT",
    exp.DataType.Type.TIMETZ: "TIME WITH TIME ZONE", exp.DataType.Type.TIME: "TIME",
    exp.DataType.Type.TIMESTAMP_NS: "TIMESTAMP_NS", exp.DataType.Type.JSON: "JSON",
}
# Steward's own queries cast to unsigned types where a signed one of Spark does the same
_INTERNAL_TYPES = {exp.DataType.Type.UBIGINT: "BIGINT", exp.DataType.Type.UINT: "BIGINT",
                   exp.DataType.Type.USMALLINT: "INT", exp.DataType.Type.UTINYINT: "SMALLINT",
                   exp.DataType.Type.INT128: "DECIMAL(38, 0)",
                   exp.DataType.Type.UINT128: "DECIMAL(38, 0)"}

# functions sqlglot does not know, which Spark has under the same name and meaning
SAME_NAME = frozenset({
    "abs", "acos", "asin", "atan", "atan2", "cbrt", "ceil", "ceiling", "concat_ws", "cos",
    "cosh", "cot", "degrees", "exp", "factorial", "floor", "gcd", "isnan", "lcm", "ln",
    "log10", "log2", "lower", "lpad", "ltrim", "md5", "nullif", "pi", "radians", "repeat",
    "reverse", "rpad", "rtrim", "sha1", "sign", "sin", "sinh", "sqrt", "tan", "tanh",
    "translate", "trim", "upper", "left", "right", "length", "ascii", "bit_length",
    "initcap", "instr", "least", "greatest", "nvl", "ifnull", "coalesce", "isnull",
    "weekday", "dayofweek", "dayofyear", "weekofyear", "quarter", "last_day", "make_date",
    "sum", "min", "max", "avg", "count", "stddev_samp", "stddev_pop", "var_samp", "var_pop",
    "corr", "covar_pop", "covar_samp", "bool_and", "bool_or", "every", "any_value",
    "first", "last", "kurtosis", "skewness", "median", "mode", "product",
    "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
    "first_value", "last_value", "nth_value", "hour", "minute",
    "second", "year", "month", "day", "dayofmonth", "split_part", "regexp_replace",
    "regexp_extract", "position", "replace", "contains", "starts_with", "ends_with",
})


class SparkSqlError(ValueError):
    """What in a query Spark cannot run as written."""


@dataclass
class SparkQuery:
    """A query in Spark SQL, with the views its scans read: view name -> files."""

    sql: str
    scans: dict[str, list[str]] = field(default_factory=dict)
    describe: bool = False  # DESCRIBE <query>: ``sql`` is the described query


def scan_view(files: list[str]) -> str:
    """The view name a version's files are read under (the same files, the same name)."""
    digest = hashlib.blake2b("\0".join(files).encode(), digest_size=10).hexdigest()
    return f"steward_scan_{digest}"


def _files(node: exp.Expression) -> list[str] | None:
    """The paths of a ``read_parquet(...)`` call, or None when it is not one."""
    if isinstance(node, exp.ReadParquet) or (
            isinstance(node, exp.Anonymous) and str(node.this).lower() == "read_parquet"):
        args = node.expressions
        if not args:
            return None
        first = args[0]
        items = first.expressions if isinstance(first, exp.Array) else [first]
        if all(isinstance(i, exp.Literal) and i.is_string for i in items):
            return [str(i.this) for i in items]
    return None


def _fn(name: str, *args: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this=name, expressions=list(args))


def _epoch_us(e: exp.Expression) -> exp.Expression:
    return _fn("unix_micros", exp.Cast(this=e, to=exp.DataType.build("TIMESTAMP")))


_INTERVALS = {"to_days": 0, "to_hours": 1, "to_minutes": 2, "to_seconds": 3}


def _map_function(node: exp.Anonymous) -> exp.Expression | None:
    """Spark's form of a DuckDB function sqlglot passes through unchanged."""
    name = str(node.this).lower()
    args = [a.copy() for a in node.expressions]
    if name == "hash" and args:  # DuckDB: a 64-bit hash; Spark's hash is 32-bit
        return _fn("xxhash64", *args)
    if name == "epoch_us" and len(args) == 1:
        return _epoch_us(args[0])
    if name in ("isinf", "isfinite") and len(args) == 1:
        # by its text, which works for every type (a date or timestamp is always finite)
        text = exp.Cast(this=args[0], to=exp.DataType.build("STRING"))
        inf = exp.In(this=text, expressions=[exp.Literal.string("Infinity"),
                                             exp.Literal.string("-Infinity")])
        if name == "isinf":
            return inf
        inf.append("expressions", exp.Literal.string("NaN"))
        return exp.Not(this=exp.Paren(this=inf))
    if name in _INTERVALS and len(args) == 1:  # to_minutes(x): an interval of x minutes
        parts: list[exp.Expression] = [exp.Literal.number(0) for _ in range(4)]
        parts[_INTERVALS[name]] = args[0]
        return _fn("make_dt_interval", *parts)
    if name == "quantile_cont" and len(args) == 2:
        return _fn("percentile", *args)
    return None


def _aliases(node: exp.Expression) -> set[str]:
    """The names of the tables the SELECT holding ``node`` reads."""
    select = node.find_ancestor(exp.Select)
    if select is None:
        return set()
    found = set()
    for source in [select.args.get("from_"), *(select.args.get("joins") or [])]:
        if source is not None and source.this is not None:
            found.add(source.this.alias_or_name)
    return found


_DATE_PARTS = tuple(getattr(exp, n) for n in (
    "Year", "Month", "Day", "Quarter", "DayOfWeek", "DayOfMonth", "DayOfYear", "WeekOfYear",
    "Week", "Hour", "Minute", "Second") if hasattr(exp, n))
_ROW_NUMBERS = (exp.RowNumber, exp.Rank, exp.DenseRank, exp.Ntile)


def _int32(node: exp.Expression) -> bool:
    """A date part, or a window's row number / rank: INT on Spark, BIGINT on DuckDB."""
    if isinstance(node, exp.Window):
        return isinstance(node.this, _ROW_NUMBERS)
    return isinstance(node, _DATE_PARTS)


def _smallest_n(node: exp.Expression) -> bool:
    return isinstance(node, exp.ArgMin) and node.args.get("count") is not None


def _smallest(node: exp.Expression, where: exp.Expression | None) -> exp.Expression:
    """DuckDB's ``arg_min(x, key, n)`` (the ``x`` of the ``n`` smallest keys, as a list)
    in Spark: the pairs collected, sorted by key, the first ``n`` values kept."""
    pair = exp.Struct(expressions=[
        exp.PropertyEQ(this=exp.to_identifier("k"), expression=node.expression.copy()),
        exp.PropertyEQ(this=exp.to_identifier("v"), expression=node.this.copy())])
    collected: exp.Expression = exp.Anonymous(this="collect_list", expressions=[pair])
    if where is not None:
        collected = exp.Filter(this=collected, expression=where.copy())
    rest = sqlglot.parse_one(
        f"slice(transform(array_sort(__pairs), p -> p.v), 1, {node.args['count'].sql()})",
        read=SPARK)
    return rest.transform(lambda n: collected.copy() if isinstance(n, exp.Column)
                          and n.name == "__pairs" else n)


def _rewrite(node: exp.Expression, scans: dict[str, list[str]]) -> exp.Expression:
    if isinstance(node, exp.Table):
        files = _files(node.this)
        if files is not None:
            view = scan_view(files)
            scans[view] = files
            table = exp.Table(this=exp.to_identifier(view))
            if node.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(node.alias)))
            return table
    sample = node.args.get("sample") if isinstance(node, exp.Select) else None
    if isinstance(sample, exp.TableSample) and sample.args.get("size") is not None:
        # a repeatable sample of n rows (Spark's TABLESAMPLE (n ROWS) is the first n)
        seed = sample.args.get("seed") or exp.Literal.number(0)
        plain = node.copy()
        assert isinstance(plain, exp.Select)
        plain.set("sample", None)
        return plain.order_by(_fn("rand", seed.copy())).limit(sample.args["size"].copy())
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Column) \
            and not node.this.table and node.this.name in _aliases(node):
        # DuckDB's list(t) of a table alias: its rows as structs
        whole = sqlglot.parse_one(f"struct(`{node.this.name}`.*)", read=SPARK)
        return exp.ArrayAgg(this=whole)
    if isinstance(node, exp.Filter) and _smallest_n(node.this):
        return _smallest(node.this, node.expression)
    if _smallest_n(node):
        return _smallest(node, None)
    if isinstance(node, exp.Round) and node.args.get("decimals") is not None \
            and not node.args.get("steward"):
        # in double arithmetic, as DuckDB's round of a DECIMAL / BIGINT ratio is (Spark's
        # would keep a DECIMAL). A tie in decimal notation may still differ by one unit:
        # DuckDB rounds the binary value (22.275 -> 22.27), Spark what it prints (22.28)
        scale = exp.Pow(this=exp.Literal.number(10), expression=node.args["decimals"].copy())
        inner = exp.Round(this=exp.Mul(this=node.this.copy(), expression=scale.copy()),
                          steward=True)
        return exp.Div(this=inner, expression=scale)
    if _int32(node) and not (isinstance(node.parent, exp.Cast)
                             and node.parent.to.this == exp.DataType.Type.BIGINT):
        # DuckDB's date parts and row numbers are BIGINT, Spark's INT
        return exp.Cast(this=node.copy(), to=exp.DataType.build("BIGINT"))
    if isinstance(node, exp.IsInf):
        return _map_function(exp.Anonymous(this="isinf", expressions=[node.this]))  # type: ignore[return-value]
    if (isinstance(node, exp.BitwiseRightShift) and isinstance(node.this, exp.Anonymous)
            and str(node.this.this).lower() == "hash"):
        # buckets of a 64-bit hash: Spark's is signed, so shift it unsigned
        return _fn("shiftrightunsigned", node.this.copy(), node.expression.copy())
    if isinstance(node, exp.ToDays):
        return _map_function(exp.Anonymous(this="to_days", expressions=[node.this]))  # type: ignore[return-value]
    if isinstance(node, exp.Dayname | exp.Monthname):  # Spark's dayname() says 'Mon'
        pattern = "EEEE" if isinstance(node, exp.Dayname) else "MMMM"
        return _fn("date_format", node.this.copy(), exp.Literal.string(pattern))
    if isinstance(node, exp.TimeToUnix):  # DuckDB's epoch(): seconds, with fractions
        return exp.Div(this=_epoch_us(node.this.copy()),
                       expression=exp.Literal.number("1e6"))
    if isinstance(node, exp.PercentileCont) and node.expression:  # quantile_cont(x, q)
        return _fn("percentile", node.this.copy(), node.expression.copy())
    if isinstance(node, exp.Anonymous):
        mapped = _map_function(node)
        if mapped is not None:
            return mapped
    if isinstance(node, exp.DataType) and node.this in _INTERNAL_TYPES:
        return exp.DataType.build(_INTERNAL_TYPES[node.this], dialect=SPARK)
    return node


# the column names a Spark SQL query returns, its scans registered: (scans, sql) -> names
ColumnsOf = Callable[[dict[str, list[str]], str], list[str]]


def _by_name(tree: exp.Expression, scans: dict[str, list[str]], columns_of: ColumnsOf
             ) -> exp.Expression:
    """``UNION [ALL] BY NAME`` (which Spark SQL lacks) as a plain union: each side selects
    the columns of both by name, in DuckDB's order (the left side's, then the right's
    new ones), NULL where a side has no such column."""
    unions = [u for u in tree.find_all(exp.Union) if u.args.get("by_name")]
    for union in reversed(unions):  # the innermost first
        with_ = tree.args.get("with_")
        ctes = list(with_.expressions) if with_ is not None else []
        holder = union.find_ancestor(exp.CTE)
        if holder is not None and holder in ctes:
            ctes = ctes[:ctes.index(holder)]

        def names(side: exp.Expression, ctes: list[exp.Expression] = ctes) -> list[str]:
            q = exp.select("*").from_(exp.Subquery(this=side.copy(),
                                                   alias=exp.TableAlias(this=exp.to_identifier("__s"))))
            if ctes:
                q.set("with_", exp.With(expressions=[c.copy() for c in ctes]))
            return columns_of(scans, q.sql(dialect=SPARK))

        left, right = names(union.this), names(union.expression)
        wanted = left + [c for c in right if c.lower() not in {x.lower() for x in left}]

        def project(side: exp.Expression, have: list[str], wanted: list[str] = wanted
                    ) -> exp.Expression:
            lower = {h.lower(): h for h in have}
            items = [exp.column(lower[c.lower()], quoted=True) if c.lower() in lower
                     else exp.alias_(exp.null(), c, quoted=True) for c in wanted]
            return exp.select(*items).from_(exp.Subquery(
                this=side.copy(), alias=exp.TableAlias(this=exp.to_identifier("__s"))))

        union.set("this", project(union.this, left))
        union.set("expression", project(union.expression, right))
        union.set("by_name", None)
    return tree


def to_spark(query: Any, columns_of: ColumnsOf | None = None) -> SparkQuery:
    """A query in Steward's dialect (text or tree) as Spark SQL, with its scans.

    ``columns_of`` answers what columns a query returns; without it ``UNION BY NAME``
    cannot be translated (a :class:`SparkSqlError`)."""
    text = query.sql(dialect=DIALECT) if isinstance(query, exp.Expression) else str(query)
    try:
        trees = [t for t in sqlglot.parse(text, read=DIALECT) if t is not None]
    except ParseError as e:
        raise SparkSqlError(f"cannot read the query: {e}") from None
    if len(trees) != 1:
        raise SparkSqlError(f"one statement expected, found {len(trees)}")
    scans: dict[str, list[str]] = {}
    tree = trees[0]
    describe = isinstance(tree, exp.Describe) and isinstance(tree.this, exp.Query)
    if describe:
        tree = tree.this
    # twice: what a rewrite moves into a new node (arg_min's parts) is rewritten too
    tree = tree.transform(lambda n: _rewrite(n, scans)).transform(lambda n: _rewrite(n, scans))
    if any(u.args.get("by_name") for u in tree.find_all(exp.Union)):
        if columns_of is None:
            raise SparkSqlError("UNION BY NAME needs its sides' columns")
        tree = _by_name(tree, scans, columns_of)
    try:
        sql = tree.sql(dialect=SPARK, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as e:
        raise SparkSqlError(str(e)) from None
    return SparkQuery(sql, scans, describe)


def spark_problems(code: str) -> list[tuple[int, str]]:
    """(line, what) for each construct of a model Spark cannot run as written."""
    try:
        tree = sqlglot.parse_one(code, read=DIALECT)
    except ParseError:
        return []  # the load reports syntax errors already
    found: list[tuple[int, str]] = []
    seen: set[str] = set()

    def add(node: Any, what: str) -> None:
        if what not in seen:
            seen.add(what)
            found.append((_line(node), what))

    for node in tree.walk():
        if isinstance(node, exp.DataType) and node.this in DUCKDB_ONLY_TYPES:
            add(node, f"the type {DUCKDB_ONLY_TYPES[node.this]} exists in DuckDB only "
                      "(Spark has no such type); cast to a type both engines have")
        elif isinstance(node, exp.Join) and str(node.args.get("method") or "").upper() in (
                "ASOF", "POSITIONAL"):
            add(node, f"{str(node.args['method']).upper()} JOIN is DuckDB only")
        elif isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            if name not in SAME_NAME and _map_function(node) is None and name not in (
                    "read_parquet",):
                add(node, f"the function {name}() is not known to translate to Spark SQL")
        elif type(node).__name__ == "Columns":
            add(node, "COLUMNS(...) expressions are DuckDB only")
        elif isinstance(node, exp.Star):  # (* EXCLUDE is Spark's * EXCEPT: it runs)
            for part in ("replace", "rename", "ilike"):
                if node.args.get(part):
                    add(node, f"* {part.upper()} (...) is DuckDB only (Spark SQL has "
                              "* EXCEPT (...) but no REPLACE or RENAME); list the columns")
    try:
        to_spark(tree, lambda scans, sql: [])  # (the columns are known at build time)
    except SparkSqlError as e:
        add(tree, f"cannot be transpiled faithfully to Spark SQL: {e}")
    return found


def _line(node: Any) -> int:
    """The 1-based line of ``node`` in the text it was parsed from (1 if unknown): the
    line of the first name written in it or, failing that, in what holds it."""
    at: Any = node
    while at is not None:
        for n in at.walk():
            if isinstance(n, exp.Identifier) and "line" in (n.meta or {}):
                return int(n.meta["line"])
        at = at.parent
    return 1
