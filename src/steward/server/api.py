"""``/api/v1``: the JSON API. Each read returns what the matching ``--json`` command prints.

Writes (``POST``) need a bearer token, or, from a signed-in page, the session's CSRF
token in the ``X-CSRF-Token`` header.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response, StreamingResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ConfigDict, Field

from steward.core.errors import NotFound
from steward.server import masking, shapes, views, writes
from steward.server.app import JSON, counted, principal_dep
from steward.server.auth import Denied, Principal, same
from steward.server.shapes import dumps
from steward.server.state import ServerState


class DocumentRoute(APIRoute):
    """Answers with the document as ``--json`` prints it (dates as ``str()`` gives them),
    not FastAPI's own encoding."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kw: Any):
        status = kw.get("status_code") or 200

        if inspect.iscoroutinefunction(endpoint):
            @functools.wraps(endpoint)
            async def answer(*args: Any, **kwargs: Any) -> Any:
                out = await endpoint(*args, **kwargs)
                return out if isinstance(out, Response) else JSON(out, status_code=status)

            super().__init__(path, answer, **kw)
            return

        @functools.wraps(endpoint)
        def answer_sync(*args: Any, **kwargs: Any) -> Any:
            out = endpoint(*args, **kwargs)
            return out if isinstance(out, Response) else JSON(out, status_code=status)

        super().__init__(path, answer_sync, **kw)


# every read of /products/{name}/... counts as a query of that product by its user
router = APIRouter(default_response_class=JSON, route_class=DocumentRoute,
                   dependencies=[Depends(counted)])
Who = Annotated[Principal, Depends(principal_dep)]
Env = Annotated[str | None, Query(max_length=63, description="Environment (default: the "
                                                             "project's default).")]
Limit = Annotated[int, Query(ge=1, le=1000)]
Name = Annotated[str, Field(max_length=300)]


def _state(request: Request) -> ServerState:
    return request.app.state.steward  # type: ignore[no-any-return]


def check_write(request: Request, who: Principal) -> None:
    """A write from a browser carries the session's CSRF token; a bearer token needs none."""
    if who.via == "token":
        return
    if not same(request.headers.get("x-csrf-token"), who.csrf):
        raise Denied("this write carries no valid CSRF token: send the page's token in the "
                     "X-CSRF-Token header, or call the API with a bearer token")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RunRequest(Body):
    select: list[Name] = Field(default_factory=list, max_length=100)
    exclude: list[Name] = Field(default_factory=list, max_length=100)
    env: str | None = Field(default=None, max_length=63)
    full_refresh: bool = False


class CheckRequest(Body):
    select: list[Name] = Field(default_factory=list, max_length=100)
    exclude: list[Name] = Field(default_factory=list, max_length=100)
    env: str | None = Field(default=None, max_length=63)


class PromoteRequest(Body):
    source: str = Field(max_length=63)
    target: str = Field(max_length=63)
    select: list[Name] = Field(default_factory=list, max_length=100)
    message: str | None = Field(default=None, max_length=2000)


class RollbackRequest(Body):
    product: Name
    to: str | None = Field(default=None, max_length=100)
    env: str | None = Field(default=None, max_length=63)
    downstream: bool = False
    message: str | None = Field(default=None, max_length=2000)


# -- who --------------------------------------------------------------------------------
@router.get("/me", summary="The signed-in user")
def me(who: Who) -> Any:
    return who.to_json()


# -- catalog ----------------------------------------------------------------------------
@router.get("/products", summary="Products with their current version (steward ls --json)")
def products(request: Request, who: Who, env: Env = None) -> Any:
    return shapes.products(_state(request).ctx, env)


@router.get("/products/{name}", summary="One product (steward show --json)")
def product(request: Request, who: Who, name: str, env: Env = None) -> Any:
    return shapes.show(_state(request).ctx, name, env)


@router.get("/products/{name}/card", summary="Catalog card (steward catalog show --json)")
async def card(request: Request, who: Who, name: str, env: Env = None) -> Any:
    state = _state(request)
    body = await card_answer(state, state.ctx.resolve_product(name), state.ctx.env_name(env))
    return Response(body, media_type=JSON.media_type)


# where the age of the current version goes in a remembered card's JSON text
_FRESHNESS = "\x00freshness\x00"
_FRESHNESS_JSON = dumps(_FRESHNESS).encode()


async def card_answer(state: ServerState, p: Any, env: str) -> bytes:
    """The JSON text of product ``p``'s card: from memory, or made on a worker thread and
    remembered (the route's answer, and the lean path's: :mod:`steward.server.lean`).
    It is kept as the text around its ``freshness``, which is made again for each
    answer (the age of the current version as of now)."""
    from steward.catalog.card import _freshness

    def make() -> tuple[Any, ...]:
        facts = views.product_facts(state, p.name, env)
        doc = facts["card"].to_json()
        text = dumps({**doc, "freshness": _FRESHNESS}).encode()
        if text.count(_FRESHNESS_JSON) != 1:  # (a NUL in the card's text: no splicing)
            return None, doc, facts["current"]
        before, _, after = text.partition(_FRESHNESS_JSON)
        return before, after, facts["current"]

    before, after, current = await state.made(card_key(state, p.name, env), make)
    fresh = _freshness(p, current, None)
    if before is None:
        return dumps({**after, "freshness": fresh}).encode()
    return before + dumps(fresh).encode() + after


def card_key(state: ServerState, name: str, env: str) -> tuple[Any, ...]:
    """Under what a card is remembered: the same document while nothing it shows changed
    (the product's stamp)."""
    return ("card", name, env, state.stamp(name))


@router.get("/products/{name}/versions", summary="Versions (steward log --json)")
def versions(request: Request, who: Who, name: str, limit: Limit = 20) -> Any:
    return shapes.versions(_state(request).ctx, name, limit)


@router.get("/products/{name}/checks", summary="Stored check results (steward check show "
                                                 "--json)")
def checks(request: Request, who: Who, name: str,
           version: Annotated[str | None, Query(max_length=100)] = None, env: Env = None) -> Any:
    return shapes.check_report(_state(request).ctx, name, version, env)


@router.get("/products/{name}/profile", summary="Stored profile (steward profile --json); "
                                                  "PII values masked without 'pii'")
def profile(request: Request, who: Who, name: str,
            version: Annotated[str | None, Query(max_length=100)] = None,
            env: Env = None) -> Any:
    state = _state(request)
    doc = shapes.profile(state.ctx, name, version, env)
    if not who.pii:
        doc["profile"] = masking.mask_profile(
            doc["profile"], masking.pii_columns(state.classes(), doc["product"]))
    return doc


@router.get("/products/{name}/drift", summary="Drift between versions (steward drift --json)")
def drift(request: Request, who: Who, name: str,
          a: Annotated[str | None, Query(max_length=100)] = None,
          b: Annotated[str | None, Query(max_length=100)] = None) -> Any:
    return shapes.drift(_state(request).ctx, name, a, b)


@router.get("/products/{name}/metrics", summary="Metric series (steward metrics --json)")
def metrics(request: Request, who: Who, name: str,
            metric: Annotated[str | None, Query(max_length=100)] = None,
            column: Annotated[str | None, Query(max_length=300)] = None) -> Any:
    return shapes.metrics(_state(request).ctx, name, metric, column)


@router.get("/products/{name}/lineage", summary="Lineage (steward lineage --format json)")
def lineage(request: Request, who: Who, name: str,
            column: Annotated[str | None, Query(max_length=300)] = None,
            direction: Annotated[str, Query(pattern="^(upstream|downstream|both)$")] = "both",
            depth: Annotated[int | None, Query(ge=1, le=100)] = None,
            env: Env = None) -> Any:
    return shapes.lineage(_state(request).ctx, name, column, direction, depth, env)


@router.get("/products/{name}/preview", summary="First rows of the current version; PII "
                                                  "values masked without 'pii'")
def preview(request: Request, who: Who, name: str, limit: Annotated[int, Query(ge=1, le=100)]
            = 10, env: Env = None) -> Any:
    state = _state(request)
    return preview_rows(state, who, name, limit, env)


def preview_rows(state: ServerState, who: Principal, name: str, limit: int,
                 env: str | None) -> list[dict[str, Any]]:
    ctx = state.ctx
    p = ctx.resolve_product(name)
    env = ctx.env_name(env)
    v = ctx.current(env).get(p.name)
    if v is None:
        raise NotFound(f"{p.name} has no version in {env!r}; run it first")
    from sqlglot import exp

    from steward.sql.parse import parquet_scan

    query = exp.select("*").from_(parquet_scan(ctx.store.data_files(v.path))).limit(int(limit))
    rows = ctx.engine.arrow(query).to_pylist()
    rows = shapes.plain(rows)
    return rows if who.pii else masking.mask_rows(rows, masking.pii_columns(state.classes(),
                                                                           p.name))


@router.get("/search", summary="Catalog search (steward catalog search --json)")
async def search(request: Request, who: Who,
                 q: Annotated[str, Query(max_length=500)] = "",
                 owner: Annotated[str | None, Query(max_length=200)] = None,
                 domain: Annotated[str | None, Query(max_length=200)] = None,
                 tag: Annotated[str | None, Query(max_length=200)] = None,
                 classification: Annotated[str | None, Query(max_length=200)] = None,
                 limit: Limit = 20, env: Env = None) -> Any:
    state = _state(request)
    body = await search_body(state, q, owner, domain, tag, classification, limit,
                             state.ctx.env_name(env))
    return Response(body, media_type=JSON.media_type)


async def search_body(state: ServerState, q: str, owner: str | None, domain: str | None,
                      tag: str | None, classification: str | None, limit: int, env: str
                      ) -> bytes:
    """The JSON text of a search's answer: from memory, or searched on a worker thread
    and remembered (the route's answer, and the lean path's)."""

    def make() -> bytes:
        return dumps(shapes.search(state.ctx, q, owner, domain, tag, classification, limit,
                                   env, state.search_index(env))).encode()

    return await state.made(search_key(state, q, owner, domain, tag, classification, limit,  # type: ignore[no-any-return]
                                       env), make)


def search_key(state: ServerState, q: str, owner: str | None, domain: str | None,
               tag: str | None, classification: str | None, limit: int, env: str
               ) -> tuple[Any, ...]:
    """Under what an answer to a search is remembered (as its JSON text): the same
    question answers the same while the project and the environment's pointers stay."""
    return ("search", q, owner, domain, tag, classification, limit, env, state.moved(env))


@router.get("/glossary", summary="Glossary (steward glossary --json)")
def glossary(request: Request, who: Who,
             term: Annotated[str | None, Query(max_length=200)] = None) -> Any:
    return shapes.glossary(_state(request).ctx, term)


@router.get("/owners", summary="Owners (steward owners --json)")
def owners(request: Request, who: Who, runs: Annotated[int, Query(ge=1, le=500)] = 10) -> Any:
    return shapes.owners(_state(request).ctx, runs)


# -- runs and environments ----------------------------------------------------------------
@router.get("/runs", summary="Recent runs (steward runs --json)")
def runs(request: Request, who: Who, limit: Limit = 20) -> Any:
    return shapes.runs(_state(request).ctx, limit)


@router.get("/runs/{run_id}", summary="One run's steps (steward runs RUN --json)")
def run_steps(request: Request, who: Who, run_id: str) -> Any:
    return shapes.run_steps(_state(request).ctx, run_id)


@router.get("/environments", summary="Environments (steward env ls --json)")
def environments(request: Request, who: Who) -> Any:
    return shapes.environments(_state(request).ctx)


@router.get("/plan", summary="What a run would change (steward plan --json)")
def plan(request: Request, who: Who, env: Env = None,
         select: Annotated[list[str] | None, Query(max_length=100)] = None) -> Any:
    return shapes.plan(_state(request).ctx, env, select or [])


@router.get("/diff", summary="Two versions of a product compared (steward diff --json)")
def diff(request: Request, who: Who, product: Annotated[str, Query(max_length=300)],
         a: Annotated[str, Query(max_length=100)], b: Annotated[str, Query(max_length=100)]
         ) -> Any:
    state = _state(request)
    doc = shapes.plain(shapes.diff(state.ctx, product, a, b, 10))
    if not who.pii:
        doc["sample"] = masking.mask_diff_sample(
            doc["sample"], masking.pii_columns(state.classes(), doc["product"]))
    return doc


# -- compliance -----------------------------------------------------------------------------
@router.get("/audit", summary="The audit trail, newest first (steward audit log --json)")
def audit(request: Request, who: Who,
          action: Annotated[str | None, Query(max_length=64)] = None,
          actor: Annotated[str | None, Query(max_length=255)] = None,
          target: Annotated[str | None, Query(max_length=300)] = None,
          since: Annotated[str | None, Query(max_length=40)] = None,
          limit: Annotated[int, Query(ge=0, le=10000)] = 50) -> Any:
    return shapes.audit_log(_state(request).ctx, action, actor, target, since, limit)


@router.get("/audit/verify", summary="Replay the audit chain (steward audit verify --json)")
def audit_verify(request: Request, who: Who) -> Any:
    return shapes.audit_verify(_state(request).ctx)


@router.get("/compliance", summary="Compliance report (steward compliance --format json)")
def compliance(request: Request, who: Who, env: Env = None) -> Any:
    return shapes.compliance(_state(request).ctx, env)


# -- writes ---------------------------------------------------------------------------------
@router.post("/runs", status_code=202, summary="Start a run (a background job)")
def start_run(request: Request, who: Who, body: RunRequest) -> Any:
    check_write(request, who)
    job = writes.start_run(_state(request), who, body.select, body.exclude, body.env,
                           body.full_refresh)
    return job.to_json()


@router.post("/checks", status_code=202, summary="Run checks on current versions (a job)")
def start_check(request: Request, who: Who, body: CheckRequest) -> Any:
    check_write(request, who)
    return writes.start_check(_state(request), who, body.select, body.exclude,
                              body.env).to_json()


@router.post("/promote", summary="Promote (steward promote --json)")
def promote(request: Request, who: Who, body: PromoteRequest) -> Any:
    check_write(request, who)
    return writes.promote(_state(request), who, body.source, body.target, body.select,
                          body.message)


@router.post("/rollback", summary="Roll back (steward rollback --json)")
def rollback(request: Request, who: Who, body: RollbackRequest) -> Any:
    check_write(request, who)
    return writes.rollback(_state(request), who, body.product, body.to, body.env,
                           body.downstream, body.message)


class GcRequest(Body):
    dry_run: bool = True
    keep_last: int | None = Field(default=None, ge=0, le=100_000)
    keep_days: float | None = Field(default=None, ge=0, le=100_000)


@router.post("/gc", summary="Delete versions past retention (steward gc --json); admins only")
def gc(request: Request, who: Who, body: GcRequest) -> Any:
    check_write(request, who)
    return writes.gc(_state(request), who, body.dry_run, body.keep_last, body.keep_days)


@router.get("/jobs", summary="Runs and checks started by this server")
def jobs(request: Request, who: Who) -> Any:
    return [j.to_json() for j in _state(request).jobs.list()]


@router.get("/jobs/{job_id}", summary="One job")
def job(request: Request, who: Who, job_id: str) -> Any:
    j = _state(request).jobs.get(job_id)
    if j is None:
        raise NotFound(f"no job {job_id!r} (jobs last as long as the server)")
    return {**j.to_json(), "events": j.events}


@router.get("/jobs/{job_id}/events", summary="A job's progress as server-sent events",
            response_class=StreamingResponse)
def job_events(request: Request, who: Who, job_id: str) -> StreamingResponse:
    j = _state(request).jobs.get(job_id)
    if j is None:
        raise NotFound(f"no job {job_id!r} (jobs last as long as the server)")

    def stream() -> Iterator[str]:
        for ev in j.follow():
            if ev is None:
                yield ": waiting\n\n"
                continue
            yield f"event: {ev['type']}\ndata: {json.dumps(ev, default=str)}\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store"})
