"""Compute engines, found through a plain registry."""

from __future__ import annotations

from typing import Any

from steward.engine.base import Engine

ENGINES: dict[str, str] = {"duckdb": "steward.engine.duckdb:DuckDBEngine",
                           "spark": "steward.engine.spark:SparkEngine"}


def open_engine(spec: Any, root: str) -> Engine:
    import importlib

    module, _, cls = ENGINES[spec.type].partition(":")
    return getattr(importlib.import_module(module), cls)(spec, root)  # type: ignore[no-any-return]
