"""Carry out a build plan: parallel, in dependency order, then one consistent pointer move.

Each product builds into a scratch folder, passes its gates and is published (its folder
renamed into place, its row marked published), but no environment points at it yet. When
the run's selection is done, the environment's pointers move **together**, in one
metastore transaction that also writes their history and their audit event. A product
moves only if the result is consistent: its inputs end up at the versions it was built
from, and no selected product that reads it failed (a failure downstream *holds back*
the new upstream versions, which stay published and are reused by the next run). A run
killed at any point moves nothing.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from steward.core import faults
from steward.core.errors import BuildError, CheckFailed, RunCancelled, StewardError
from steward.core.fingerprint import check_fingerprint
from steward.core.heap import kept
from steward.core.ids import new_id
from steward.core.materialize import grows_from_previous
from steward.core.model import Product, Project
from steward.core.phases import hook_phase, timed
from steward.core.records import RunResult, Step, StepStatus, Version
from steward.engine.base import BuildResult, Engine
from steward.meta import envs as menvs
from steward.meta.audit import AuditSink
from steward.meta.store import Metastore
from steward.run.console import Console, NullConsole
from steward.run.moves import consistent_moves, stale
from steward.run.planner import BuildPlan
from steward.run.scratch import tree_size, unchanged_bytes, written
from steward.run.verify import Verifier
from steward.store.base import Store

SIDE_BACKLOG = 16
"""Published versions whose side hooks (profile, metrics) may wait for the side thread
before the next wave of builds waits for them (each holds its small data in memory)."""

SAMPLES_DIR = "checks"


@dataclass
class Candidate:
    """A version to gate: built into scratch and not yet published, or (``recheck``) a
    published version whose checks are evaluated again (read only: never rewritten)."""

    product: Product
    version_id: str
    scratch: str | None
    result: BuildResult
    files: list[str]
    env: str
    run_id: str
    previous: Version | None
    notes: list[str] = field(default_factory=list)
    check_status: str | None = None
    # the profile a gate computed (published hooks reuse it) and the build's duration
    profile: dict[str, Any] | None = None
    build_seconds: float | None = None
    # CPU seconds of the process while the engine built it (with parallel workers, the
    # builds running at the same time share it: an upper bound)
    engine_cpu_s: float | None = None
    # the new version's data as an Arrow table when it is small, read once (by the engine
    # naming its schema, else by the first hook that needs it) and reused by the next
    # (PII sampling, the profile); released after the published hooks
    table: Any = None
    # the version each product a check reads has in this run (None: none)
    resolve: Callable[[str], Version | None] = lambda _n: None  # noqa: E731
    recheck: Version | None = None
    # where failing-row samples go: inside the scratch folder for a new version; beside
    # the version (keyed by the run) for a re-check, never inside a published version
    sample_dir: str | None = None
    sample_prefix: str = SAMPLES_DIR


# A hook sees a candidate before publication. It may add notes, set ``check_status``,
# or raise CheckFailed to stop publication (the candidate is kept for inspection).
PostBuildHook = Callable[[Candidate], None]
# After publication (profiles, metrics, lineage events...): must not fail the build.
PublishedHook = Callable[[Candidate, Version], None]


@dataclass(frozen=True)
class Prebuilt:
    """A Python source called before planning (its output decides its fingerprint)."""

    scratch: str | None
    result: BuildResult | None
    output_hash: str | None
    error: str | None = None


@dataclass
class _Outcome:
    step: Step
    version: Version | None
    notes: list[str]
    candidate: Candidate | None = None
    # a built version's row fields, written with the other versions that finished at
    # the same time (one transaction) before anything is built from it
    publish: dict[str, Any] | None = None


class Executor:
    def __init__(self, project: Project, metastore: Metastore, store: Store,
                 engine: Engine | Callable[[], Engine],
                 console: Console | None = None, workers: int | None = None,
                 post_build: Sequence[PostBuildHook] = (),
                 on_published: Sequence[PublishedHook] = (),
                 actor: str | None = None, audit: AuditSink | None = None,
                 prebuilt: Mapping[str, Prebuilt] | None = None,
                 verifier: Verifier | None = None, git: Any = None):
        self.project = project
        self.git = git  # the project's git commit, recorded with the run and its versions
        self.ms = metastore
        self.store = store
        # a factory keeps a no-op run from starting the engine at all
        self._engine = engine
        self.console = console or NullConsole()
        self.workers = workers or project.spec.parallelism or os.cpu_count() or 2
        self.post_build = list(post_build)
        self.on_published = list(on_published)
        self.actor = actor
        self.audit = audit
        self.prebuilt = dict(prebuilt or {})
        self.verifier = verifier or Verifier(store)
        self.late_notes: dict[str, list[str]] = {}
        self._notes_lock = threading.Lock()
        d = project.spec_dump.get("defaults") or {}
        self.default_contract = d.get("contract") or "lenient"
        self.default_on_fail = d.get("on_fail") or "block"

    @property
    def engine(self) -> Engine:
        if callable(self._engine) and not hasattr(self._engine, "build"):
            self._engine = self._engine()
        return self._engine  # type: ignore[return-value]

    # -- the run -------------------------------------------------------------------
    def execute(self, plan: BuildPlan, selection: str | None = None) -> RunResult:
        # What exists now (the project, its plan, imported modules) lives through the
        # run: the collector's passes skip it while the builds allocate (core/heap.py)
        with kept():
            return self._execute(plan, selection)

    def _execute(self, plan: BuildPlan, selection: str | None) -> RunResult:
        run_id = new_id("r")
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        env = plan.env
        aliases = {v.product: v for v in plan.aliases}
        tasks: dict[str, str] = {}  # product -> build | settle
        for n in plan.order:
            st = plan.steps[n]
            if st.action == "build":
                tasks[n] = "build"
            elif st.action in ("keep", "reuse") and (n in aliases or st.recheck is not False):
                tasks[n] = "settle"
        if any(k == "build" for k in tasks.values()) or any(
                plan.steps[n].recheck is not False for n in tasks):
            # start it here, once, not racing in the worker threads (a Spark session)
            getattr(self.engine, "start", lambda: None)()
        with timed("metastore"):
            self.ms.start_run(run_id, env, selection, self.actor, self.git)
        self.console.run_started(run_id, env, len(plan.order),
                                 sum(1 for k in tasks.values() if k == "build"))
        steps: dict[str, Step] = {}
        notes: dict[str, list[str]] = {}
        # the version each product has in this run: unselected ones as the env has them
        resolved: dict[str, Version] = {n: v for n, v in plan.current.items()
                                        if n not in plan.steps}
        for n in plan.order:
            st = plan.steps[n]
            if st.action in ("keep", "reuse") and st.version is not None and n not in aliases:
                resolved[n] = st.version
            if n in tasks:
                continue
            if st.action in ("reuse", "keep"):
                status = "reused" if st.action == "reuse" else "kept"
                v = st.version
                steps[n] = Step(run_id, n, status, v.id if v else None, started, 0.0,  # type: ignore[arg-type]
                                v.row_count if v else None)
                self.console.step_finished(n, status, {"version": v.id if v else None})
            elif st.action == "blocked":
                steps[n] = Step(run_id, n, "blocked", error=st.reason)
                self.console.step_finished(n, "blocked", {"error": st.reason})

        waiting = {n: {d for d in (*self.project[n].inputs, *self.project[n].check_inputs)
                       if d in tasks} for n in tasks}
        children: dict[str, list[str]] = {n: [] for n in tasks}
        for n, deps in waiting.items():
            for d in deps:
                children[d].append(n)
        running: dict[Future[_Outcome], str] = {}
        made_aliases: list[Version] = []
        cancelled = False

        # Published hooks (profiles, metrics) run beside the builds on their own thread:
        # they are off the critical path, so no downstream build waits for a profile.
        side_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="steward-side")
        side: list[Future[list[str]]] = []
        pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="steward")
        resolved_lock = threading.Lock()

        def view(name: str) -> Version | None:
            with resolved_lock:
                return resolved.get(name)

        def wave(names: Sequence[str], published: Sequence[tuple[str, dict[str, Any]]] = ()
                 ) -> dict[str, tuple[dict[str, Version], Version]]:
            """One transaction for a step of the run: the versions just built marked
            published (before any reader of them starts) and the building rows of the
            products about to start inserted (before any of them starts). Returns those
            builds (inputs, building row), to start once it is committed."""
            builds: dict[str, tuple[dict[str, Version], Version]] = {}
            for name in names:
                if tasks[name] == "build":
                    inputs = {i: resolved[i] for i in self.project[name].inputs}
                    builds[name] = (inputs, self._building(name, plan, inputs, run_id))
            if builds or published:
                with timed("metastore"):
                    self.ms.wave(published, [b for _, b in builds.values()])
            if published:
                faults.point("run.after_publish")
            return builds

        def start(names: Sequence[str],
                  builds: Mapping[str, tuple[dict[str, Version], Version]]) -> None:
            for name in names:
                if name in builds:
                    self.console.step_started(name)
                    inputs, base = builds[name]
                    fut = pool.submit(self._build_one, name, plan, inputs, run_id, view, base)
                else:
                    fut = pool.submit(self._settle, name, plan, aliases.get(name), run_id,
                                      view, started)
                running[fut] = name

        try:
            first = [n for n in tasks if not waiting[n]]
            start(first, wave(first))
            while running:
                finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
                outcomes = [(fut, fut.result()) for fut in finished]
                published = [(o.step.version_id, o.publish) for _, o in outcomes
                             if o.publish is not None]
                # which products these outcomes make ready (bookkeeping: nothing reads
                # them before the wave below commits), and their versions, the inputs of
                # the builds the wave starts
                done = [(running.pop(fut), out) for fut, out in outcomes]
                ready: list[str] = []
                for name, out in done:
                    if out.version is not None:
                        with resolved_lock:
                            resolved[name] = out.version
                        for c in children[name]:
                            waiting[c].discard(name)
                            if not waiting[c] and c not in steps:
                                ready.append(c)
                builds = wave(ready, published)  # type: ignore[arg-type]
                for name, out in done:
                    step = out.step
                    steps[name] = step
                    if out.version is not None and out.candidate is not None \
                            and self.on_published and tasks[name] == "build":
                        side.append(side_pool.submit(self._after_publish, out.candidate,
                                                     out.version))
                    if out.notes:
                        notes[name] = out.notes
                    info = {"rows": step.rows, "seconds": step.duration_s,
                            "version": step.version_id, "error": step.error,
                            "notes": out.notes}
                    self.console.step_finished(name, step.status, info)
                    if out.version is not None:
                        if name in aliases:
                            made_aliases.append(out.version)
                    else:
                        for d in _descendants(name, children):
                            if d not in steps:
                                steps[d] = Step(run_id, d, "skipped",
                                                error=f"upstream {name} {step.status}")
                                self.console.step_finished(
                                    d, "skipped", {"error": f"upstream {name} {step.status}"})
                # a published candidate holds its data (read once for the PII gate and
                # the profile) until its side hooks ran: when they fall behind the
                # builds, the next wave waits rather than the backlog growing
                while sum(1 for f in side[-SIDE_BACKLOG - 1:] if not f.done()) > SIDE_BACKLOG:
                    wait([f for f in side if not f.done()][:1])
                start(ready, builds)
            for f in side:
                f.result()  # hooks never raise: their failures are notes
            self._flush_published()
        except KeyboardInterrupt:
            cancelled = True
            pool.shutdown(wait=False, cancel_futures=True)
            for n in plan.order:
                if n not in steps:
                    steps[n] = Step(run_id, n, "cancelled", error="the run was interrupted")
        finally:
            pool.shutdown(wait=not cancelled, cancel_futures=cancelled)
            side_pool.shutdown(wait=not cancelled, cancel_futures=cancelled)

        for n, extra in self.late_notes.items():
            if extra:
                notes.setdefault(n, []).extend(extra)
        ordered = [steps[n] for n in plan.order if n in steps]
        result = RunResult(run_id, env, "running", ordered, started, 0.0, notes)
        if cancelled:
            result.status = "cancelled"
            self.ms.abandon_building(run_id, "the run was interrupted")
            self.ms.record_steps(ordered)
            result.duration_s = time.perf_counter() - t0
            self.ms.finish_run(run_id, "cancelled", result.summary())
            self.console.run_finished(result)
            raise RunCancelled(
                f"run {run_id} was interrupted: nothing in '{env}' moved; versions "
                "finished before the interrupt stay published and the next run reuses them")

        moves, held = consistent_moves(self.project, self.ms, plan, steps, resolved)
        result.held_back = held
        faults.point("run.before_commit")
        with timed("metastore"):
            raced = menvs.commit_run(self.ms, env, run_id, moves,
                                     {n: plan.current[n].id if n in plan.current else None
                                      for n in moves},
                                     made_aliases, self.actor, self.audit)
        faults.point("run.after_commit")
        for n in raced:
            held[n] = "another writer moved its pointer during the run; nothing was overwritten"
        final = {**{n: v.id for n, v in plan.current.items()},
                 **{n: v for n, v in moves.items() if n not in raced}}
        result.stale = stale(self.project, self.ms, plan, final)
        bad = any(s.status in ("failed", "blocked", "skipped") for s in ordered)
        result.status = "failed" if bad else "success"
        with timed("metastore"):
            self.ms.record_steps(ordered)
            result.duration_s = time.perf_counter() - t0
            self.ms.finish_run(run_id, result.status, result.summary())
        self.console.run_finished(result)
        return result

    # -- one product ----------------------------------------------------------------------
    def _after_publish(self, candidate: Candidate, version: Version) -> list[str]:
        notes: list[str] = []
        for ph in self.on_published:
            try:
                with timed(hook_phase(ph)):
                    ph(candidate, version)
            except Exception as e:  # a side product must never fail a published build
                notes.append(f"post-publish hook failed: {type(e).__name__}: {e}")
        with self._notes_lock:
            self.late_notes.setdefault(version.product, []).extend(notes)
        return notes

    def _flush_published(self) -> None:
        """Store what batching published hooks still hold (profiles); never raises."""
        for ph in self.on_published:
            flush = getattr(ph, "flush", None)
            if flush is None:
                continue
            try:
                with timed(hook_phase(ph)):
                    flush()
            except Exception as e:  # a side product must never fail a published build
                self.console.message(f"post-publish hook failed: {type(e).__name__}: {e}",
                                     "warn")

    def _check_fp(self, product: Product, view: Callable[[str], Version | None]
                  ) -> str | None:
        targets = {t: view(t) for t in product.check_inputs}
        if any(v is None for v in targets.values()):
            return None
        return check_fingerprint(product, self.default_contract, self.default_on_fail,
                                 {t: v.data_hash for t, v in targets.items() if v})

    def _inputs_intact(self, inputs: Mapping[str, Version]) -> dict[str, list[str]]:
        """Each input's data files, once its content was checked (BuildError if not)."""
        for i, v in inputs.items():
            problem = self.verifier.deep(v)
            if problem is not None:
                self.ms.mark_damaged(v.id, problem)
                raise BuildError(
                    f"input {i} cannot be read: version {v.id} is damaged ({problem}); "
                    "nothing was built from it. Run 'steward verify' to see every damaged "
                    f"version, then 'steward run +{i}' rebuilds it")
        return {i: self.verifier.files(v) for i, v in inputs.items()}

    def _building(self, name: str, plan: BuildPlan, inputs: Mapping[str, Version],
                  run_id: str) -> Version:
        """The row of a version about to be built (inserted before its build starts)."""
        vid = new_id("v")
        return Version(
            id=vid, product=name, fingerprint=plan.steps[name].fingerprint,
            metadata_fp=self.project[name].metadata_fp, status="building",
            path=self.store.version_key(name, vid), created_at=datetime.now(UTC),
            run_id=run_id, inputs={k: v.id for k, v in inputs.items()})

    def _build_one(self, name: str, plan: BuildPlan, inputs: dict[str, Version], run_id: str,
                   view: Callable[[str], Version | None], base: Version) -> _Outcome:
        """Build, gate and move one product's version into the store; its row is marked
        published by the caller, with the others finished at the same time."""
        product = self.project[name]
        started = datetime.now(UTC)
        t0 = time.perf_counter()
        vid = base.id
        pre = self.prebuilt.pop(name, None)
        scratch: str | None = None
        candidate: Candidate | None = None
        engine_cpu: float | None = None  # (a batch built beforehand: not measured alone)
        try:
            if pre is not None and pre.error:
                raise BuildError(pre.error)
            files = self._inputs_intact(inputs)
            if pre is not None and pre.scratch and pre.result is not None:
                scratch, result = pre.scratch, pre.result
            else:
                scratch = self.store.new_scratch()
                cpu0 = time.process_time()  # the engine's threads count too
                if grows_from_previous(product):  # from the version the env points at
                    prev = _previous(plan, name)
                    if prev is not None:
                        self._inputs_intact({name: prev})
                    with timed("build"):
                        result = self.engine.build_incremental(
                            product, files, self.store.data_files(prev.path) if prev else None,
                            scratch)
                else:
                    with timed("build"):
                        result = self.engine.build(product, files, scratch)
                engine_cpu = time.process_time() - cpu0
            raw = result.raw  # (the bytes the engine read back: held until hashed)
            candidate = Candidate(product, vid, scratch,
                                  dataclasses.replace(result, table=None, raw=None),
                                  written(result, scratch) or self.store.data_files(scratch),
                                  plan.env, run_id, plan.current.get(name),
                                  notes=list(result.notes), resolve=view,
                                  sample_dir=os.path.join(scratch, SAMPLES_DIR),
                                  engine_cpu_s=engine_cpu, table=result.table)
            for hook in self.post_build:
                with timed(hook_phase(hook)):
                    hook(candidate)
            with timed("publish"):
                files_now = self.store.data_files(scratch)
                # (stat before hashing: an unchanged stat later vouches for these bytes)
                stats = {os.path.basename(f): os.stat(f) for f in files_now}
                data_hash = self.verifier.content_hash(files_now, unchanged_bytes(raw, stats))
                manifest = tuple((n, st.st_size) for n, st in stats.items())
                check_fp = self._check_fp(product, view)
                size = tree_size(scratch, {f: stats[os.path.basename(f)].st_size
                                            for f in files_now})
                key = self.store.publish(scratch, name, vid)
            self.verifier.vouch(vid, stats)
            faults.point("store.after_rename")
            result = candidate.result  # a hook may have rewritten the data (quarantine)
            fields = dict(schema=result.schema, row_count=result.rows, bytes=size,
                          data_hash=data_hash, check_status=candidate.check_status,
                          files=manifest, check_fp=check_fp, path=key)
            # what ms.version(vid) would read back, without the round trip
            version = dataclasses.replace(
                base, status="published", path=key, schema=tuple(result.schema),
                row_count=result.rows, bytes=size, data_hash=data_hash,
                check_status=candidate.check_status, files=manifest, check_fp=check_fp)
            candidate.build_seconds = time.perf_counter() - t0
            return _Outcome(Step(run_id, name, "built", vid, started, time.perf_counter() - t0,
                                 result.rows), version, candidate.notes, candidate, fields)
        except CheckFailed as e:
            # keep the refused candidate where it can be inspected, never pointed at
            assert scratch is not None
            size = tree_size(scratch)
            key = self.store.publish(scratch, name, vid)
            self.ms.update_version(vid, status="failed", error=str(e), check_status="fail",
                                   row_count=candidate.result.rows if candidate else None,
                                   schema=candidate.result.schema if candidate else (),
                                   bytes=size, path=key)
            return _Outcome(Step(run_id, name, "failed", vid, started, time.perf_counter() - t0,
                                 candidate.result.rows if candidate else None, str(e)), None,
                            candidate.notes if candidate else [])
        except (StewardError, SystemExit, Exception) as e:
            if scratch is not None:
                shutil.rmtree(scratch, ignore_errors=True)
            if isinstance(e, StewardError):
                msg = str(e)
                detail = msg
            elif isinstance(e, OSError) and e.filename and str(e.filename).startswith(
                    str(getattr(self.store, "root", "\0"))):
                msg = (f"{name}: cannot write to the store ({e.strerror}: {e.filename}); "
                       "nothing was published. Make the store writable, or point "
                       "'store:' in steward.yaml at a writable place")
                detail = msg
            elif isinstance(e, SystemExit):
                msg = (f"{product.file}: {name} called sys.exit({e.code!r}); a product "
                       "returns its data or raises an exception")
                detail = msg
            else:  # an unexpected error is still this product's failure
                msg = f"{name}: internal error {type(e).__name__}: {e}"
                detail = msg + "\n" + traceback.format_exc()
            self.ms.update_version(vid, status="failed", error=detail)
            return _Outcome(Step(run_id, name, "failed", vid, started, time.perf_counter() - t0,
                                 None, msg), None, [])

    def _settle(self, name: str, plan: BuildPlan, alias: Version | None, run_id: str,
                view: Callable[[str], Version | None], started: datetime) -> _Outcome:
        """A kept or reused version whose inputs (alias) or checks are settled in the run."""
        product = self.project[name]
        st = plan.steps[name]
        t0 = time.perf_counter()
        v = st.version
        assert v is not None
        status: StepStatus = "reused" if st.action == "reuse" else "kept"
        if alias is not None:
            inputs: dict[str, str] = {}
            for i in product.inputs:
                seen = view(i)
                got = seen.id if seen is not None else alias.inputs.get(i)
                if got is not None:
                    inputs[i] = got
            v = dataclasses.replace(alias, run_id=run_id, inputs=inputs)
        want = st.check_fp if st.recheck is not None else None
        if want is None:
            want = self._check_fp(product, view)
        if st.recheck is False or (want is not None and want == v.check_fp):
            return _Outcome(Step(run_id, name, status, v.id, started, 0.0, v.row_count), v, [])
        try:
            problem = self.verifier.shallow(v)
            if problem is not None:
                raise BuildError(f"{name}: version {v.id} cannot be checked: {problem}")
            side, side_key = self.store.side(v.path, run_id)
            candidate = Candidate(
                product, v.id, None,
                BuildResult(v.row_count or 0, v.schema, tuple(self.store.data_files(v.path))),
                self.store.data_files(v.path), plan.env, run_id,
                plan.current.get(name) if plan.current.get(name) is not v else None,
                resolve=view, recheck=v, sample_dir=side, sample_prefix=side_key)
            try:
                for hook in self.post_build:
                    if getattr(hook, "on_recheck", False):
                        hook(candidate)
            finally:
                self.store.commit_side(side, side_key)
        except CheckFailed as e:
            self.ms.recorded_checks(v.id, "failed", None)
            return _Outcome(Step(run_id, name, "failed", v.id, started, time.perf_counter() - t0,
                                 v.row_count, "checks evaluated again on the version in use: "
                                 + str(e)), None, [])
        except (StewardError, Exception) as e:
            msg = str(e) if isinstance(e, StewardError) else \
                f"{name}: internal error {type(e).__name__}: {e}"
            return _Outcome(Step(run_id, name, "failed", v.id, started, time.perf_counter() - t0,
                                 v.row_count, msg), None, [])
        if alias is None:
            self.ms.recorded_checks(v.id, candidate.check_status, want)
        else:
            v = dataclasses.replace(v, check_fp=want, check_status=candidate.check_status)
        return _Outcome(Step(run_id, name, status, v.id, started, time.perf_counter() - t0,
                             v.row_count), dataclasses.replace(
                                 v, check_fp=want, check_status=candidate.check_status),
                        ["checks evaluated again: passed", *candidate.notes])


def _previous(plan: BuildPlan, name: str) -> Version | None:
    """The version an incremental product grows from: the one its environment points
    at, unless the run rebuilds from scratch (--full-refresh) or that version is damaged."""
    if plan.steps[name].reason == "full refresh" or name in plan.damaged:
        return None
    return plan.current.get(name)


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


__all__ = ["BuildError", "Candidate", "Executor", "Prebuilt", "RunResult"]
