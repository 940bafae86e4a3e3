"""Python products and sources, run the same way whatever the engine.

A Python product receives its inputs as Arrow tables (or pandas / polars data frames,
``inputs_as``) read straight from their Parquet files, and what it returns is written as
Parquet with pyarrow: no engine is involved, so every engine runs them alike. The user's
module is imported here, at build time, never at load time.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable, Mapping
from typing import Any

import xxhash

from steward.core.errors import BuildError
from steward.core.model import Product
from steward.core.records import Column
from steward.core.spec import PythonProductSpec, PythonSource
from steward.engine.base import BuildResult

# the engine's schema of written Parquet files (its type names)
Describe = Callable[[list[str]], tuple[Column, ...]]


def build_python(product: Product, inputs: Mapping[str, list[str]], out: str, root: str,
                 describe: Describe, given: Mapping[str, Any] | None = None) -> BuildResult:
    """Call a Python product with its inputs (Arrow, pandas or polars) and write what it
    returns to ``out``. ``given``: inputs handed over as these objects instead of tables
    (a model, loaded by steward.ml)."""
    import pyarrow.parquet as pq

    spec = product.spec
    assert isinstance(spec, PythonProductSpec) and product.function
    fn = _load_function(os.path.join(root, product.file), product.function)
    kwargs = {}
    for param, name in product.params.items():
        if given is not None and name in given:
            kwargs[param] = given[name]
            continue
        table = pq.read_table(inputs[name])
        kwargs[param] = _convert(table, spec.inputs_as)
    try:
        result = fn(**kwargs)
    except Exception as e:
        raise BuildError(_python_error(e, product)) from None
    return write_result(result, out, product, describe)


def build_python_source(product: Product, out: str, root: str, describe: Describe
                        ) -> BuildResult:
    """Call a Python source's callable with its params and write what it returns."""
    spec = product.spec
    assert isinstance(spec, PythonSource)
    module, _, func = spec.callable.partition(":")
    if module.endswith(".py"):
        path = module if os.path.isabs(module) else os.path.join(root, module)
        fn = _load_function(path, func)
    else:
        fn = getattr(__import__(module, fromlist=[func]), func)
    try:
        result = fn(**spec.params)
    except Exception as e:
        raise BuildError(_python_error(e, product)) from None
    return write_result(result, out, product, describe)


def write_result(result: Any, out: str, product: Product, describe: Describe) -> BuildResult:
    """Write a product's result as Parquet, or say what came back and what to return."""
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
    return BuildResult(rows, describe([out]), (out,))


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
    if kind == "spark":
        raise BuildError("inputs_as: spark needs the Spark engine (engine: {type: spark}); "
                         "use arrow, pandas or polars on this engine")
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
    if mod == "duckdb":  # a relation: DuckDB renamed the method over its versions
        for name in ("to_arrow_table", "fetch_arrow_table", "arrow"):
            fn = getattr(result, name, None)
            if fn is not None:
                got = fn()
                return got.read_all() if hasattr(got, "read_all") else got
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


# what other runners of user code call (steward.ml; Spark DataFrames: steward.engine.spark)
load_function = _load_function
python_error = _python_error
