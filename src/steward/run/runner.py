"""One ``steward run``, from the lock to the last pointer: what :meth:`Context.run` calls.

Holding the project lock: recover from a killed run (recorded in the audit trail),
create the environment if new, refuse pointers changed outside Steward, check the files
of every version the environment points at, call Python sources (their output decides
their fingerprint), plan, execute, and record what the next no-op run compares with.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from steward.core.ids import new_id
from steward.core.model import Project
from steward.core.records import RunResult, Version
from steward.meta import envs as menvs
from steward.meta.store import Metastore
from steward.run.console import Console
from steward.run.executor import Executor, Prebuilt
from steward.run.integrity import check_pointers
from steward.run.planner import BuildPlan
from steward.run.verify import Verifier
from steward.store.base import Store


@dataclass
class Runner:
    """The parts a run needs, passed in (never the whole Context)."""

    project: Project
    metastore: Metastore
    store: Store
    engine: Callable[[], Any]
    console: Console
    audit: Any  # steward.audit.trail.AuditTrail (an AuditSink)
    actor: str
    post_build: Callable[[], Sequence[Any]] = lambda: ()
    on_published: Callable[[], Sequence[Any]] = lambda: ()
    git: Callable[[], Any] = lambda: None  # the project's project.git.GitState
    verifier: Verifier = field(init=False)

    def __post_init__(self) -> None:
        self.verifier = Verifier(self.store)

    # -- before planning -----------------------------------------------------------
    def recover(self) -> None:
        """Clean up after a killed run (hold the project lock): its run is marked
        aborted, its partial builds removed, and the audit trail says so."""
        stale = self.metastore.abandon_stale_runs(alive=False)
        cleaned = self.store.clean_scratch()
        if stale or cleaned:
            self.audit.append(self.actor, "recover", [], before={"runs": stale},
                              after={"aborted": stale, "partial_builds_removed": cleaned},
                              reason="cleaned up after an interrupted run")
            self.console.message(
                f"recovered from an interrupted run ({len(stale)} run(s) marked aborted, "
                f"{cleaned} partial build(s) removed); published versions are intact",
                "warn",
            )

    def prepare_env(self, env: str, source: str | None) -> None:
        if source and not self.metastore.env_exists(source):
            source = None
        menvs.create_env(self.metastore, env, source, self.actor,
                         f"created by 'steward run --env {env}'", self.audit, exists_ok=True)
        check_pointers(self.metastore, env, self.audit)

    def damaged(self, current: Mapping[str, Version]) -> dict[str, str]:
        """Products whose current version's files are missing or changed (each marked
        damaged in the metastore and recorded in the audit trail, once)."""
        out: dict[str, str] = {}
        self.store.refresh()
        self.verifier.prefetch(current.values())
        for name, v in current.items():
            problem = self.verifier.shallow(v)
            if problem is None:
                continue
            out[name] = problem
            if v.status == "published" and self.metastore.mark_damaged(v.id, problem):
                self.audit.append(self.actor, "version.damaged", [name],
                                  before={"version": v.id, "status": v.status},
                                  after={"version": v.id, "status": "damaged"},
                                  reason=problem)
                self.console.message(f"{name}: version {v.id} is damaged ({problem}); "
                                     "it will be rebuilt", "warn")
        return out

    def refresh_sources(self, chosen: set[str]) -> dict[str, Prebuilt]:
        """Call every selected Python source whose ``refresh`` is ``always``."""
        out: dict[str, Prebuilt] = {}
        names = [n for n in sorted(chosen) if n in self.project.products
                 and self.project[n].kind == "python_source"
                 and self.project[n].spec_dump.get("refresh") != "on_change"]
        if not names:
            return out
        from steward.core.errors import StewardError

        engine = self.engine()
        for name in names:
            scratch = self.store.new_scratch()
            try:
                result = engine.build(self.project[name], {}, scratch)
            except (StewardError, Exception, SystemExit) as e:
                shutil.rmtree(scratch, ignore_errors=True)
                msg = str(e) if isinstance(e, StewardError) else \
                    f"{name}: {type(e).__name__}: {e}"
                out[name] = Prebuilt(None, None, None, msg)
                continue
            files = self.store.data_files(scratch)
            out[name] = Prebuilt(scratch, result, self.verifier.content_hash(files))
        return out

    # -- the run -------------------------------------------------------------------
    def run(self, plan_for: Callable[..., BuildPlan], env: str, chosen: set[str],
            selection: str | None, workers: int | None,
            prepare: Callable[[BuildPlan], None], full_refresh: bool = False) -> RunResult:
        current = self.metastore.pointers(env)
        damaged = self.damaged(current)
        prebuilt = self.refresh_sources(chosen)
        from steward.run.dbsources import refresh_database_sources

        prebuilt.update(refresh_database_sources(self.project, self.metastore, self.store,
                                                 self.engine, self.verifier, current, chosen,
                                                 incremental=not full_refresh))
        outputs = {n: (p.output_hash or f"failed:{new_id()}") for n, p in prebuilt.items()}
        try:
            plan = plan_for(outputs=outputs, damaged=damaged,
                            usable=lambda v: self.verifier.shallow(v) is None)
            prepare(plan)
            building = bool(plan.of("build")) or any(
                s.recheck is not False for s in plan.steps.values())
            if building:
                self.engine()  # engine settings it refuses stop the run before it starts
            executor = Executor(
                self.project, self.metastore, self.store, self.engine, self.console,
                workers=workers, post_build=self.post_build() if building else (),
                on_published=self.on_published() if plan.of("build") else (),
                actor=self.actor, audit=self.audit,
                prebuilt={n: p for n, p in prebuilt.items() if plan.steps.get(n)
                          and plan.steps[n].action == "build"},
                verifier=self.verifier, git=self.git())
            result = executor.execute(plan, selection)
        finally:
            for p in prebuilt.values():
                if p.scratch and os.path.isdir(p.scratch):
                    shutil.rmtree(p.scratch, ignore_errors=True)
        for name, pre in prebuilt.items():
            st = plan.steps.get(name)
            if st is not None and st.action in ("keep", "reuse"):
                result.notes.setdefault(name, []).append(
                    "called again (refresh: always): its output is unchanged"
                    if self.project[name].kind == "python_source" else
                    "read again: its data is unchanged" if pre.scratch else
                    "not read: its change signal or watermark says nothing changed")
        return result
