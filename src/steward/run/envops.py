"""Environment verbs: plan, create, promote, rollback, diff and DuckDB views of environments.

Each function takes the parts it uses (``run/parts.py`` ``Parts``: ``.project``, ``.metastore``,
``.store``, ``.engine``, ``.state_dir``, ``.default_env``, ``.audit_trail()``), so the CLI and the
API stay thin.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from steward.core.errors import NotFound, PlanError
from steward.core.ids import actor
from steward.core.records import Version
from steward.run.changes import ChangePlan, plan_changes, upstream_closure
from steward.run.parts import Parts, refuse_protected, resolve_product
from steward.run.planner import dag_of, selected

if TYPE_CHECKING:
    from steward.meta import envs as menvs
    from steward.run.diff import DiffResult

VIEWS_FILE = "envs.duckdb"


def plan(ctx: Parts, env: str | None = None, select: Sequence[str] = (),
         exclude: Sequence[str] = (), from_env: str | None = None) -> ChangePlan:
    """What ``steward run --env env`` would do, categorised; writes nothing."""
    from steward.run.state import states_for
    from steward.run.verify import Verifier

    env = ctx.env_name(env)
    base = from_env or (ctx.default_env if env != ctx.default_env else None)
    compared = env if ctx.reads.env_exists(env) or not base else base
    chosen = selected(ctx.project, list(select), list(exclude),
                      states_for(ctx.reads, ctx.project, compared))
    verifier = Verifier(ctx.store)
    pointers = ctx.reads.pointers(compared) if ctx.reads.env_exists(compared) else {}
    verifier.prefetch(pointers.values())
    damaged = {n: p for n, v in pointers.items() if (p := verifier.shallow(v)) is not None}
    return plan_changes(ctx.project, ctx.reads, env, chosen, base_env=base, damaged=damaged)


def create_env(ctx: Parts, name: str, from_env: str | None, message: str | None = None,
               wait: float = 0.0) -> int:
    from steward.meta import envs as menvs
    from steward.run.lock import ProjectLock

    name = ctx.env_name(name)
    if from_env:
        from_env = ctx.env_name(from_env)
    with ProjectLock(ctx.state_dir, f"env create {name}", wait,
                     metastore_url=ctx.lock_url):
        n = menvs.create_env(ctx.metastore, name, from_env, actor(), message,
                             ctx.audit_trail())
    refresh_views_if_present(ctx)
    return n or 0


def promote(ctx: Parts, src: str, dst: str, select: Sequence[str] = (),
            message: str | None = None, wait: float = 0.0) -> menvs.MoveResult:
    """Point ``dst`` at ``src``'s versions of the selection and everything it depends on.

    The one command that may change a protected environment. It holds the project lock,
    so it never interleaves with a run, a rollback or gc.
    """
    from steward.meta import envs as menvs
    from steward.run.lock import ProjectLock

    src, dst = ctx.env_name(src), ctx.env_name(dst)
    products = None
    if select:
        chosen = selected(ctx.project, list(select), [])
        products = sorted(upstream_closure(ctx.project, chosen))
    with ProjectLock(ctx.state_dir, f"promote {src} -> {dst}", wait,
                     metastore_url=ctx.lock_url):
        from steward.run.integrity import check_pointers

        check_pointers(ctx.metastore, src, ctx.audit_trail())
        if ctx.metastore.env_exists(dst):
            check_pointers(ctx.metastore, dst, ctx.audit_trail())
        result = menvs.promote(ctx.metastore, src, dst, products, actor(), message,
                               ctx.audit_trail())
    if result.moves:
        refresh_views_if_present(ctx)
    return result


@dataclass
class RollbackPlan:
    env: str
    moves: dict[str, str]
    expected: dict[str, str | None]
    notes: list[str] = field(default_factory=list)


def plan_rollback(ctx: Parts, product: str, to: str | None = None, env: str | None = None,
                  downstream: bool = False) -> RollbackPlan:
    from steward.meta import envs as menvs

    env = env or ctx.default_env
    ms = ctx.metastore
    if not ms.env_exists(env):
        raise NotFound(f"no environment {env!r}")
    with ms.sa_engine.connect() as conn:
        current = menvs.light_pointers(conn, env)
    if product not in current:
        raise NotFound(f"{product} has no version in {env!r}; nothing to roll back")
    cur = ms.version(current[product].version_id)
    if to:
        target = ms.version(to)
        if target.product != product:
            raise PlanError(f"version {target.id} is a version of {target.product}, "
                            f"not of {product}; 'steward log {product}' lists its versions")
    else:
        target = _previous(ctx, env, product, cur)
    if target.status != "published":
        raise PlanError(f"version {target.id} of {product} is {target.status}; only a "
                        "published version can be pointed at")
    if target.id == cur.id:
        raise PlanError(f"{env!r} already points {product} at {target.id}")
    from steward.run.verify import Verifier

    problem = Verifier(ctx.store).deep(target)
    if problem is not None:
        raise PlanError(f"version {target.id} of {product} cannot be pointed at: {problem}")
    moves = {product: target.id}
    notes: list[str] = []
    dag = dag_of(ctx.project) if product in ctx.project.products else None
    below = [d for d in dag.topological(dag.downstream(product)) if d in current] if dag else []
    if downstream:
        rolled: dict[str, str] = {product: target.id}
        problems = []
        history_of = menvs.published_inputs(ms, below)
        for d in below:
            want = {i: rolled[i] for i in ctx.project.products[d].inputs if i in rolled}
            if not want:
                continue
            if all(current[d].inputs.get(i) == v for i, v in want.items()):
                continue
            match = next((vid for vid, inputs in history_of.get(d, [])
                          if all(inputs.get(i) == v for i, v in want.items())), None)
            if match is None:
                problems.append(f"{d}: no version was built from "
                                + ", ".join(f"{i}@{v}" for i, v in want.items()))
                continue
            rolled[d] = match
            moves[d] = match
        if problems:
            raise PlanError("cannot roll back downstream products consistently:\n"
                            + "\n".join("  " + p for p in problems)
                            + f"\nroll back {product} alone, then rebuild them: "
                              f"steward run --env {env} {product}+")
    elif below:
        notes.append("downstream products still point at versions built from the newer "
                     f"{product}: {', '.join(below[:8])}"
                     + ("..." if len(below) > 8 else "") + " (use --downstream)")
    expected: dict[str, str | None] = {p: (current[p].version_id if p in current else None)
                                       for p in moves}
    return RollbackPlan(env, moves, expected, notes)


def _previous(ctx: Parts, env: str, product: str, cur: Version) -> Version:
    from steward.meta import envs as menvs

    ms = ctx.metastore
    for _, vid in reversed(menvs.history(ms, env, product)):
        if vid == cur.id:
            continue
        try:
            v = ms.version(vid)
        except NotFound:
            continue  # garbage-collected
        # an alias of the current data is not an earlier state
        if v.status == "published" and v.path != cur.path and ctx.store.data_files(v.path):
            return v
    older = [v for v in ms.versions(product, status="published")
             if v.id != cur.id and cur.created_at and v.created_at
             and v.created_at < cur.created_at and v.path != cur.path]
    if older:
        return older[0]
    raise PlanError(f"{product} has no earlier version to roll back to in {env!r}")


def rollback(ctx: Parts, product: str, to: str | None = None, env: str | None = None,
             downstream: bool = False, message: str | None = None, wait: float = 0.0
             ) -> tuple[menvs.MoveResult, list[str]]:
    from steward.meta import envs as menvs
    from steward.run.lock import ProjectLock

    name = resolve_product(ctx.project, product).name
    env = ctx.env_name(env)
    refuse_protected(ctx.project, env, "steward rollback")
    with ProjectLock(ctx.state_dir, f"rollback {name} in {env}", wait,
                     metastore_url=ctx.lock_url):
        from steward.run.integrity import check_pointers

        check_pointers(ctx.metastore, env, ctx.audit_trail())
        rp = plan_rollback(ctx, name, to, env, downstream)
        result = menvs.move_pointers(ctx.metastore, rp.env, rp.moves, rp.expected,
                                     "rollback", actor(),
                                     message or f"rollback {name} in {rp.env}",
                                     ctx.audit_trail())
    if result.moves:
        refresh_views_if_present(ctx)
    return result, rp.notes


# -- diff -------------------------------------------------------------------------------
def resolve_side(ctx: Parts, product: str, ref: str) -> tuple[Version, str]:
    """An environment name or a version id (prefix) -> that product's version."""
    ms = ctx.metastore
    if ms.env_exists(ref):
        v = ms.pointers(ref).get(product)
        if v is None:
            raise NotFound(f"{product} has no version in environment {ref!r}")
        return v, f"{ref} ({v.id})"
    try:
        v = ms.version(ref)
    except NotFound:
        raise NotFound(f"{ref!r} is neither an environment nor a version id") from None
    if v.product != product:
        raise PlanError(f"version {v.id} is a version of {v.product}, not of {product}")
    return v, v.id


def diff(ctx: Parts, product: str, a: str, b: str, sample: int = 10) -> DiffResult:
    from steward.run.diff import diff_versions

    name = resolve_product(ctx.project, product).name
    va, la = resolve_side(ctx, name, a)
    vb, lb = resolve_side(ctx, name, b)
    p = ctx.project.products.get(name)
    key: tuple[str, ...] = tuple(p.spec.primary_key) if p else ()
    if p is None:
        spec = ctx.metastore.product_spec(name) or {}
        key = tuple(spec.get("primary_key") or ())
    fa, fb = ctx.store.data_files(va.path), ctx.store.data_files(vb.path)
    if not fa or not fb:
        raise PlanError("the files of one side are gone (garbage-collected?)")
    return diff_versions(ctx.engine, name, va, vb, fa, fb, key, sample, la, lb)


# -- DuckDB views per environment -------------------------------------------------------------
def view_name(product: str) -> str:
    return product.replace(".", "__")


def write_views(ctx: Parts, path: str | None = None) -> tuple[str, int]:
    """Write a DuckDB file with a schema per environment and a view per product.

    Built in a temporary file and renamed over the old one, so a client never sees half.
    """
    path = path or os.path.join(ctx.state_dir, VIEWS_FILE)
    views = {e["name"]: {view_name(p): ctx.store.data_files(v.path)
                         for p, v in ctx.metastore.pointers(e["name"]).items()}
             for e in ctx.metastore.environments()}
    return path, ctx.engine.write_views(path, views)


def refresh_views_if_present(ctx: Parts) -> None:
    if os.path.exists(os.path.join(ctx.state_dir, VIEWS_FILE)):
        write_views(ctx)
