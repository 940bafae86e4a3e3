"""Carry out a build plan: parallel, in dependency order, publishing each version atomically.

A failure stops its branch (everything downstream is skipped); independent branches go
on. A product's environment pointer moves only when its new version is published.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from steward.core.errors import BuildError, CheckFailed, StewardError
from steward.core.ids import new_id
from steward.core.model import Product, Project
from steward.core.records import RunResult, Step, Version
from steward.engine.base import BuildResult, Engine
from steward.meta.store import Metastore
from steward.run.console import Console, NullConsole
from steward.run.planner import BuildPlan
from steward.store.base import Store


@dataclass
class Candidate:
    """A version built into scratch, not yet published: what post-build hooks inspect."""

    product: Product
    version_id: str
    scratch: str
    result: BuildResult
    files: list[str]
    env: str
    run_id: str
    previous: Version | None
    notes: list[str] = field(default_factory=list)
    check_status: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


# A hook sees a candidate before publication. It may add notes, set ``check_status``,
# or raise CheckFailed to stop publication (the candidate is kept for inspection).
PostBuildHook = Callable[[Candidate], None]
# After publication (profiles, metrics, lineage events...): must not fail the build.
PublishedHook = Callable[[Candidate, Version], None]


class Executor:
    def __init__(self, project: Project, metastore: Metastore, store: Store,
                 engine: Engine | Callable[[], Engine],
                 console: Console | None = None, workers: int | None = None,
                 post_build: Sequence[PostBuildHook] = (),
                 on_published: Sequence[PublishedHook] = (),
                 actor: str | None = None):
        self.project = project
        self.ms = metastore
        self.store = store
        # a factory keeps a no-op run from starting the engine at all
        self._engine = engine
        self.console = console or NullConsole()
        self.workers = workers or project.spec.parallelism or os.cpu_count() or 2
        self.post_build = list(post_build)
        self.on_published = list(on_published)
        self.actor = actor
        self.late_notes: dict[str, list[str]] = {}
        self._notes_lock = threading.Lock()

    @property
    def engine(self) -> Engine:
        if callable(self._engine) and not hasattr(self._engine, "build"):
            self._engine = self._engine()
        return self._engine  # type: ignore[return-value]

    def execute(self, plan: BuildPlan, selection: str | None = None) -> RunResult:
        run_id = new_id("r")
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        env = plan.env
        self.ms.start_run(run_id, env, selection, self.actor)
        to_build = plan.of("build")
        if to_build:
            _ = self.engine  # start it here, once, not racing in the worker threads
        self.console.run_started(run_id, env, len(plan.order), len(to_build))
        steps: dict[str, Step] = {}
        notes: dict[str, list[str]] = {}

        # Reused and kept versions are already complete: point at them in one transaction.
        moves = {n: plan.steps[n].version.id for n in plan.of("reuse")}  # type: ignore[union-attr]
        self.ms.set_pointers(env, moves)
        for n in plan.order:
            st = plan.steps[n]
            if st.action in ("reuse", "keep"):
                status = "reused" if st.action == "reuse" else "kept"
                v = st.version
                steps[n] = Step(run_id, n, status, v.id if v else None, started, 0.0,  # type: ignore[arg-type]
                                v.row_count if v else None)
                self.console.step_finished(n, status, {"version": v.id if v else None})
            elif st.action == "blocked":
                steps[n] = Step(run_id, n, "blocked", error=st.reason)
                self.console.step_finished(n, "blocked", {"error": st.reason})

        current = {n: v.id for n, v in plan.current.items()}
        current.update(moves)
        waiting = {n: {i for i in self.project[n].inputs if i in to_build} for n in to_build}
        children: dict[str, list[str]] = {n: [] for n in to_build}
        for n, deps in waiting.items():
            for d in deps:
                children[d].append(n)
        done_versions: dict[str, Version] = {}
        running: dict[Future[tuple[Step, Version | None, list[str], Candidate | None]], str] = {}

        # Published hooks (profiles, metrics) run beside the builds on their own thread:
        # they are off the critical path, so no downstream build waits for a profile.
        side_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="steward-side")
        side: list[Future[list[str]]] = []
        with side_pool, ThreadPoolExecutor(max_workers=self.workers,
                                           thread_name_prefix="steward") as pool:
            ready = [n for n in to_build if not waiting[n]]

            def submit(name: str) -> None:
                inputs_v = {}
                for i in self.project[name].inputs:
                    if i in done_versions:
                        inputs_v[i] = done_versions[i]
                    else:
                        inputs_v[i] = self._version_for(i, plan, moves)
                self.console.step_started(name)
                fut = pool.submit(self._build_one, name, plan, inputs_v, run_id)
                running[fut] = name

            for n in ready:
                submit(n)
            while running:
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for fut in finished:
                    name = running.pop(fut)
                    step, version, step_notes, candidate = fut.result()
                    steps[name] = step
                    if version is not None and candidate is not None and self.on_published:
                        side.append(side_pool.submit(self._after_publish, candidate, version))
                    if step_notes:
                        notes[name] = step_notes
                    info = {"rows": step.rows, "seconds": step.duration_s,
                            "version": step.version_id, "error": step.error,
                            "notes": step_notes}
                    self.console.step_finished(name, step.status, info)
                    if version is not None:
                        done_versions[name] = version
                        for c in children[name]:
                            waiting[c].discard(name)
                            if not waiting[c] and c not in steps:
                                submit(c)
                    else:
                        for d in _descendants(name, children):
                            if d not in steps:
                                steps[d] = Step(run_id, d, "skipped",
                                                error=f"upstream {name} {step.status}")
                                self.console.step_finished(d, "skipped",
                                                           {"error": f"upstream {name} failed"})

            for f in side:
                f.result()  # hooks never raise: their failures are notes
        for n, extra in self.late_notes.items():
            if extra:
                notes.setdefault(n, []).extend(extra)
        ordered = [steps[n] for n in plan.order if n in steps]
        bad = any(s.status in ("failed", "blocked", "skipped") for s in ordered)
        status = "failed" if bad else "success"
        self.ms.record_steps(ordered)
        result = RunResult(run_id, env, status, ordered, started, time.perf_counter() - t0, notes)
        self.ms.finish_run(run_id, status, result.summary())
        self.console.run_finished(result)
        return result

    def _version_for(self, name: str, plan: BuildPlan, moves: dict[str, str]) -> Version:
        st = plan.steps.get(name)
        if st is not None and st.version is not None:
            return st.version
        return plan.current[name]

    def _after_publish(self, candidate: Candidate, version: Version) -> list[str]:
        notes: list[str] = []
        for ph in self.on_published:
            try:
                ph(candidate, version)
            except Exception as e:  # a side product must never fail a published build
                notes.append(f"post-publish hook failed: {type(e).__name__}: {e}")
        with self._notes_lock:
            self.late_notes.setdefault(version.product, []).extend(notes)
        return notes

    def _build_one(self, name: str, plan: BuildPlan, inputs: dict[str, Version], run_id: str
                   ) -> tuple[Step, Version | None, list[str], Candidate | None]:
        product = self.project[name]
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        vid = new_id("v")
        final_path = self.store.version_path(name, vid)
        base = Version(
            id=vid, product=name, fingerprint=plan.steps[name].fingerprint,
            metadata_fp=product.metadata_fp, status="building", path=final_path,
            created_at=started, run_id=run_id, inputs={k: v.id for k, v in inputs.items()},
        )
        self.ms.insert_version(base)
        scratch = self.store.new_scratch()
        candidate: Candidate | None = None
        try:
            files = {i: self.store.data_files(v.path) for i, v in inputs.items()}
            result = self.engine.build(product, files, scratch)
            candidate = Candidate(product, vid, scratch, result, self.store.data_files(scratch),
                                  plan.env, run_id, plan.current.get(name),
                                  notes=list(result.notes))
            for hook in self.post_build:
                hook(candidate)
            data_hash = self.engine.data_hash(candidate.files)
            path = self.store.publish(scratch, name, vid)
            size = self.store.size(path)
            result = candidate.result  # a hook may have rewritten the data (quarantine)
            self.ms.publish(vid, plan.env, name, schema=result.schema, row_count=result.rows,
                            bytes=size, data_hash=data_hash, check_status=candidate.check_status)
            # what ms.version(vid) would read back, without the round trip
            version = dataclasses.replace(
                base, status="published", path=path, schema=tuple(result.schema),
                row_count=result.rows, bytes=size, data_hash=data_hash,
                check_status=candidate.check_status)
            candidate.extra["build_seconds"] = time.perf_counter() - t0
            return (Step(run_id, name, "built", vid, started, time.perf_counter() - t0,
                         result.rows), version, candidate.notes, candidate)
        except CheckFailed as e:
            # keep the refused candidate where it can be inspected, never pointed at
            path = self.store.publish(scratch, name, vid)
            self.ms.update_version(vid, status="failed", error=str(e), check_status="failed",
                                   row_count=candidate.result.rows if candidate else None,
                                   schema=candidate.result.schema if candidate else (),
                                   bytes=self.store.size(path))
            return (Step(run_id, name, "failed", vid, started, time.perf_counter() - t0,
                         candidate.result.rows if candidate else None, str(e)), None,
                    candidate.notes if candidate else [], None)
        except StewardError as e:
            shutil.rmtree(scratch, ignore_errors=True)
            self.ms.update_version(vid, status="failed", error=str(e))
            return (Step(run_id, name, "failed", vid, started, time.perf_counter() - t0, None,
                         str(e)), None, [], None)
        except Exception as e:  # an unexpected error is still this product's failure
            shutil.rmtree(scratch, ignore_errors=True)
            msg = f"{name}: internal error {type(e).__name__}: {e}"
            self.ms.update_version(vid, status="failed", error=msg + "\n" + traceback.format_exc())
            return (Step(run_id, name, "failed", vid, started, time.perf_counter() - t0, None,
                         msg), None, [], None)


def _descendants(name: str, children: dict[str, list[str]]) -> list[str]:
    out: list[str] = []
    stack = list(children.get(name, ()))
    seen: set[str] = set()
    while stack:
        n = stack.pop()
        if n in seen:
            continue
        seen.add(n)
        out.append(n)
        stack.extend(children.get(n, ()))
    return out


__all__ = ["BuildError", "Candidate", "Executor", "RunResult"]
