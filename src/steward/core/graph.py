"""The product DAG: order, cycles, and dbt-style selection."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cached_property

from steward.core.errors import SelectionError


@dataclass(frozen=True)
class Dag:
    parents: Mapping[str, tuple[str, ...]]

    @classmethod
    def build(cls, edges: Mapping[str, Iterable[str]]) -> Dag:
        return cls({n: tuple(sorted(set(p))) for n, p in edges.items()})

    @cached_property  # (a frozen dataclass: cached_property writes __dict__ directly)
    def children(self) -> dict[str, tuple[str, ...]]:
        kids: dict[str, list[str]] = {n: [] for n in self.parents}
        for n, ps in self.parents.items():
            for p in ps:
                kids.setdefault(p, []).append(n)
        return {n: tuple(sorted(c)) for n, c in kids.items()}

    def find_cycle(self) -> list[str] | None:
        """One cycle as a path ``[a, b, ..., a]``, or None."""
        white, grey, black = 0, 1, 2
        color = dict.fromkeys(self.parents, white)
        stack: list[str] = []

        def visit(n: str) -> list[str] | None:
            color[n] = grey
            stack.append(n)
            for p in self.parents.get(n, ()):
                if p not in color:
                    continue
                if color[p] == grey:
                    i = stack.index(p)
                    return [*stack[i:], p]
                if color[p] == white and (c := visit(p)):
                    return c
            stack.pop()
            color[n] = black
            return None

        for n in sorted(self.parents):
            if color[n] == white and (c := visit(n)):
                return list(reversed(c))
        return None

    def topological(self, subset: Iterable[str] | None = None) -> list[str]:
        """Kahn's order, ties broken by name so runs are repeatable."""
        nodes = set(self.parents if subset is None else subset)
        indeg = {n: sum(1 for p in self.parents.get(n, ()) if p in nodes) for n in nodes}
        kids = self.children
        ready = sorted(n for n, d in indeg.items() if d == 0)
        out: list[str] = []
        import heapq

        heapq.heapify(ready)
        while ready:
            n = heapq.heappop(ready)
            out.append(n)
            for c in kids.get(n, ()):
                if c in indeg:
                    indeg[c] -= 1
                    if indeg[c] == 0:
                        heapq.heappush(ready, c)
        if len(out) != len(nodes):
            raise ValueError("the graph has a cycle")
        return out

    def upstream(self, name: str, depth: int | None = None) -> set[str]:
        return _walk(name, self.parents, depth)

    def downstream(self, name: str, depth: int | None = None) -> set[str]:
        return _walk(name, self.children, depth)


def _walk(start: str, edges: Mapping[str, Iterable[str]], depth: int | None) -> set[str]:
    seen: set[str] = set()
    frontier = [start]
    level = 0
    while frontier and (depth is None or level < depth):
        level += 1
        nxt = []
        for n in frontier:
            for m in edges.get(n, ()):
                if m not in seen:
                    seen.add(m)
                    nxt.append(m)
        frontier = nxt
    return seen


_ATOM = re.compile(r"^(?:(\d*)\+)?([^+]+?)(?:\+(\d*))?$")


def select(
    dag: Dag,
    attrs: Mapping[str, Mapping[str, object]],
    selectors: Iterable[str],
    exclude: Iterable[str] = (),
    states: States | None = None,
) -> set[str]:
    """dbt's selection syntax over the DAG.

    Space-separated (or repeated) selectors are a union; a comma inside one selector is
    an intersection. An atom is a name or glob (``staging.*``), ``tag:x``, ``domain:y``,
    ``owner:z``, ``kind:sql``, ``path:models/marts`` (a folder, a file or a glob) or
    ``source:raw`` (the sources named ``raw.*``); ``+atom`` adds its ancestors,
    ``atom+`` its descendants, ``2+atom`` limits the depth. ``state:modified`` (or
    ``state:new``, ``state:modified.body``, ``state:modified.configs``, each with an
    optional ``@env``) asks ``states`` which products differ from what an environment
    last ran (None: the environment the selection is for).
    """
    chosen = _union(dag, attrs, selectors, states) if list(selectors) else set(dag.parents)
    excluded = _union(dag, attrs, exclude, states)
    return chosen - excluded


# env (None: the one selected for) -> product -> its states ("new", "modified", ...)
States = Callable[[str | None], Mapping[str, Collection[str]]]
STATES = ("modified", "modified.body", "modified.configs", "new")


def _union(dag: Dag, attrs: Mapping[str, Mapping[str, object]], items: Iterable[str],
           states: States | None = None) -> set[str]:
    out: set[str] = set()
    for item in items:
        for word in item.split():
            parts = [p for p in word.split(",") if p]
            sets = [_atom(dag, attrs, p, states) for p in parts]
            if sets:
                out |= set.intersection(*sets)
    return out


def _atom(dag: Dag, attrs: Mapping[str, Mapping[str, object]], text: str,
          states: States | None = None) -> set[str]:
    m = _ATOM.match(text)
    if not m:
        raise SelectionError(f"cannot read selector {text!r}")
    up, core, down = m.groups()
    if core.startswith("state:"):
        base = _state(core, states)
        if not base:  # nothing modified is an answer, not a mistake
            return set()
    else:
        base = _match(dag, attrs, core)
    if not base:
        raise SelectionError(
            f"selector {text!r} matches no product",
        )
    out = set(base)
    for n in base:
        if up is not None:
            out |= dag.upstream(n, int(up) if up else None)
        if down is not None:
            out |= dag.downstream(n, int(down) if down else None)
    return out


def _state(core: str, states: States | None) -> set[str]:
    value, _, env = core.partition(":")[2].partition("@")
    if value not in STATES:
        raise SelectionError(f"unknown state {value!r}; use state:{', state:'.join(STATES)}"
                             " (optionally @ENV)")
    if states is None:
        raise SelectionError(f"selector {core!r} needs a project's environments")
    return {n for n, s in states(env or None).items() if value in s}


def _match(dag: Dag, attrs: Mapping[str, Mapping[str, object]], core: str) -> set[str]:
    if ":" in core:
        key, _, value = core.partition(":")
        if key not in {"tag", "domain", "owner", "kind", "path", "source"}:
            raise SelectionError(
                f"unknown selector method {key!r}; use tag:, domain:, owner:, kind:, path:, "
                "source: or state:"
            )
        if key == "source":  # dbt's source:name / source:name.table
            return {n for n, a in attrs.items() if a.get("kind") in ("file", "python_source")
                    and (fnmatchcase(n, value) or n.startswith(value.rstrip(".") + "."))}
        if key == "path" and not any(ch in value for ch in "*?["):
            # dbt's path:models/marts: a folder (everything under it) or one file
            folder = value.rstrip("/") + "/"
            return {n for n, a in attrs.items() if isinstance(a.get("path"), str)
                    and (a["path"] == value or str(a["path"]).startswith(folder))}
        hits = set()
        for n, a in attrs.items():
            v = a.get(key)
            vals = v if isinstance(v, tuple | list | set | frozenset) else (v,)
            if any(isinstance(x, str) and fnmatchcase(x, value) for x in vals):
                hits.add(n)
        return hits
    if any(ch in core for ch in "*?["):
        return {n for n in dag.parents if fnmatchcase(n, core)}
    if core in dag.parents:
        return {core}
    short = {n for n in dag.parents if n.split(".", 1)[-1] == core}
    return short
