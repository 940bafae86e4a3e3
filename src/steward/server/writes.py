"""Writes from the web, each checked against the user's role and what they hold.

A run or a check starts a background job; a promotion or a rollback happens in the
request. Every one acts as the signed-in user, so the audit trail names them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from steward.core.errors import NotFound
from steward.core.ids import acting_as
from steward.server.auth import Principal, require, require_holds
from steward.server.jobs import Job, JobConsole
from steward.server.state import ServerState

if TYPE_CHECKING:
    from steward.context import Context


def start_run(state: ServerState, who: Principal, select: Sequence[str] = (),
              exclude: Sequence[str] = (), env: str | None = None,
              full_refresh: bool = False) -> Job:
    ctx = state.ctx
    env = ctx.env_name(env)
    require(who, "developer", f"run products into '{env}'")
    ctx.refuse_protected(env, "steward run")
    from steward.run.planner import selected

    selected(ctx.project, list(select), list(exclude))  # a bad selection fails now
    params = {"select": list(select), "exclude": list(exclude), "env": env,
              "full_refresh": full_refresh}

    def work(job: Job) -> tuple[str, Any]:
        from steward.context import Context

        run_ctx = Context(state.root, console=JobConsole(job))
        result = run_ctx.run(list(select), list(exclude), env, full_refresh)
        return ("success" if result.ok else "failed"), result.summary()

    return state.jobs.start("run", who.name, params, work)


def start_check(state: ServerState, who: Principal, select: Sequence[str] = (),
                exclude: Sequence[str] = (), env: str | None = None) -> Job:
    ctx = state.ctx
    env = ctx.env_name(env)
    require(who, "developer", f"check products in '{env}'")
    ctx.refuse_protected(env, "steward check")
    from steward.run.planner import selected

    selected(ctx.project, list(select), list(exclude))
    params = {"select": list(select), "exclude": list(exclude), "env": env}

    def work(job: Job) -> tuple[str, Any]:
        from steward.context import Context

        check_ctx = Context(state.root, console=JobConsole(job))
        reports = check_ctx.check(list(select), list(exclude), env)
        docs = [r.to_json() for r in reports]
        for r in reports:
            job.emit({"type": "step_finished", "product": r.product, "status": r.status})
        check_ctx.audit("check", [r.product for r in reports], before=None,
                        after={r.product: {"version": r.version, "status": r.status}
                               for r in reports},
                        reason=f"checks run from steward serve in '{env}'")
        failed = any(r.status == "fail" for r in reports)
        return ("failed" if failed else "success"), docs

    return state.jobs.start("check", who.name, params, work)


def promote(state: ServerState, who: Principal, source: str, target: str,
            select: Sequence[str] = (), message: str | None = None) -> dict[str, Any]:
    """``steward promote``, if ``who`` holds every product that would move."""
    from steward.run.changes import upstream_closure
    from steward.run.envops import promote as run_promote
    from steward.run.planner import selected

    ctx = state.ctx
    source, target = ctx.env_name(source), ctx.env_name(target)
    require(who, "owner", f"promote from '{source}' to '{target}'")
    ms = ctx.metastore
    if not ms.env_exists(source):
        raise NotFound(f"no environment {source!r}")
    src = ms.pointer_map(source)
    dst = ms.pointer_map(target) if ms.env_exists(target) else {}
    names = (upstream_closure(ctx.project, selected(ctx.project, list(select), []))
             if select else set(src))
    moving = sorted(n for n in names if src.get(n) and src[n] != dst.get(n))
    require_holds(who, [_product(ctx, n) for n in moving],
                  f"promote from '{source}' to '{target}'")
    with acting_as(who.name):
        # what was checked is what moves: the products named, or those found moving
        chosen = list(select) or ([] if who.role == "admin" else moving)
        r = run_promote(ctx, source, target, chosen, message)
    return {"batch": r.batch, "env": target, "source": source,
            "moved": {p: {"from": a, "to": b} for p, (a, b) in r.moves.items()},
            "unchanged": len(r.unchanged)}


def rollback(state: ServerState, who: Principal, product: str, to: str | None = None,
             env: str | None = None, downstream: bool = False,
             message: str | None = None) -> dict[str, Any]:
    """``steward rollback``, if ``who`` holds every product it would move."""
    from steward.run.envops import plan_rollback
    from steward.run.envops import rollback as run_rollback

    ctx = state.ctx
    name = ctx.resolve_product(product).name
    env = ctx.env_name(env)
    require(who, "owner", f"roll back {name} in '{env}'")
    ctx.refuse_protected(env, "steward rollback")
    rp = plan_rollback(ctx, name, to, env, downstream)
    require_holds(who, [_product(ctx, n) for n in rp.moves], f"roll back {name} in '{env}'")
    with acting_as(who.name):
        r, notes = run_rollback(ctx, name, to, env, downstream, message)
    return {"batch": r.batch, "env": r.env, "notes": notes,
            "moved": {p: {"from": a, "to": b} for p, (a, b) in r.moves.items()}}


def gc(state: ServerState, who: Principal, dry_run: bool = True,
       keep_last: int | None = None, keep_days: float | None = None) -> dict[str, Any]:
    """``steward gc`` (an admin's: it deletes versions of every owner's products)."""
    from steward.run.gc import gc as run_gc

    require(who, "admin", "delete old versions (gc)")
    with acting_as(who.name):
        return run_gc(state.ctx, dry_run, keep_last, keep_days).to_json()  # type: ignore[no-any-return]


class _Gone:
    """A product no longer declared: only an admin may move it."""

    def __init__(self, name: str):
        self.name, self.domain, self.owner = name, "(not declared)", None


def _product(ctx: Context, name: str) -> Any:
    return ctx.project.products.get(name) or _Gone(name)
