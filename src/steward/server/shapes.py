"""The JSON documents of the API: the same shapes as the CLI's ``--json`` output.

Each function takes the :class:`~steward.context.Context` and returns plain data; the
tests compare every one with the command line's ``--json`` on the same project.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from steward.context import Context


def json_default(value: Any) -> Any:
    """What ``--json`` writes for values JSON has no type for."""
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def dumps(obj: Any) -> str:
    return json.dumps(obj, default=json_default)


def plain(obj: Any) -> Any:
    """``obj`` as the JSON ``--json`` would print, read back (dates become strings)."""
    return json.loads(dumps(obj))


def products(ctx: Context, env: str | None) -> list[dict[str, Any]]:
    """``steward ls --json``."""
    current = ctx.current(ctx.env_name(env))
    states = ctx.version_states(current)
    rows = []
    for p in ctx.project.products.values():
        v = current.get(p.name)
        rows.append({
            "name": p.name, "kind": p.kind, "owner": p.owner, "tags": list(p.tags),
            "version": v.id if v else None, "rows": v.row_count if v else None,
            "built_at": v.created_at if v else None, "checks": v.check_status if v else None,
            "state": states.get(p.name, "ok") if v else None,
        })
    return rows


def check_results(ctx: Context, view: Any) -> list[dict[str, Any]]:
    if view.version is None:
        return []
    from steward.quality.inspect import current_results

    return [dict(r.__dict__) for r in current_results(ctx.metastore, view.version.id)]


def show(ctx: Context, name: str, env: str | None) -> dict[str, Any]:
    """``steward show --json``."""
    return show_document(ctx, ctx.show(name, env))


def show_document(ctx: Context, view: Any) -> dict[str, Any]:
    """The document of a product view (``Context.show``), for ``show --json`` and the API."""
    p = view.product
    v = view.version
    return {
        "name": p.name, "kind": p.kind, "file": p.file, "meta_file": p.meta_file,
        "inputs": list(p.inputs),
        "spec": p.spec.model_dump(mode="json", exclude_defaults=True),
        "env": view.env,
        "version": None if v is None else {
            "id": v.id, "fingerprint": v.fingerprint, "rows": v.row_count, "bytes": v.bytes,
            "created_at": v.created_at, "check_status": v.check_status,
            "schema": [{"name": c.name, "type": c.type} for c in v.schema],
            "inputs": v.inputs,
        },
        "environments": view.environments,
        "last_step": None if view.last_step is None else view.last_step.__dict__,
        "check_results": check_results(ctx, view),
        "usage": usage(ctx, p.name, view.env),
    }


def usage(ctx: Context, name: str, env: str | None, **known: Any) -> dict[str, Any]:
    """"What's my product?": consumers, cost, SLO compliance and quality over time
    (``steward.ops.usage``; ``known``: what the caller already read)."""
    from steward.ops.usage import product_usage

    return product_usage(ctx, name, env, **known)


def card(ctx: Context, name: str, env: str | None, known: Any = None,
         metastore: Any = None) -> Any:
    """``steward catalog show --json`` (the Card object; ``.to_json()`` for the document).

    ``known(env)`` gives the (graph, classifications) of the lineage if already computed;
    ``metastore`` one that remembers what it read.
    """
    from steward.catalog.card import build_card
    from steward.catalog.service import lineage

    p = ctx.resolve_product(name)
    env = env or ctx.default_env
    graph, classes = known(env) if known else lineage(ctx.project, ctx.metastore, env)
    return build_card(ctx.project, p, graph, classes, metastore or ctx.metastore, env)


def versions(ctx: Context, name: str | None, limit: int) -> list[dict[str, Any]]:
    """``steward log --json``."""
    return [{"product": v.product, "version": v.id, "status": v.status,
             "fingerprint": v.fingerprint, "created_at": v.created_at, "run": v.run_id,
             "rows": v.row_count, "checks": v.check_status, "environments": envs}
            for v, envs in ctx.log(name, limit)]


def search(ctx: Context, text: str, owner: str | None = None, domain: str | None = None,
           tag: str | None = None, classification: str | None = None, limit: int = 20,
           env: str | None = None, index: Any = None) -> list[dict[str, Any]]:
    """``steward catalog search --json`` (``index``: an index already up to date)."""
    if index is None:
        from steward.catalog.service import refreshed_index

        index, _ = refreshed_index(ctx.project, ctx.metastore, env or ctx.default_env)
    try:
        hits = index.search(text, owner=owner, domain=domain, tag=tag,
                            classification=classification, limit=limit)
    finally:
        index.close()
    return [{"name": h.name, "product": h.product, "column": h.column,
             "score": round(h.score, 4), "description": h.description,
             "owner": h.owner, "domain": h.domain, "classification": list(h.classes)}
            for h in hits]


def runs(ctx: Context, limit: int) -> list[dict[str, Any]]:
    """``steward runs --json``."""
    return [dict(r.__dict__) for r in ctx.runs(limit)]


def run_steps(ctx: Context, run_id: str) -> list[dict[str, Any]]:
    """``steward runs RUN --json``."""
    return [dict(s.__dict__) for s in ctx.run_steps(run_id)]


def environments(ctx: Context) -> list[dict[str, Any]]:
    """``steward env ls --json``."""
    return list(ctx.metastore.environments())


def plan(ctx: Context, env: str | None, select: Sequence[str] = (),
         exclude: Sequence[str] = ()) -> dict[str, Any]:
    """``steward plan --json``."""
    from steward.run.envops import plan as make_plan

    return make_plan(ctx, env, list(select), list(exclude)).to_json()  # type: ignore[no-any-return]


def diff(ctx: Context, product: str, a: str, b: str, sample: int = 10) -> dict[str, Any]:
    """``steward diff --json``."""
    from steward.run.envops import diff as run_diff

    return run_diff(ctx, product, a, b, sample).to_json()  # type: ignore[no-any-return]


def audit_log(ctx: Context, action: str | None, actor: str | None, target: str | None,
              since: str | None, limit: int) -> list[dict[str, Any]]:
    """``steward audit log --json``."""
    if target:
        target = ctx.resolve_product(target).name
    events = ctx.audit_trail().log(action, actor, target, since, limit or None)
    return [e.to_dict() for e in events]


def audit_verify(ctx: Context) -> dict[str, Any]:
    """``steward audit verify --json``."""
    from steward.run.integrity import verify_trail

    return verify_trail(ctx.audit_trail(), ctx.metastore).to_dict()  # type: ignore[no-any-return]


def compliance(ctx: Context, env: str | None) -> dict[str, Any]:
    """``steward compliance --format json``."""
    return json.loads(ctx.compliance_report(env).to_json())  # type: ignore[no-any-return]


def glossary(ctx: Context, term: str | None = None) -> dict[str, Any]:
    """``steward glossary --json``."""
    from steward.catalog.glossary import glossary_listing, glossary_warnings

    return {"terms": glossary_listing(ctx.project, term),
            "warnings": glossary_warnings(ctx.project)}


def owners(ctx: Context, runs: int = 10) -> dict[str, Any]:
    """``steward owners --json``."""
    from steward.catalog.owners import owners_report

    return owners_report(ctx.project, ctx.metastore, runs).to_json()  # type: ignore[no-any-return]


def profiles(ctx: Context) -> Any:
    from steward.profile.service import Profiles

    return Profiles(ctx.metastore, ctx.store, ctx.engine)


def profile(ctx: Context, name: str, version: str | None, env: str | None) -> dict[str, Any]:
    """``steward profile --json`` (a stored profile; never computed by a request)."""
    p = ctx.resolve_product(name)
    profs = profiles(ctx)
    v = profs.resolve(p.name, version or env, ctx.default_env)
    return {"product": p.name, "version": v.id, "profile": profs.of_version(v, compute=False)}


def drift(ctx: Context, name: str, v1: str | None, v2: str | None) -> dict[str, Any]:
    """``steward drift --json``."""
    p = ctx.resolve_product(name)
    return profiles(ctx).drift(p.name, v1, v2, ctx.default_env)  # type: ignore[no-any-return]


def metrics(ctx: Context, name: str, metric: str | None, column: str | None
            ) -> list[dict[str, Any]]:
    """``steward metrics --json``."""
    p = ctx.resolve_product(name)
    return [x.as_dict() for x in profiles(ctx).metrics(p.name, metric, column)]


def lineage(ctx: Context, name: str, column: str | None, direction: str, depth: int | None,
            env: str | None) -> dict[str, Any]:
    """``steward lineage --format json``."""
    from steward.catalog.lineage_view import to_json, walk
    from steward.catalog.service import lineage as graph_of
    from steward.core.errors import NotFound

    product = ctx.resolve_product(name).name
    graph, classes = graph_of(ctx.project, ctx.metastore, env or ctx.default_env)
    if column is not None:
        known = graph.columns.get(product) or ()
        real = next((c for c in known if c.lower() == column.lower()), None)
        if real is None and known:
            raise NotFound(f"{product} has no column {column!r}; it has: {', '.join(known)}")
        column = real or column
    view = walk(ctx.project, graph, product, column, direction, depth, classes)  # type: ignore[arg-type]
    return json.loads(to_json(view))  # type: ignore[no-any-return]


def check_report(ctx: Context, name: str, version: str | None, env: str | None) -> dict[str, Any]:
    """``steward check show PRODUCT --json``."""
    return ctx.check_results(name, version, env).to_json()  # type: ignore[no-any-return]
