"""Which products a run builds, reuses or keeps.

A product's data fingerprint (its code, its data-relevant config, its inputs'
fingerprints) names the data a build would produce. That alone is not enough to keep
or reuse a version: the version must also have been **built from** the versions its
inputs will have after this run (the same versions, or versions with the same data).
An environment can hold a version built from an older input (a run that selected only
the input; a product that failed its gate while its input was published), and such a
version is rebuilt, never kept. A version whose checks were last evaluated with another
declaration, or against other data of a product its checks read, is checked again
before it is kept or reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

from steward.core.fingerprint import check_fingerprint, data_fingerprint, source_content
from steward.core.graph import Dag, States, select
from steward.core.materialize import grows_from_previous
from steward.core.model import Product, Project
from steward.core.records import Version

Action = Literal["build", "reuse", "keep", "blocked"]
Category = Literal["breaking", "non-breaking", "metadata-only"]

# fingerprints -> their published versions, newest first
Lookup = Callable[[Iterable[str]], Mapping[str, list[Version]]]
# version ids -> their data hashes (what "the same data" is decided on)
Hashes = Callable[[Iterable[str]], Mapping[str, str | None]]


@dataclass(frozen=True)
class PlannedStep:
    product: str
    action: Action
    fingerprint: str
    version: Version | None = None  # the version kept or reused
    reason: str = ""
    # keep / reuse: the version's checks are evaluated again before it is kept (new or
    # changed checks, or a product they read changed); None: decided when the products
    # its checks read are built in this run
    recheck: bool | None = False
    check_fp: str | None = None  # the check fingerprint expected, when known


@dataclass
class ProductChange:
    """What the plan says about one product's change (``steward plan``'s categories)."""

    product: str
    action: str  # build | reuse | keep | blocked | remove
    category: Category | None  # set on directly modified products
    direct: bool
    reasons: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)
    owner: str | None = None
    current_version: str | None = None
    fingerprint: str | None = None
    downstream: list[str] = field(default_factory=list)
    uses: dict[str, list[str] | None] = field(default_factory=dict)  # changed input -> cols
    recheck: bool | None = False  # its kept version's checks are evaluated again
    behind: list[str] = field(default_factory=list)  # inputs it was not built from


class Changes(Protocol):
    """Categorises each step as it is decided, and may turn a build into an alias
    (``steward.run.changes.ChangeTracker``)."""

    aliases: list[Version]
    products: dict[str, ProductChange]

    def begin(self, todo: Sequence[str], fingerprints: Mapping[str, str],
              damaged: Mapping[str, str], same: Callable[[str | None, Version], bool]
              ) -> None: ...

    def decide(self, name: str, step: PlannedStep, steps: Mapping[str, PlannedStep]
               ) -> PlannedStep: ...


@dataclass(frozen=True)
class BuildPlan:
    env: str
    order: tuple[str, ...]
    steps: Mapping[str, PlannedStep]
    fingerprints: Mapping[str, str]
    current: Mapping[str, Version] = field(default_factory=dict)
    # products outside the selection whose version was built from an input version the
    # environment no longer points at (product -> inputs behind)
    stale: Mapping[str, list[str]] = field(default_factory=dict)
    # products whose current version cannot be used (files missing or altered) -> why
    damaged: Mapping[str, str] = field(default_factory=dict)
    # alias versions (new fingerprints, same files): the executor inserts each, with the
    # input versions it stands for, when those are settled
    aliases: tuple[Version, ...] = ()
    # each selected product's change, when the plan was categorised
    changes: Mapping[str, ProductChange] = field(default_factory=dict)

    def of(self, action: Action) -> list[str]:
        return [n for n in self.order if self.steps[n].action == action]


def dag_of(project: Project, checks: bool = False) -> Dag:
    """The product graph; with ``checks``, also the edges from what checks read (the
    build order)."""
    if checks:
        return Dag.build({n: (*p.inputs, *p.check_inputs) for n, p in project.products.items()})
    return Dag.build({n: p.inputs for n, p in project.products.items()})


def attributes(project: Project) -> dict[str, dict[str, object]]:
    return {
        n: {"tag": p.tags, "domain": p.domain, "owner": p.owner, "kind": p.kind, "path": p.file}
        for n, p in project.products.items()
    }


def selected(project: Project, selectors: list[str], exclude: list[str],
             states: States | None = None) -> set[str]:
    """``states``: what ``state:`` selectors ask (see :mod:`steward.run.state`)."""
    return select(dag_of(project), attributes(project), selectors, exclude, states)


class _SameData:
    """Is version ``a`` of an input the same data as version ``b``? Ids first; the data
    hashes of versions not at hand are looked up (once each)."""

    def __init__(self, hashes: Hashes | None, known: Iterable[Version]):
        self.hashes = hashes
        self.memo: dict[str, str | None] = {v.id: v.data_hash for v in known}

    def __call__(self, built_from: str | None, planned: Version) -> bool:
        if built_from is None:
            return False
        if built_from == planned.id:
            return True
        if built_from not in self.memo:
            got = self.hashes([built_from]) if self.hashes else {}
            self.memo[built_from] = got.get(built_from)
        h = self.memo[built_from]
        return h is not None and h == planned.data_hash


def plan_build(
    project: Project,
    env: str,
    current: Mapping[str, Version],
    published: Mapping[str, list[Version]] | None,
    chosen: set[str],
    full_refresh: bool = False,
    lookup: Lookup | None = None,
    hashes: Hashes | None = None,
    outputs: Mapping[str, str] | None = None,
    damaged: Mapping[str, str] | None = None,
    usable: Callable[[Version], bool] | None = None,
    changes: Changes | None = None,
) -> BuildPlan:
    """Decide each selected product's action.

    Args:
        current: the environment's pointers.
        published: fingerprint -> published versions, newest first (or fetched through
            ``lookup(fps)`` once fingerprints are known).
        hashes: version id -> data hash, for versions an input was built from that are
            not at hand.
        outputs: a Python source's freshly computed output hash (a run calls the
            callable before planning; a plan assumes its current output).
        damaged: product -> why its current version cannot be used (files missing or
            altered); such a product is rebuilt, and blocks what needs it unselected.
        usable: whether an existing version's files are intact (a reuse candidate that
            is not is passed over).
        changes: categorises each step as it is decided (``steward.run.changes``); a
            product whose inputs changed without changing the data it reads becomes an
            alias of its current version instead of a build.
    """
    damaged = damaged or {}
    outputs = outputs or {}
    order = dag_of(project, checks=True).topological()
    defaults = project.spec_dump.get("defaults") or {}
    contract = defaults.get("contract") or "lenient"
    on_fail = defaults.get("on_fail") or "block"
    fps: dict[str, str] = {}
    for name in order:
        p = project.products[name]
        cur = current.get(name)
        if name not in chosen and cur is not None:
            fps[name] = cur.fingerprint  # an unselected input stays as it is
            continue
        output = outputs.get(name)
        if output is None and cur is not None:
            output = cur.data_hash
        content = source_content(p, project.source_hashes.get(name), output) \
            if p.is_source else None
        fps[name] = data_fingerprint(p, fps, content)
    todo = [n for n in order if n in chosen]
    have = {v.fingerprint for v in current.values()}
    if published is None:
        published = dict(lookup([fps[n] for n in todo if fps[n] not in have])) \
            if lookup else {}
    else:
        published = dict(published)
    same = _SameData(hashes, current.values())
    # the version each product has after this run; None while it is being built
    planned: dict[str, Version | None] = {n: v for n, v in current.items()
                                          if n not in damaged}
    steps: dict[str, PlannedStep] = {}
    if changes is not None:
        changes.begin(todo, fps, damaged, same)

    def candidates(fp: str) -> list[Version]:
        if fp not in published:
            published[fp] = list(lookup([fp]).get(fp, [])) if lookup else []
        return published[fp]

    for name in todo:
        p = project.products[name]
        fp = fps[name]
        missing = [i for i in p.inputs if i not in chosen and planned.get(i) is None]
        blocked_by = [i for i in (*p.inputs, *p.check_inputs)
                      if i in steps and steps[i].action == "blocked"]
        if missing or blocked_by:
            if missing:
                i = missing[0]
                why = (f"input {i}'s version in '{env}' cannot be used ({damaged[i]}); "
                       f"select it too (+{name})" if i in damaged else
                       f"input {i} has no version in '{env}'; select it too (+{name})")
            else:
                why = f"input {blocked_by[0]} is blocked"
            steps[name] = _decided(changes, PlannedStep(name, "blocked", fp, reason=why), steps)
            planned.pop(name, None)
            continue
        ins = {i: planned.get(i) for i in p.inputs}
        known = all(v is not None for v in ins.values())

        def consistent(v: Version, ins: dict[str, Version | None] = ins) -> bool:
            return all(same(v.inputs.get(i), iv) for i, iv in ins.items() if iv is not None)

        cur = current.get(name) if name not in damaged else None
        step: PlannedStep
        if full_refresh:
            step = PlannedStep(name, "build", fp, reason="full refresh")
        elif name in damaged:
            step = PlannedStep(name, "build", fp,
                               reason=f"its version cannot be used ({damaged[name]})")
        elif cur is not None and cur.fingerprint == fp and known and consistent(cur):
            step = PlannedStep(name, "keep", fp, cur, "unchanged")
        else:
            # (an incremental product or snapshot is never reused: a version is also a
            # function of the version it grew from)
            found = next((v for v in candidates(fp) if v.status == "published"
                          and consistent(v) and (usable is None or usable(v))),
                         None) if known and not grows_from_previous(p) else None
            if found is not None:
                step = PlannedStep(name, "reuse", found.fingerprint, found,
                                   "same code and inputs as an existing version")
            elif cur is None:
                step = PlannedStep(name, "build", fp, reason="new product")
            elif cur.fingerprint == fp and known:
                behind = [i for i, iv in ins.items()
                          if iv is not None and not same(cur.inputs.get(i), iv)]
                step = PlannedStep(name, "build", fp,
                                   reason="built from an older version of "
                                          + ", ".join(behind))
            else:
                step = PlannedStep(name, "build", fp, reason="code or inputs changed")
        if step.action in ("keep", "reuse"):
            step = _with_recheck(step, p, planned, contract, on_fail)
        built = step.action == "build"
        steps[name] = step = _decided(changes, step, steps)
        # an alias counts as built for what reads it: its input versions are settled
        # when the run has built them
        planned[name] = step.version if step.action in ("keep", "reuse") and not built \
            else None
    stale = stale_products(project, {n: v for n, v in current.items() if n not in chosen},
                           planned, same)
    if changes is None:
        return BuildPlan(env, tuple(todo), steps, fps, dict(current), stale, dict(damaged))
    return BuildPlan(env, tuple(todo), steps, fps, dict(current), stale, dict(damaged),
                     tuple(changes.aliases), changes.products)


def _decided(changes: Changes | None, step: PlannedStep, steps: Mapping[str, PlannedStep]
             ) -> PlannedStep:
    return step if changes is None else changes.decide(step.product, step, steps)


def _with_recheck(step: PlannedStep, p: Product, planned: Mapping[str, Version | None],
                  contract: str, on_fail: str) -> PlannedStep:
    """``step`` marked for a re-check when its version's checks are out of date."""
    import dataclasses

    v = step.version
    assert v is not None
    targets = {t: planned.get(t) for t in p.check_inputs}
    if any(t is None for t in targets.values()):
        # a product its checks read is built in this run (or has no version): decided then
        return dataclasses.replace(step, recheck=None)
    expected = check_fingerprint(p, contract, on_fail,
                                 {t: tv.data_hash for t, tv in targets.items() if tv})
    if v.check_fp == expected:
        return dataclasses.replace(step, check_fp=expected)
    why = ("checks not evaluated with this declaration" if v.check_fp is None
           else "checks or what they read changed")
    if (p.spec_dump.get("on_fail") or on_fail) == "quarantine_rows":
        # setting failing rows aside rewrites data: a published version never changes
        return PlannedStep(step.product, "build", step.fingerprint,
                           reason=f"{why}; on_fail: quarantine_rows rebuilds it")
    return dataclasses.replace(step, recheck=True, check_fp=expected,
                               reason=f"{step.reason}; {why}: checked again")


def stale_products(project: Project, unselected: Mapping[str, Version],
                   planned: Mapping[str, Version | None], same: Callable[..., bool]
                   ) -> dict[str, list[str]]:
    """Unselected products whose version was not built from their inputs' versions after
    the run (``planned``): they are behind, and the next run that selects them rebuilds
    them. An input being rebuilt (None) makes its unselected readers behind too."""
    out: dict[str, list[str]] = {}
    for name, v in unselected.items():
        p = project.products.get(name)
        if p is None:
            continue
        behind = [i for i in p.inputs if i in planned and (
            planned[i] is None or not same(v.inputs.get(i), planned[i]))]
        if behind:
            out[name] = behind
    return out
