"""The decorator users write Python products with.

Steward reads decorated functions statically (with :mod:`ast`) when it loads a
project, so the decorator itself only tags the function; it is imported for real
only when the product is built.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def product(
    name: str | None = None,
    *,
    inputs_as: Literal["arrow", "pandas", "polars", "spark"] = "arrow",
    **metadata: Any,
) -> Callable[[F], F]:
    """Declare a Python data product.

    Each parameter of the decorated function names an input product (``raw__flights``
    or, with ``inputs={"param": "raw.flights"}`` in the metadata, any name). The
    function receives Arrow tables (or pandas / polars frames, or Spark DataFrames on the
    Spark engine, when ``inputs_as`` asks)
    and returns one table.

    Args:
        name: The product name (``domain.name``); defaults to the file's domain and the
            function name.
        inputs_as: The dataframe type the inputs are handed over as.
        **metadata: Owner, description, columns, checks... as in a sidecar YAML.
    """

    def mark(fn: F) -> F:
        fn.__steward_product__ = {"name": name, "inputs_as": inputs_as, **metadata}  # type: ignore[attr-defined]
        return fn

    return mark


def model(fn: F | None = None, /, *, name: str | None = None, **metadata: Any) -> Any:
    """Declare a model product: the function fits and returns an estimator.

    Its parameters ``X``, ``y`` and ``seed`` receive the training features, the training
    target and the declared seed; parameters with a default value are hyper-parameters
    (set by ``params`` in the sidecar); any other parameter names an input product.
    Features, target, split, metrics and gates are declared in the sidecar YAML (see
    docs/ml.md). Usable bare (``@model``) or with metadata (``@model(name=...)``).
    """

    def mark(f: F) -> F:
        f.__steward_model__ = {"name": name, **metadata}  # type: ignore[attr-defined]
        return f

    return mark(fn) if fn is not None else mark
