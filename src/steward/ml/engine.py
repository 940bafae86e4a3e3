"""The engine a run builds with when a project has models.

It hands every build to the project's engine, except two: a model product is trained
(:func:`steward.ml.train.build_model`), and a Python product with a model among its
inputs receives that input as a :class:`steward.ml.load.LoadedModel` (verified against
its recorded hash) instead of a table. Everything else (queries, hashing, views) goes
to the engine unchanged.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from steward.core.model import Product, Project
from steward.engine.base import BuildResult
from steward.engine.pyrunner import build_python
from steward.meta.store import Metastore

DATA_FILE = "part-0.parquet"


class ModelEngine:
    """An engine that trains models and hands models to scoring products."""

    def __init__(self, engine: Any, project: Project, metastore: Metastore, store: Any):
        self._engine = engine
        self._project = project
        self._ms = metastore
        self._store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)

    def build(self, product: Product, inputs: Mapping[str, list[str]], out_dir: str
              ) -> BuildResult:
        root = self._project.root
        if product.kind == "model":
            from steward.ml.train import build_model

            return build_model(product, inputs, out_dir, root, self._engine.describe)
        models = [i for i in product.inputs if i in self._project.products
                  and self._project[i].kind == "model"]
        if product.kind == "python" and models:
            from steward.ml.load import load_version, version_of_files

            given = {m: load_version(self._ms, self._store, version_of_files(inputs[m]))
                     for m in models}
            out = os.path.join(out_dir, "data", DATA_FILE)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            return build_python(product, inputs, out, root, self._engine.describe, given)
        return self._engine.build(product, inputs, out_dir)  # type: ignore[no-any-return]

