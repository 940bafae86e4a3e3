"""The one facade: a project, its metastore, store and engine, and the verbs on them.

CLI commands and API endpoints are thin calls into :class:`Context`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from steward.core.errors import NotFound
from steward.core.ids import actor
from steward.core.model import Product, Project
from steward.core.records import Version
from steward.core.words import counted
from steward.project.loader import STATE_DIR, find_root, load_project
from steward.run.console import Console, NullConsole

if TYPE_CHECKING:
    from steward.engine.base import Engine
    from steward.meta.reads import Reads
    from steward.meta.store import Metastore
    from steward.run.executor import RunResult
    from steward.run.planner import BuildPlan
    from steward.store.base import Store


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

    @property
    def metastore_url(self) -> str:
        url = (self.project.spec_dump["metastore"]
               or f"sqlite:///{os.path.join(self.state_dir, 'meta.db')}")
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            rel = url[len("sqlite:///"):]
            if rel != ":memory:" and not os.path.isabs(rel):
                url = "sqlite:///" + os.path.join(self.root, rel)
        return url

    @cached_property
    def metastore(self) -> Metastore:
        from steward.core.errors import MetastoreUnavailable
        from steward.meta.store import Metastore

        try:
            return Metastore(self.metastore_url)
        except MetastoreUnavailable as e:
            declared = self.project.spec_dump["metastore"]
            if not declared:
                raise
            # a URL written in steward.yaml: a project mistake, reported where it is written
            from steward.core.errors import ConfigError, Problem
            from steward.meta.reads import shown_url
            from steward.project.locate import declared_line
            from steward.project.paths import PROJECT_FILE

            raise ConfigError(Problem(
                PROJECT_FILE, declared_line(self.root, ("metastore",)),
                f"cannot open the metastore {shown_url(declared)}: {e.reason}", e.hint,
            )) from None

    @cached_property
    def reads(self) -> Reads:
        """Read-only metastore queries; on a current SQLite file, without SQLAlchemy."""
        from steward.meta.reads import Reads, schema_current, sqlite_file

        if "metastore" in self.__dict__:
            return self.metastore.reads
        url = self.metastore_url
        path = sqlite_file(url)
        if path is None or not schema_current(path):
            return self.metastore.reads  # creates or migrates it first
        return Reads(url, lambda: self.metastore.engine)

    @cached_property
    def store(self) -> Store:
        from steward.store import open_store

        return open_store(self.project.spec_dump["store"], self.root)

    @cached_property
    def engine(self) -> Engine:
        from steward.engine import open_engine

        return open_engine(self.project.spec.engine, self.root)

    @property
    def default_env(self) -> str:
        return self.project.spec_dump["environments"]["default"]  # type: ignore[no-any-return]

    # -- building --------------------------------------------------------------------
    def sync_products(self) -> int:
        """Record each product's current declaration; only changed ones are written."""
        known = self.metastore.product_metadata_fps()
        rows: list[dict[str, Any]] = []
        for p in self.project.products.values():
            mfp = p.metadata_fp
            if known.get(p.name) == mfp:
                continue
            rows.append({
                "name": p.name, "kind": p.kind, "domain": p.domain, "owner": p.owner,
                "file": p.meta_file or p.file, "metadata_fp": mfp,
                "spec_json": p.spec_json,
            })
        self.metastore.upsert_products(rows)
        if rows:
            self.audit("config", [r["name"] for r in rows],
                       before={r["name"]: known.get(r["name"]) for r in rows},
                       after={r["name"]: r["metadata_fp"] for r in rows},
                       reason="declared metadata changed")
        return len(rows)

    def plan_build(self, select: Sequence[str] = (), exclude: Sequence[str] = (),
                   env: str | None = None, full_refresh: bool = False) -> BuildPlan:
        from steward.run.planner import plan_build, selected

        env = env or self.default_env
        chosen = selected(self.project, list(select), list(exclude))
        current = self.metastore.pointers(env)
        from steward.run.changes import changed_lookup

        plan = plan_build(self.project, env, current, None, chosen, full_refresh,
                          lookup=changed_lookup(self.metastore.reads, current))
        if full_refresh:
            return plan
        from steward.run.changes import compatible_plan

        # products untouched by a non-breaking upstream change keep their data
        return compatible_plan(self.project, self.metastore.reads, plan)

    def run(self, select: Sequence[str] = (), exclude: Sequence[str] = (),
            env: str | None = None, full_refresh: bool = False, wait: float = 0.0,
            from_env: str | None = None, workers: int | None = None) -> RunResult:
        """Build the selected products into ``env`` (created from ``from_env`` if new)."""
        from steward.run.executor import Executor
        from steward.run.lock import ProjectLock

        env = env or self.default_env
        if env in self.project.spec.environments.protected:
            from steward.core.errors import PlanError

            raise PlanError(
                f"environment '{env}' is protected (environments.protected in steward.yaml): "
                f"only 'steward promote' changes it. Build into another environment "
                f"(steward run --env dev) and promote it"
            )
        from steward.catalog.owners import check_owners

        # a missing owner warns; under 'compliance: strict' it stops the run here
        warnings = [*check_owners(self.project), *self.project.extra.get("warnings", ())]
        for warning in warnings:
            self.console.message(warning, "warn")
        with ProjectLock(self.state_dir, f"run --env {env}", wait):
            self.recover()
            source = from_env or (self.default_env if env != self.default_env else None)
            if source and not self.metastore.env_exists(source):
                source = None
            self.metastore.ensure_env(env, source)
            self.sync_products()
            plan = self.plan_build(select, exclude, env, full_refresh)
            building = bool(plan.of("build"))  # hooks (and the engine) only when building
            if building:
                _ = self.engine  # settings DuckDB refuses stop the run before it starts
            from steward.run.changes import prepare_run

            prepare_run(self.metastore, self.project, plan)
            executor = Executor(
                self.project, self.metastore, self.store, lambda: self.engine, self.console,
                workers=workers, post_build=self.post_build_hooks() if building else (),
                on_published=self.published_hooks() if building else (), actor=actor(),
            )
            selection = " ".join(select) + (f" --exclude {' '.join(exclude)}" if exclude else "")
            result = executor.execute(plan, selection.strip() or None)
            from steward.run.changes import finish_run

            finish_run(self.metastore, plan)
            built = {s.product: s.version_id for s in result.steps if s.status in ("built",
                                                                                   "reused")}
            if any(st.status != "kept" for st in result.steps):  # a no-op changes nothing
                self.audit("run", sorted(built), before={n: v.id for n, v in plan.current.items()
                                                         if n in built},
                           after=built, reason=f"run {result.run_id}: {result.status}")
            if any(st.status in ("built", "failed") for st in result.steps):
                self.emit_openlineage(result.run_id, keep=False)
            if result.ok and not select and not exclude and not full_refresh:
                self._remember_noop(env, plan.order, warnings)
            return result

    def _remember_noop(self, env: str, order: Sequence[str], warnings: Sequence[str]) -> None:
        """What the next no-op ``steward run`` compares with (see steward.run.noop)."""
        from steward.core.spec import FileSource, PythonSource
        from steward.project.files import callable_file
        from steward.run.noop import SourceFacts, remember

        sources: dict[str, SourceFacts] = {}
        for name, p in self.project.products.items():
            content = self.project.source_hashes.get(name)
            if isinstance(p.spec, FileSource) and content:
                sources[name] = SourceFacts((p.spec.path,), None, content)
            elif isinstance(p.spec, PythonSource) and content:
                sources[name] = SourceFacts((), callable_file(p.spec.callable, self.root),
                                            content)
            elif p.is_source:
                return  # a source this cannot hash again: no fast path
        remember(self.root, env, self.default_env, self.project.load_key, sources, order,
                 warnings, self.metastore.url, getattr(self.store, "scratch_root", None))

    # -- extension points: each area wires itself in here --------------------------
    def post_build_hooks(self) -> list[Any]:
        """Run on each candidate before it can be published (quality gates)."""
        hooks: list[Any] = []
        from steward.quality.gate import QualityGate

        d = self.project.spec.defaults
        hooks.append(QualityGate(self.metastore, self.store, self.engine, d.contract, d.on_fail))
        from steward.profile.service import ProfileGate, Profiles

        hooks.append(ProfileGate(Profiles(self.metastore, self.store, self.engine)))
        from steward.audit.pii_gate import PiiGate

        hooks.append(PiiGate(self.metastore, self.engine,
                             self.project.spec.compliance == "strict",
                             propagated=self.propagated_classifications))
        return hooks

    def published_hooks(self) -> list[Any]:
        """Run after each version is published (profiles, metrics, lineage events)."""
        hooks: list[Any] = []
        from steward.profile.service import ProfileOnPublish, Profiles

        hooks.append(ProfileOnPublish(Profiles(self.metastore, self.store, self.engine)))
        return hooks

    def audit(self, action: str, targets: Sequence[str] = (), before: Any = None,
              after: Any = None, reason: str | None = None) -> Any:
        """Append one event (actor, time, targets, before/after, reason) to the audit trail."""
        from steward.audit.trail import AuditTrail

        return AuditTrail(self.metastore).append(actor(), action, targets, before, after,
                                                 reason)

    # -- compliance: audit trail, PII, OpenLineage (steward.audit) -------------------
    def audit_trail(self) -> Any:
        from steward.audit.trail import AuditTrail

        return AuditTrail(self.metastore)

    def propagated_classifications(self) -> Any:
        """(product, column) -> (classes, via) through column lineage, if the catalog has it."""
        try:
            from steward.catalog.lineage import propagated_classifications
        except ImportError:
            return None
        return propagated_classifications(self.project, self._current_schemas())

    def column_lineage(self) -> Any:
        """(product -> column -> input edges, product -> lineage level), or None."""
        try:
            from steward.catalog.lineage import build_lineage
        except ImportError:
            return None
        g = build_lineage(self.project, self._current_schemas())
        return ({n: dict(pl.columns) for n, pl in g.products.items()},
                {n: pl.level for n, pl in g.products.items()})

    def _current_schemas(self) -> dict[str, list[str]]:
        return {n: [c.name for c in v.schema] for n, v in self.current().items() if v.schema}

    def emit_openlineage(self, run_id: str, keep: bool = True) -> list[Any]:
        """Emit a recorded run's OpenLineage events (file, and HTTP when configured).

        Returns them, unless ``keep`` is false (a run's own emission: written and dropped).
        """
        from steward.audit.openlineage import emit_run

        events, problems = emit_run(self.project, self.metastore, self.root,
                                    self.metastore.run(run_id).id, self.column_lineage, keep)
        for problem in problems:
            self.console.message(problem, "warn")
        return events

    def pii_scan(self, name: str, env: str | None = None) -> Any:
        """Classify a product's current version now; returns findings (proposals)."""
        from steward.audit.pii_gate import scan_version

        p = self.resolve_product(name)
        v = self.current(env).get(p.name)
        if v is None:
            raise NotFound(f"{p.name} has no version in {env or self.default_env!r}; "
                           "run it first")
        return scan_version(self.engine, self.store.data_files(v.path), v.schema, p,
                            self.propagated_classifications())

    def compliance_report(self, env: str | None = None) -> Any:
        """Which products hold PII, who owns and changed them, and every policy gap."""
        from steward.audit.compliance import build_report

        env = env or self.default_env
        return build_report(self.project, self.metastore, env, self.current(env),
                            self.propagated_classifications())

    def recover(self) -> None:
        """Clean up after a killed run. Call only while holding the project lock."""
        stale = self.metastore.abandon_stale_runs(alive=False)
        cleaned = self.store.clean_scratch()
        if stale or cleaned:
            self.console.message(
                f"recovered from an interrupted run ({counted(len(stale), 'run')} marked "
                f"aborted, {counted(cleaned, 'partial build')} removed); published versions "
                "are intact",
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

    def log(self, name: str | None = None, limit: int = 50
            ) -> list[tuple[Version, list[str]]]:
        """Versions, newest first, of one product (or of all), with the envs using each."""
        product = self.resolve_product(name).name if name else None
        versions = self.metastore.versions(product, limit=limit)
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

    # -- quality (steward.quality) ----------------------------------------------------
    def check(self, select: Sequence[str] = (), exclude: Sequence[str] = (),
              env: str | None = None, workers: int | None = None) -> list[Any]:
        """Run the checks of the selected products on their current versions in ``env``."""
        from steward.quality.service import check_versions
        from steward.run.planner import selected

        env = env or self.default_env
        chosen = selected(self.project, list(select), list(exclude))
        current = {n: v for n, v in self.current(env).items() if n in chosen}
        return check_versions(self.project.products, current, self.metastore, self.store,
                              self.engine, env, self.project.spec.defaults.contract, workers)

    def check_results(self, name: str, version: str | None = None,
                      env: str | None = None) -> Any:
        """Stored check results of a version (default: the product's newest version)."""
        from steward.quality.inspect import check_report

        return check_report(self, self.resolve_product(name).name, version,
                            env or self.default_env)

    def quarantine(self, name: str, env: str | None = None) -> str | None:
        """Parquet file of the rows ``on_fail: quarantine_rows`` set aside, or None."""
        from steward.quality.inspect import quarantine_file

        return quarantine_file(self, self.resolve_product(name).name, env)

    def runs(self, limit: int = 20) -> list[Any]:
        return self.metastore.runs(limit)

    def run_steps(self, run_id: str) -> list[Any]:
        run = self.metastore.run(run_id)
        return self.metastore.steps(run_id=run.id)


def to_json(obj: Any) -> str:
    return json.dumps(obj, default=str, indent=2)
