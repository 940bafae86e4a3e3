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

    @property
    def lock_url(self) -> str | None:
        """The metastore's URL when the project lock is held in it (PostgreSQL), else
        None. The metastore is opened first: a failure is reported where it is declared."""
        url = self.metastore_url
        if not url.startswith("postgres"):
            return None
        _ = self.metastore
        return url

    @cached_property
    def metastore(self) -> Metastore:
        from steward.meta.reads import sqlite_file
        from steward.meta.store import Metastore

        url = self.metastore_url
        path = sqlite_file(url)
        if path is not None:
            from steward.run.integrity import refuse_lost_metastore

            refuse_lost_metastore(path, self.root, self.store)
        from steward.core.errors import MetastoreUnavailable

        try:
            return Metastore(url)
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
        return Reads(url, lambda: self.metastore.sa_engine)

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
                   env: str | None = None, full_refresh: bool = False,
                   outputs: Any = None, damaged: Any = None, usable: Any = None) -> BuildPlan:
        from steward.run.orchestrate import plan_build

        return plan_build(self, select, exclude, env, full_refresh, outputs, damaged, usable)

    def run(self, select: Sequence[str] = (), exclude: Sequence[str] = (),
            env: str | None = None, full_refresh: bool = False, wait: float = 0.0,
            from_env: str | None = None, workers: int | None = None,
            rehash: bool = False) -> RunResult:
        """Build the selected products into ``env`` (created from ``from_env`` if new).

        ``rehash``: read every source file again instead of trusting the stat cache.
        """
        from steward.core.heap import kept
        from steward.sql.parse import keep_trees

        loading = "project" not in self.__dict__ or rehash
        keep_trees(loading)  # for the lineage beside the builds
        self.git.start()  # git status on a thread, while the project loads and plans
        with kept():  # the project, kept through the run out of the collector's sight
            if loading:
                self.__dict__["project"] = load_project(self.root, rehash=rehash)
            return self._run(select, exclude, env, full_refresh, wait, from_env, workers)

    def _run(self, select: Sequence[str], exclude: Sequence[str], env: str | None,
             full_refresh: bool, wait: float, from_env: str | None, workers: int | None
             ) -> RunResult:
        from steward.run import orchestrate

        env = self.env_name(env)
        self.refuse_protected(env, "steward run")
        from steward.catalog.owners import check_owners

        # a missing owner warns; under 'compliance: strict' it stops the run here
        warnings = [*check_owners(self.project), *self.project.warnings]
        for warning in warnings:
            self.console.message(warning, "warn")
        request = orchestrate.RunRequest(env, tuple(select), tuple(exclude), full_refresh, wait,
                                         from_env, workers)
        warm = self._warm_lineage()  # column lineage beside the builds, for the events
        return orchestrate.run(self, request, [
            lambda result, _request: self._emit_run_lineage(result, warm),
            orchestrate.refresh_views(self),
            orchestrate.remember_noop(self, warnings, self.git.get)])

    def _emit_run_lineage(self, result: RunResult, warm: Any) -> None:
        """A finished run's OpenLineage events, when it built (or failed to build) some;
        ``warm``: the thread computing the lineage they read (joined first)."""
        from steward.core.phases import timed

        if warm is not None:
            with timed("lineage"):
                warm.join()
        if any(st.status in ("built", "failed") for st in result.steps):
            with timed("openlineage"):
                self.emit_openlineage(result.run_id, keep=False)

    def runner(self) -> Any:
        from steward.run.runner import Runner

        return Runner(self.project, self.metastore, self.store, self.build_engine,
                      self.console, self.audit_trail(), actor(), self.post_build_hooks,
                      self.published_hooks, git=self.git.get)

    def build_engine(self) -> Engine:
        """The engine builds run on: the project's, wrapped to train models when it has
        some (steward.ml.engine)."""
        if not any(p.kind == "model" for p in self.project.products.values()):
            return self.engine
        from steward.ml.engine import ModelEngine

        return ModelEngine(self.engine, self.project, self.metastore,  # type: ignore[return-value]
                           self.store)

    def selection_states(self, env: str) -> Any:
        """What ``state:`` selectors ask: product -> its states against an environment
        (``env``, or the one a selector names; see :mod:`steward.run.state`)."""
        from steward.run.state import states_for

        return states_for(self.metastore.reads, self.project, env)

    def env_name(self, env: str | None) -> str:
        """``env`` (default: the project's default environment), validated."""
        from steward.core.ids import check_env_name

        return check_env_name(self.default_env if env is None else env)

    def refuse_protected(self, env: str, what: str) -> None:
        from steward.run.parts import refuse_protected

        refuse_protected(self.project, env, what)

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
        if any(p.kind == "model" for p in self.project.products.values()):
            from steward.ml.gate import ModelGate
            from steward.ml.skew import SkewCheck

            hooks.insert(0, ModelGate(self.metastore, self.store, str(self.root)))
            hooks.append(SkewCheck(Profiles(self.metastore, self.store, self.engine)))
        return hooks

    def published_hooks(self) -> list[Any]:
        """Run after each version is published (profiles, metrics, lineage events)."""
        hooks: list[Any] = []
        from steward.profile.service import ProfileOnPublish, Profiles

        # profiles stored 64 versions to a transaction; the run flushes the rest
        hooks.append(ProfileOnPublish(Profiles(self.metastore, self.store, self.engine),
                                      batch=64))
        return hooks

    def audit(self, action: str, targets: Sequence[str] = (), before: Any = None,
              after: Any = None, reason: str | None = None) -> Any:
        """Append one event (actor, time, targets, before/after, reason) to the audit trail."""
        return self.audit_trail().append(actor(), action, targets, before, after, reason)

    # -- compliance: audit trail, PII, OpenLineage (steward.audit) -------------------
    def audit_trail(self) -> Any:
        """The audit trail; its head is also kept in the store (see AuditTrail)."""
        from steward.audit.trail import AuditTrail

        return AuditTrail(self.metastore, store=self.store, actor=actor(), git=self.git.text)

    @cached_property
    def git(self) -> Any:
        """The project's git commit (``project.git.Memo``): runs, versions, audit events."""
        from steward.project.git import Memo

        return Memo(self.root)

    def propagated_classifications(self) -> Any:
        """(product, column) -> (classes, via) through column lineage, if the catalog has it."""
        try:
            from steward.catalog.lineage import propagated_classifications
        except ImportError:
            return None
        return propagated_classifications(self.project, self._current_schemas())

    def column_lineage(self) -> Any:
        """(product -> column -> input edges, product -> lineage level, product -> SQL
        facts), or None."""
        try:
            from steward.catalog.lineage import build_lineage
        except ImportError:
            return None
        from steward.core.phases import timed

        with timed("lineage"):
            g = build_lineage(self.project, self._current_schemas())
        return ({n: pl.columns for n, pl in g.products.items()},  # (read only: no copy)
                {n: pl.level for n, pl in g.products.items()}, g.facts)

    def _warm_lineage(self) -> Any:
        """Column lineage computed into its cache beside a run's builds (a thread), when
        the run's OpenLineage events will read it; None otherwise."""
        from steward.sql.parse import keep_trees

        if not (self.project.spec_dump.get("openlineage") or {}).get("enabled", True):
            keep_trees(False)
            return None
        try:
            from steward.catalog.lineage import warm_lineage
        except ImportError:
            keep_trees(False)
            return None
        return warm_lineage(self.project, self._current_schemas())

    def _current_schemas(self) -> dict[str, list[str]]:
        return {n: [c.name for c in v.schema] for n, v in self.current().items() if v.schema}

    def emit_openlineage(self, run_id: str, keep: bool = True) -> list[Any]:
        """Emit a recorded run's OpenLineage events (file, and HTTP when configured).

        Returns them, unless ``keep`` is false (a run's own emission: written and dropped).
        """
        events, problems = self.deliver_openlineage(run_id, keep)
        for problem in problems:
            self.console.message(problem, "warn")
        return events

    def deliver_openlineage(self, run_id: str, keep: bool = True
                            ) -> tuple[list[Any], list[str]]:
        """A recorded run's OpenLineage events, emitted, and the deliveries that failed."""
        from steward.audit.openlineage import emit_run

        return emit_run(self.project, self.metastore, self.root,  # type: ignore[no-any-return]
                        self.metastore.run(run_id).id, self.column_lineage, keep)

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
        self.runner().recover()

    def verify(self, deep: bool = True, repair: bool = False) -> Any:
        """Check versions against their files, pointers against the audit trail, and
        environments against what their versions were built from (``steward verify``)."""
        from steward.run.integrity import verify_state
        from steward.run.lock import ProjectLock

        inputs = {n: p.inputs for n, p in self.project.products.items()}
        if not repair:
            return verify_state(self.metastore, self.store, self.audit_trail(), inputs, deep)
        with ProjectLock(self.state_dir, "verify --repair",
                         metastore_url=self.lock_url):
            return verify_state(self.metastore, self.store, self.audit_trail(), inputs, deep,
                                repair=True, actor=actor())

    def copy_state(self, metastore: str, store: str, deep: bool = False,
                   progress: Any = None) -> Any:
        """Copy every version, row and the audit trail to another metastore and store
        (``steward state copy``); returns (what was copied, the destination's verify)."""
        from steward.audit.trail import AuditTrail
        from steward.run.integrity import verify_state
        from steward.run.lock import ProjectLock
        from steward.run.statecopy import move_state

        inputs = {n: p.inputs for n, p in self.project.products.items()}
        with ProjectLock(self.state_dir, "state copy", metastore_url=self.lock_url):
            return move_state(
                self.metastore, self.store, metastore, store, self.root,
                lambda ms, st: AuditTrail(ms, store=st, actor=actor()),
                lambda ms, st, tr, d: verify_state(ms, st, tr, inputs, d),
                actor(), deep, progress)

    # -- reading ---------------------------------------------------------------------
    def resolve_product(self, name: str) -> Product:
        from steward.run.parts import resolve_product

        return resolve_product(self.project, name)

    def version_states(self, current: dict[str, Version]) -> dict[str, str]:
        """What is wrong with an environment's versions, by product: ``damaged: why``
        (files missing or changed) or ``behind: inputs`` (built from older inputs)."""
        from steward.run.integrity import behind
        from steward.run.verify import Verifier

        verifier = Verifier(self.store)
        verifier.prefetch(current.values())
        out = {n: f"damaged: {p}" for n, v in current.items()
               if (p := verifier.shallow(v)) is not None}
        inputs = {n: p.inputs for n, p in self.project.products.items()}
        for n, ins in behind(inputs, current, self.metastore.reads.data_hashes).items():
            out.setdefault(n, "behind: " + ", ".join(ins))
        return out

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
        """Run one read-only query over an environment's current versions; returns an
        Arrow table (see :meth:`steward.engine.duckdb.DuckDBEngine.read_only_query`)."""
        env = self.env_name(env)
        if not self.metastore.env_exists(env):
            raise NotFound(f"no environment {env!r}; run 'steward run --env {env}' first")
        from steward.run.verify import Verifier

        current = self.current(env)
        verifier = Verifier(self.store)
        verifier.prefetch(current.values())
        bad = {n: p for n, v in current.items() if (p := verifier.shallow(v)) is not None}
        if bad:
            from steward.core.errors import IntegrityError

            n, p = sorted(bad.items())[0]
            raise IntegrityError(
                f"{n}: its version in '{env}' cannot be read ({p}); run 'steward verify', "
                f"then 'steward run {n}' rebuilds it")
        table = self.engine.read_only_query(
            query, {n: self.store.data_files(v.path) for n, v in current.items()},
            self.store.local_root())
        from steward.catalog.usage import count_sql

        count_sql(self.project, lambda: self.metastore, query)  # who reads what
        return table

    def sql_export(self, query: str, output: str, env: str | None = None) -> int:
        """Write a read-only query's result to a file (Parquet, CSV or JSON lines, by its
        extension): the one documented write of ``steward sql``, recorded in the audit
        trail. Returns the number of rows."""
        table = self.sql(query, env)
        rows = self.engine.export(table, output)
        self.audit("sql.export", [], before=None,
                   after={"file": os.path.abspath(output), "rows": rows},
                   reason=query[:2000])
        return rows

    # -- models (steward.ml) -------------------------------------------------------
    def models(self) -> list[Any]:
        """Every model with its current version per environment and its metrics."""
        from steward.ml.registry import overview

        return overview(self.reads, self.project)

    def is_model(self, name: str) -> bool:
        return self.resolve_product(name).kind == "model"

    def model_log(self, name: str, limit: int = 20) -> list[Any]:
        """A model's versions, newest first, with metrics, params and input versions."""
        from steward.ml.registry import model_log

        return model_log(self.reads, self.resolve_product(name).name, limit)

    def model_diff(self, name: str, a: str, b: str) -> Any:
        """Params, metrics, input versions and holdout predictions of two versions."""
        from steward.ml.registry import model_diff
        from steward.run.envops import resolve_side

        p = self.resolve_product(name)
        return model_diff(self.metastore, self.store, p, resolve_side(self, p.name, a)[0],
                          resolve_side(self, p.name, b)[0])

    def reproduce(self, name: str, version: str | None = None, env: str | None = None
                  ) -> Any:
        """Retrain a model version (default: the one ``env`` points at) from its recorded
        inputs, declaration, seed and code; compare its holdout predictions."""
        from steward.ml.registry import reproduce

        p = self.resolve_product(name)
        if p.kind != "model":
            raise NotFound(f"{p.name} is not a model")
        if version is None:
            v = self.current(env).get(p.name)
            if v is None:
                raise NotFound(f"{p.name} has no version in {env or self.default_env!r}; "
                               "name one with --version")
        else:
            v = self.metastore.version(version)
        return reproduce(self.metastore, self.store, self.engine, p, v)

    # -- quality (steward.quality) ----------------------------------------------------
    def check(self, select: Sequence[str] = (), exclude: Sequence[str] = (),
              env: str | None = None, workers: int | None = None) -> list[Any]:
        """Run the checks of the selected products on their current versions in ``env``."""
        from steward.quality.service import check_versions
        from steward.run.planner import selected

        env = env or self.default_env
        chosen = selected(self.project, list(select), list(exclude), self.selection_states(env))
        current = {n: v for n, v in self.current(env).items() if n in chosen}
        return check_versions(self.project.products, current, self.metastore, self.store,
                              self.engine, env, self.project.spec.defaults.contract, workers)

    def check_results(self, name: str, version: str | None = None,
                      env: str | None = None) -> Any:
        """Stored check results of a version (default: the product's newest version)."""
        from steward.quality.inspect import check_report

        return check_report(self.metastore, self.store, self.resolve_product(name).name,
                            version, env or self.default_env)

    def quarantine(self, name: str, env: str | None = None) -> str | None:
        """Parquet file of the rows ``on_fail: quarantine_rows`` set aside, or None."""
        from steward.quality.inspect import quarantine_file

        product = self.resolve_product(name).name
        return quarantine_file(self.store, self.current(env or self.default_env).get(product))

    def runs(self, limit: int = 20) -> list[Any]:
        return self.metastore.runs(limit)

    def accounts(self) -> Any:
        """Users, API tokens and sessions of ``steward serve`` (steward.meta.accounts)."""
        from steward.meta.accounts import Accounts

        return Accounts(self.metastore.sa_engine)

    def run_steps(self, run_id: str) -> list[Any]:
        run = self.metastore.run(run_id)
        return self.metastore.steps(run_id=run.id)


def to_json(obj: Any) -> str:
    return json.dumps(obj, default=str, indent=2)
