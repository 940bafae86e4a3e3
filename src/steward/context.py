"""The one facade: a project, its metastore, store and engine, and the verbs on them.

CLI commands and API endpoints are thin calls into :class:`Context`.
"""

from __future__ import annotations

import getpass
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from steward.core.errors import NotFound
from steward.core.fingerprint import metadata_fingerprint
from steward.core.model import Product, Project
from steward.core.records import Version
from steward.project.loader import STATE_DIR, find_root, load_project
from steward.run.console import Console, NullConsole

if TYPE_CHECKING:
    from steward.engine.base import Engine
    from steward.meta.store import Metastore
    from steward.run.executor import RunResult
    from steward.run.planner import BuildPlan
    from steward.store.base import Store


def actor() -> str:
    return os.environ.get("STEWARD_ACTOR") or getpass.getuser()


@dataclass
class ProductView:
    """A product as ``show`` presents it: declaration, current version, last step."""

    product: Product
    env: str
    version: Version | None
    environments: dict[str, str]
    last_step: Any


class Context:
    """Everything Steward knows about one project."""

    def __init__(self, path: str | os.PathLike[str] | None = None,
                 console: Console | None = None):
        self.root = find_root(path or ".")
        self.console: Console = console or NullConsole()

    # -- parts -----------------------------------------------------------------------
    @cached_property
    def project(self) -> Project:
        return load_project(self.root)

    @property
    def state_dir(self) -> str:
        return os.path.join(self.root, STATE_DIR)

    @cached_property
    def metastore(self) -> Metastore:
        from steward.meta.store import Metastore, default_url

        url = self.project.spec.metastore or default_url(self.root)
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///"):]
            if rel != ":memory:" and not os.path.isabs(rel):
                url = "sqlite:///" + os.path.join(self.root, rel)
        return Metastore(url)

    @cached_property
    def store(self) -> Store:
        from steward.store import open_store

        return open_store(self.project.spec.store, self.root)

    @cached_property
    def engine(self) -> Engine:
        from steward.engine import open_engine

        return open_engine(self.project.spec.engine, self.root)

    @property
    def default_env(self) -> str:
        return self.project.spec.environments.default

    # -- building --------------------------------------------------------------------
    def sync_products(self) -> int:
        """Record each product's current declaration; only changed ones are written."""
        known = self.metastore.product_metadata_fps()
        rows = []
        for p in self.project.products.values():
            mfp = metadata_fingerprint(p)
            if known.get(p.name) == mfp:
                continue
            rows.append({
                "name": p.name, "kind": p.kind, "domain": p.domain, "owner": p.owner,
                "file": p.meta_file or p.file, "metadata_fp": mfp,
                "spec_json": p.spec.model_dump_json(exclude_defaults=True),
            })
        self.metastore.upsert_products(rows)
        return len(rows)

    def plan_build(self, select: Sequence[str] = (), exclude: Sequence[str] = (),
                   env: str | None = None, full_refresh: bool = False) -> BuildPlan:
        from steward.run.planner import plan_build, selected

        env = env or self.default_env
        chosen = selected(self.project, list(select), list(exclude))
        current = self.metastore.pointers(env)
        return plan_build(self.project, env, current, None, chosen, full_refresh,
                          lookup=self.metastore.published_by_fingerprint)

    def run(self, select: Sequence[str] = (), exclude: Sequence[str] = (),
            env: str | None = None, full_refresh: bool = False, wait: float = 0.0,
            from_env: str | None = None, workers: int | None = None) -> RunResult:
        """Build the selected products into ``env`` (created from ``from_env`` if new)."""
        from steward.run.executor import Executor
        from steward.run.lock import ProjectLock

        env = env or self.default_env
        with ProjectLock(self.state_dir, f"run --env {env}", wait):
            self.recover()
            source = from_env or (self.default_env if env != self.default_env else None)
            if source and not self.metastore.env_exists(source):
                source = None
            self.metastore.ensure_env(env, source)
            self.sync_products()
            plan = self.plan_build(select, exclude, env, full_refresh)
            executor = Executor(
                self.project, self.metastore, self.store, self.engine, self.console,
                workers=workers, post_build=self.post_build_hooks(),
                on_published=self.published_hooks(), actor=actor(),
            )
            selection = " ".join(select) + (f" --exclude {' '.join(exclude)}" if exclude else "")
            return executor.execute(plan, selection.strip() or None)

    def post_build_hooks(self) -> list[Any]:
        """Checks that run on a candidate before it can be published."""
        return []

    def published_hooks(self) -> list[Any]:
        return []

    def recover(self) -> None:
        """Clean up after a killed run. Call only while holding the project lock."""
        stale = self.metastore.abandon_stale_runs(alive=False)
        cleaned = self.store.clean_scratch()
        if stale or cleaned:
            self.console.message(
                f"recovered from an interrupted run ({len(stale)} run(s) marked aborted, "
                f"{cleaned} partial build(s) removed); published versions are intact",
                "warn",
            )

    # -- reading ---------------------------------------------------------------------
    def resolve_product(self, name: str) -> Product:
        if name in self.project.products:
            return self.project.products[name]
        hits = [p for n, p in self.project.products.items() if n.split(".", 1)[-1] == name]
        if len(hits) == 1:
            return hits[0]
        if hits:
            raise NotFound(f"{name!r} is ambiguous: " + ", ".join(sorted(h.name for h in hits)))
        import difflib

        close = difflib.get_close_matches(name, list(self.project.products), n=1)
        raise NotFound(f"no product {name!r}" + (f"; did you mean '{close[0]}'?" if close else ""))

    def current(self, env: str | None = None) -> dict[str, Version]:
        return self.metastore.pointers(env or self.default_env)

    def show(self, name: str, env: str | None = None) -> ProductView:
        p = self.resolve_product(name)
        env = env or self.default_env
        version = self.metastore.pointers(env).get(p.name)
        envs: dict[str, str] = {}
        for e in self.metastore.environments():
            v = self.metastore.pointer_map(e["name"]).get(p.name)
            if v:
                envs[e["name"]] = v
        steps = self.metastore.steps(product=p.name, limit=1)
        return ProductView(p, env, version, envs, steps[0] if steps else None)

    def log(self, name: str, limit: int = 50) -> list[tuple[Version, list[str]]]:
        p = self.resolve_product(name)
        versions = self.metastore.versions(p.name, limit=limit)
        pointed = self.metastore.envs_pointing_at(v.id for v in versions)
        return [(v, sorted(pointed.get(v.id, []))) for v in versions]

    def tables(self, env: str | None = None) -> dict[str, list[str]]:
        """Product name -> Parquet files of its current version in ``env``."""
        return {n: self.store.data_files(v.path) for n, v in self.current(env).items()}

    def sql(self, query: str, env: str | None = None) -> Any:
        """Run a query over an environment's current versions; returns an Arrow table."""
        env = env or self.default_env
        if not self.metastore.env_exists(env):
            raise NotFound(f"no environment {env!r}; run 'steward run --env {env}' first")
        return self.engine.query(query, self.tables(env))

    def runs(self, limit: int = 20) -> list[Any]:
        return self.metastore.runs(limit)

    def run_steps(self, run_id: str) -> list[Any]:
        run = self.metastore.run(run_id)
        return self.metastore.steps(run_id=run.id)


def to_json(obj: Any) -> str:
    return json.dumps(obj, default=str, indent=2)
