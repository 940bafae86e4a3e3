"""Which new versions of a run move their environment's pointers, and which products
outside the selection a run leaves behind (see :mod:`steward.run.executor`).

A product moves only if the result is consistent: its inputs end up at the versions it
was built from, and no selected product that reads it failed (a failure downstream
*holds back* the new upstream versions, which stay published and are reused by the next
run).
"""

from __future__ import annotations

from collections.abc import Mapping

from steward.core.model import Project
from steward.core.records import Step, Version
from steward.meta.store import Metastore
from steward.run.planner import BuildPlan, _SameData


def consistent_moves(project: Project, ms: Metastore, plan: BuildPlan,
                     steps: Mapping[str, Step], resolved: Mapping[str, Version]
                     ) -> tuple[dict[str, str], dict[str, str]]:
    """The new versions of the selection that can move together, and why the others
    are held back (see the module docstring)."""
    same = _SameData(ms.reads.data_hashes, [*plan.current.values(), *resolved.values()])
    new: dict[str, Version] = {}
    for n in plan.order:
        s = steps.get(n)
        v = resolved.get(n)
        if s is None or s.status not in ("built", "reused") or v is None:
            continue
        cur = plan.current.get(n)
        if cur is None or cur.id != v.id:
            new[n] = v
    readers: dict[str, list[tuple[str, bool]]] = {}  # product -> (reader, by a check)
    for n, p in project.products.items():
        for i in p.inputs:
            readers.setdefault(i, []).append((n, False))
        for i in p.check_inputs:
            readers.setdefault(i, []).append((n, True))
    bad = {n for n, s in steps.items() if s.status in ("failed", "skipped", "blocked")}
    held: dict[str, str] = {}
    moving = set(new)
    changed = True
    while changed:
        changed = False
        for n in sorted(moving):
            v = new[n]
            why = None
            for i in project[n].inputs:
                after = new[i] if i in moving else plan.current.get(i)
                if after is None or not same(v.inputs.get(i), after):
                    why = f"its input {i} does not move with it"
                    break
            if why is None:
                for d, by_check in readers.get(n, ()):
                    if d not in plan.steps or d in moving:
                        continue
                    if d in bad and plan.current.get(d) is not None:
                        why = f"{d}, which reads it, {steps[d].status}"
                        break
                    if by_check:
                        continue
                    dv = plan.current.get(d)
                    if dv is not None and not same(dv.inputs.get(n), v):
                        why = f"{d}, which reads it, stays at a version built from " \
                              "its previous version"
                        break
            if why is not None:
                moving.discard(n)
                held[n] = why
                changed = True
    return {n: new[n].id for n in moving}, held


def stale(project: Project, ms: Metastore, plan: BuildPlan, final: Mapping[str, str]
          ) -> dict[str, list[str]]:
    """Products outside the selection now behind an input this run moved."""
    moved = {n for n, vid in final.items()
             if n in plan.current and plan.current[n].id != vid}
    if not moved:
        return {}
    out: dict[str, list[str]] = {}
    hashes: dict[str, str | None] = {}
    for n, v in plan.current.items():
        if n in plan.steps or n not in project.products:
            continue
        for i in project[n].inputs:
            if i not in moved:
                continue
            a, b = v.inputs.get(i), final[i]
            if a == b:
                continue
            need = [x for x in (a, b) if x and x not in hashes]
            if need:
                hashes.update(ms.reads.data_hashes(need))
            if a is None or hashes.get(a) is None or hashes.get(a) != hashes.get(b):
                out.setdefault(n, []).append(i)
    return out
