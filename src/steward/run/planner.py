"""Which products a run builds, reuses or keeps: decided from fingerprints alone."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from steward.core.fingerprint import data_fingerprint
from steward.core.graph import Dag, select
from steward.core.model import Project
from steward.core.records import Version

Action = Literal["build", "reuse", "keep", "blocked"]


@dataclass(frozen=True)
class PlannedStep:
    product: str
    action: Action
    fingerprint: str
    version: Version | None = None  # the version kept or reused
    reason: str = ""


@dataclass(frozen=True)
class BuildPlan:
    env: str
    order: tuple[str, ...]
    steps: Mapping[str, PlannedStep]
    fingerprints: Mapping[str, str]
    current: Mapping[str, Version] = field(default_factory=dict)

    def of(self, action: Action) -> list[str]:
        return [n for n in self.order if self.steps[n].action == action]


def dag_of(project: Project) -> Dag:
    return Dag.build({n: p.inputs for n, p in project.products.items()})


def attributes(project: Project) -> dict[str, dict[str, object]]:
    return {
        n: {"tag": p.tags, "domain": p.domain, "owner": p.owner, "kind": p.kind, "path": p.file}
        for n, p in project.products.items()
    }


def selected(project: Project, selectors: list[str], exclude: list[str]) -> set[str]:
    return select(dag_of(project), attributes(project), selectors, exclude)


def plan_build(
    project: Project,
    env: str,
    current: Mapping[str, Version],
    published: Mapping[str, Version] | None,
    chosen: set[str],
    full_refresh: bool = False,
    lookup: object = None,
) -> BuildPlan:
    """Decide each selected product's action.

    ``current`` is the environment's pointers; ``published`` maps fingerprints to existing
    published versions (or is fetched through ``lookup(fps)`` once fingerprints are known).
    """
    dag = dag_of(project)
    order = dag.topological()
    fps: dict[str, str] = {}
    for name in order:
        p = project.products[name]
        if name not in chosen and name in current:
            fps[name] = current[name].fingerprint  # an unselected input stays as it is
        else:
            fps[name] = data_fingerprint(p, fps, project.source_hashes.get(name))
    todo = [n for n in order if n in chosen]
    if published is None:
        published = lookup([fps[n] for n in todo]) if callable(lookup) else {}
    steps: dict[str, PlannedStep] = {}
    for name in todo:
        fp = fps[name]
        missing = [i for i in project.products[name].inputs if i not in chosen and i not in current]
        blocked_by = [i for i in project.products[name].inputs
                      if i in steps and steps[i].action == "blocked"]
        if missing or blocked_by:
            why = (f"input {missing[0]} has no version in '{env}'; select it too (+{name})"
                   if missing else f"input {blocked_by[0]} is blocked")
            steps[name] = PlannedStep(name, "blocked", fp, reason=why)
        elif full_refresh:
            steps[name] = PlannedStep(name, "build", fp, reason="full refresh")
        elif name in current and current[name].fingerprint == fp:
            steps[name] = PlannedStep(name, "keep", fp, current[name], "unchanged")
        elif fp in published:
            steps[name] = PlannedStep(name, "reuse", fp, published[fp],
                                      "same code and inputs as an existing version")
        else:
            reason = "new product" if name not in current else "code or inputs changed"
            steps[name] = PlannedStep(name, "build", fp, reason=reason)
    return BuildPlan(env, tuple(todo), steps, fps, dict(current))
