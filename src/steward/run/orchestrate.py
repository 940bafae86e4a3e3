"""``steward plan``'s build plan and ``steward run``, orchestrated: what :class:`Context`
calls for them.

A run takes the project lock, recovers from a killed run, prepares the environment,
syncs the declared products, plans (one pass: ``run/planner.py`` with
``run/changes.py``'s tracker) and executes (``run/runner.py``). What follows a run that
finished — OpenLineage events, the environment views, the record the next no-op run
compares with — are listeners on the *run finished* event, called holding the lock once
the pointers are committed; the areas above the run layer (``audit/``) hand theirs in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from steward.core.records import RunResult
from steward.run.parts import Parts

if TYPE_CHECKING:
    from steward.run.planner import BuildPlan
    from steward.run.runner import Runner


class RunParts(Parts, Protocol):
    """What a run needs besides :class:`Parts` (``Context`` satisfies it)."""

    def runner(self) -> Runner: ...

    def sync_products(self) -> int: ...

    def selection_states(self, env: str) -> Any: ...


@dataclass(frozen=True)
class RunRequest:
    """One ``steward run``: what to build into which environment, and how."""

    env: str
    select: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    full_refresh: bool = False
    wait: float = 0.0
    from_env: str | None = None
    workers: int | None = None

    @property
    def whole(self) -> bool:
        """Every product, planned as usual (what the no-op fast path stands for)."""
        return not self.select and not self.exclude and not self.full_refresh

    @property
    def selection(self) -> str | None:
        text = " ".join(self.select) + (f" --exclude {' '.join(self.exclude)}"
                                        if self.exclude else "")
        return text.strip() or None


# Called once a run has finished, holding the project lock, pointers committed.
RunFinished = Callable[[RunResult, RunRequest], None]


def plan_build(parts: RunParts, select: Sequence[str] = (), exclude: Sequence[str] = (),
               env: str | None = None, full_refresh: bool = False, outputs: Any = None,
               damaged: Any = None, usable: Any = None) -> BuildPlan:
    """The build plan of the selected products against ``env``'s pointers, in one pass
    (products untouched by a non-breaking upstream change keep their data as aliases)."""
    from steward.core.phases import timed
    from steward.run.changes import ChangeTracker
    from steward.run.planner import plan_build as plan
    from steward.run.planner import selected

    with timed("plan"):
        env = env or parts.default_env
        chosen = selected(parts.project, list(select), list(exclude),
                          parts.selection_states(env))
        current = parts.metastore.pointers(env)
        reads = parts.metastore.reads
        changes = None if full_refresh else ChangeTracker(parts.project, reads, current, {})
        return plan(parts.project, env, current, None, chosen, full_refresh,
                    lookup=reads.published_by_fingerprint, hashes=reads.data_hashes,
                    outputs=outputs, damaged=damaged, usable=usable, changes=changes)


def run(parts: RunParts, request: RunRequest, listeners: Sequence[RunFinished] = ()
        ) -> RunResult:
    """Build the selected products into ``request.env`` (created from ``from_env``, or
    the default environment, when new), then tell ``listeners``."""
    from steward.core.phases import timed
    from steward.run.changes import prepare_run
    from steward.run.lock import ProjectLock
    from steward.run.planner import selected

    env = request.env
    with ProjectLock(parts.state_dir, f"run --env {env}", request.wait,
                     metastore_url=parts.lock_url):
        with timed("prepare"):
            runner = parts.runner()
            runner.recover()
            source = request.from_env or (parts.default_env if env != parts.default_env
                                          else None)
            runner.prepare_env(env, source)
            parts.sync_products()
        chosen = selected(parts.project, list(request.select), list(request.exclude),
                          parts.selection_states(env))
        result = runner.run(
            lambda **kw: plan_build(parts, request.select, request.exclude, env,
                                    request.full_refresh, **kw),
            env, chosen, request.selection, request.workers,
            lambda plan: prepare_run(parts.metastore, parts.project, plan),
            full_refresh=request.full_refresh)
        for listener in listeners:
            listener(result, request)
        return result


# -- listeners the run layer provides ---------------------------------------------


def refresh_views(parts: Parts) -> RunFinished:
    """Rewrite ``.steward/envs.duckdb`` (when it exists) after a run that moved pointers."""

    def on_finished(result: RunResult, _request: RunRequest) -> None:
        if any(st.status in ("built", "reused") for st in result.steps):
            from steward.core.phases import timed
            from steward.run.envops import refresh_views_if_present

            with timed("views"):
                refresh_views_if_present(parts)

    return on_finished


def remember_noop(parts: Parts, warnings: Sequence[str],
                  git: Callable[[], Any] | None = None) -> RunFinished:
    """After a successful full run, record what the next no-op ``steward run`` compares
    with (see :mod:`steward.run.noop`); ``git``: the project's git state, when read."""

    def on_finished(result: RunResult, request: RunRequest) -> None:
        if result.ok and request.whole and not result.held_back:
            record_noop(parts, request.env, [s.product for s in result.steps], warnings,
                        None if git is None else git())

    return on_finished


def record_noop(parts: Parts, env: str, order: Sequence[str], warnings: Sequence[str],
                git: Any = None) -> None:
    from steward.project.files import callable_file
    from steward.run.noop import SourceFacts, remember

    project = parts.project
    sources: dict[str, SourceFacts] = {}
    for name, p in project.products.items():
        content = project.source_hashes.get(name)
        spec = p.spec_dump
        if p.kind == "file" and content:
            sources[name] = SourceFacts((spec["path"],), None, content)
        elif p.kind == "python_source" and spec.get("refresh") == "on_change" and content:
            sources[name] = SourceFacts((), callable_file(spec["callable"], parts.root),
                                        content)
        elif p.is_source:
            return  # a source called on every run, or one this cannot hash: no fast path
    libraries = None
    if any(p.kind == "model" for p in project.products.values()):
        from steward.core.fingerprint import ml_library_versions

        libraries = ml_library_versions()  # an upgrade trains the models again
    store = parts.store
    remember(parts.root, env, parts.default_env, project.load_key, sources, order,
             warnings, parts.metastore.url,
             store.scratch_root if store.kind == "local" else None,  # type: ignore[attr-defined]
             libraries, git=git)
