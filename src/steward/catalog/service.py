"""The catalog's verbs over a loaded project and (optionally) its metastore.

Kept apart from the CLI so the API server can call the same functions.
"""

from __future__ import annotations

from typing import Any

from steward.catalog.lineage import Classified, LineageGraph, build_lineage, propagate
from steward.catalog.search import CatalogIndex, SyncStats, project_entries
from steward.core.model import Project


def current_schemas(metastore: Any | None, env: str | None) -> dict[str, tuple[str, ...]]:
    """Product -> column names of its current version in ``env`` (empty without one)."""
    if metastore is None or env is None:
        return {}
    return {n: tuple(c.name for c in v.schema)
            for n, v in metastore.pointers(env).items() if v.schema}


def lineage(project: Project, metastore: Any | None = None, env: str | None = None,
            use_cache: bool = True) -> tuple[LineageGraph, Classified]:
    """The project's column lineage and its propagated classifications."""
    graph = build_lineage(project, current_schemas(metastore, env), use_cache=use_cache)
    return graph, propagate(project, graph)


def refreshed_index(project: Project, metastore: Any | None = None,
                    env: str | None = None) -> tuple[CatalogIndex, SyncStats]:
    """The catalog index, brought up to date (only changed products are rewritten)."""
    graph, classes = lineage(project, metastore, env)
    index = CatalogIndex.for_project(project.root)
    stats = index.sync(project_entries(project, graph.columns, classes))
    return index, stats
