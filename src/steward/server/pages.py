"""The web pages: server-rendered HTML (Jinja2, escaped by default) and one small script.

Forms that write carry the session's CSRF token; everything a page loads (script, style,
icons) comes from this server.
"""

from __future__ import annotations

import os
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from markupsafe import Markup

from steward.server import masking, shapes, views, writes
from steward.server.app import HERE, counted, principal_dep
from steward.server.auth import (
    SESSION_COOKIE,
    Denied,
    Principal,
    from_user,
    same,
)
from steward.server.state import ServerState

router = APIRouter(include_in_schema=False, default_response_class=HTMLResponse)
Who = Annotated[Principal, Depends(principal_dep)]
Env = Annotated[str | None, Query(max_length=63)]
_ENV: Any = None
PAGE_SECONDS = 60


def templates() -> Any:
    global _ENV
    if _ENV is None:
        from jinja2 import Environment, FileSystemLoader, select_autoescape

        _ENV = Environment(loader=FileSystemLoader(os.path.join(HERE, "templates")),
                           autoescape=select_autoescape(default=True, default_for_string=True))
        _ENV.filters["q"] = lambda s: quote(str(s), safe="")
        _ENV.filters["when"] = lambda d: f"{d:%Y-%m-%d %H:%M}" if d else ""
        _ENV.filters["num"] = _num
        _ENV.globals["safe_svg"] = Markup  # only for SVG this server generated and escaped
    return _ENV


def _num(n: Any) -> str:
    """A count with thousands separators; nothing for a value a profile does not have
    (an empty version's columns have no distinct count)."""
    return f"{n:,}" if isinstance(n, int | float) else ""


def render(request: Request, template: str, status: int = 200, **data: Any) -> HTMLResponse:
    return HTMLResponse(_page(request, template, None, **data), status_code=status)


def _page(request: Request, template: str, csrf: str | None, **data: Any) -> str:
    who = getattr(request.state, "principal", None)
    return page_text(_state(request), who, request.url.path,
                     csrf or (who.csrf if who else request.state.csrf), template, **data)


def page_text(state: ServerState, who: Principal | None, path: str, csrf: str,
              template: str, **data: Any) -> str:
    """A page for ``who`` at ``path`` whose forms carry ``csrf``."""
    return templates().get_template(template).render(  # type: ignore[no-any-return]
        who=who, csrf=csrf, project=state.ctx.project, path=path,
        open_mode=who is not None and who.via == "local", **data)


# where a cached page gets the session's CSRF token (never a token in the cache)
CSRF_SLOT = "\x00csrf\x00"
CSRF_SLOT_BYTES = CSRF_SLOT.encode()


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", status=status, status_code=status, message=message)


def _state(request: Request) -> ServerState:
    return request.app.state.steward  # type: ignore[no-any-return]


async def form_of(request: Request) -> dict[str, str]:
    """The urlencoded form of a POST (first value of each field)."""
    body = (await request.body())[:100_000].decode("utf-8", "replace")
    return {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}


def check_csrf(form: dict[str, str], who: Principal) -> None:
    if not same(form.get("csrf"), who.csrf):
        raise Denied("this form carries no valid CSRF token (a stale page or another site "
                     "posting it); reload the page and try again")


# -- sign in --------------------------------------------------------------------------------
@router.get("/login")
def login_page(request: Request, next: Annotated[str, Query(max_length=500)] = "/") -> Any:
    return render(request, "login.html", next=_local(next), failed=False)


@router.post("/login")
async def login(request: Request) -> Any:
    form = await form_of(request)
    nxt = _local(form.get("next", "/"))
    if not same(form.get("csrf"), request.state.csrf):
        raise Denied("the sign-in form carries no valid CSRF token; reload the page")
    state = _state(request)
    user = await run_in_threadpool(state.ctx.accounts().login, form.get("name", "")[:64],
                                   form.get("password", "")[:1000])
    if user is None:
        return render(request, "login.html", status=401, next=nxt, failed=True)
    sid, csrf = await run_in_threadpool(state.ctx.accounts().new_session, user.name)
    request.state.principal = from_user(user, "session", csrf)
    response = RedirectResponse(nxt, 303)
    response.set_cookie(SESSION_COOKIE, sid, httponly=True, samesite="lax",
                        secure=state.settings.secure_cookies, max_age=12 * 3600)
    return response


@router.post("/logout")
async def logout(request: Request, who: Who) -> Any:
    check_csrf(await form_of(request), who)
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        await run_in_threadpool(_state(request).ctx.accounts().end_session, sid)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE)
    return response


def _local(target: str) -> str:
    """Only a path on this server: never an open redirect."""
    return target if target.startswith("/") and not target.startswith("//") \
        and "\\" not in target else "/"


# -- reading ------------------------------------------------------------------------------
@router.get("/")
def home(request: Request, who: Who, env: Env = None) -> Any:
    return render(request, "home.html", **views.home(_state(request), env))


@router.get("/search")
def search(request: Request, who: Who, q: Annotated[str, Query(max_length=500)] = "") -> Any:
    state = _state(request)
    hits = shapes.search(state.ctx, q, limit=50, index=state.search_index()) if q else []
    return render(request, "search.html", q=q, hits=hits)


@router.get("/products/{name}", dependencies=[Depends(counted)])
async def product(request: Request, who: Who, name: str, env: Env = None,
                  preview: bool = False) -> Any:
    state = _state(request)
    name = state.ctx.resolve_product(name).name
    return HTMLResponse(await product_page(state, who, name, state.ctx.env_name(env),
                                           preview, request.url.path, request.state.csrf))


async def product_page(state: ServerState, who: Principal, name: str, env: str,
                       preview: bool, path: str, csrf: str) -> bytes:
    """The page of product ``name`` (UTF-8): from memory, or made on a worker thread and
    remembered (the route's answer, and the lean path's: :mod:`steward.server.lean`).
    Kept as UTF-8: half the memory of the text (a page with one character past Latin-1
    takes two bytes a character as a str), and nothing to encode when answering."""

    def make() -> bytes:
        data = views.product(state, who, name, env)
        rows = None
        if preview and data["current"] is not None:
            from steward.server.api import preview_rows

            rows = preview_rows(state, who, name, 10, data["env"])
        return page_text(state, who, path, CSRF_SLOT, "product.html", preview=rows,
                         **data).encode()

    page = await state.made(product_key(state, who, name, env, preview), make)
    return with_csrf(page, who, csrf)


def product_key(state: ServerState, who: Principal, name: str, env: str,
                preview: bool) -> tuple[Any, ...]:
    """Under what a product page is remembered: one rendering per user and per change of
    what the page shows (this product's versions, pointers, checks, profiles and steps:
    its stamp), and a minute's tick (the age of the current version against its
    freshness SLO). Each product's minute starts at its own second, so the pages of a
    catalog do not all expire at once."""
    import time
    import zlib

    offset = zlib.crc32(name.encode()) % PAGE_SECONDS
    return ("page", "product.html", name, env, preview, who.name, who.role, who.pii,
            who.via, state.stamp(name), int((time.time() + offset) // PAGE_SECONDS))


def with_csrf(page: bytes, who: Principal, csrf: str) -> bytes:
    """A remembered page with this request's CSRF token in its forms."""
    return page.replace(CSRF_SLOT_BYTES, (who.csrf or csrf).encode())


@router.get("/products/{name}/report", dependencies=[Depends(counted)])
def report(request: Request, who: Who, name: str, env: Env = None) -> Any:
    """The HTML report of ``steward report``, personal values masked without ``pii``."""
    from steward.profile.report import build_report

    state = _state(request)
    ctx = state.ctx
    p = ctx.resolve_product(name)
    profs = shapes.profiles(ctx)
    if not who.pii:
        profs = _MaskedProfiles(profs, masking.pii_columns(state.classes(), p.name))
    text = build_report(profs, p.name, ctx.env_name(env))
    # the report is one self-contained file with its style inline
    return HTMLResponse(text, headers={"Content-Security-Policy":
                                       "default-src 'none'; style-src 'unsafe-inline'; "
                                       "img-src data:"})


class _MaskedProfiles:
    """Profiles whose stored profiles come back masked (for the HTML report)."""

    def __init__(self, inner: Any, pii: set[str]):
        self._inner, self._pii = inner, pii

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._inner, attr)

    def of_version(self, version: Any, compute: bool = False) -> Any:
        return masking.mask_profile(self._inner.of_version(version, compute=False),
                                          self._pii)


@router.get("/lineage/{name}", dependencies=[Depends(counted)])
def lineage(request: Request, who: Who, name: str,
            column: Annotated[str | None, Query(max_length=300)] = None,
            depth: Annotated[int, Query(ge=1, le=20)] = 3, env: Env = None) -> Any:
    from steward.server import lineage_svg

    state = _state(request)
    ctx = state.ctx
    p = ctx.resolve_product(name)
    graph, classes = state.lineage(env and ctx.env_name(env))
    if column is not None:
        known = list(graph.columns.get(p.name) or ()) + list(p.spec.columns)
        real = next((c for c in known if c.lower() == column.lower()), None)
        if real is None:
            from steward.core.errors import NotFound

            raise NotFound(f"{p.name} has no column {column!r}")
        column = real
    g = lineage_svg.neighbourhood(ctx.project, graph, classes, p.name, column, depth)
    svg = lineage_svg.render(g, p.name, column)
    upstream = [n for n in g.focus if n != p.name and "." in n] if column else []
    return render(request, "lineage.html", name=p.name, column=column, depth=depth,
                  svg=svg, nodes=len(g.products), focus=sorted(upstream))


@router.get("/runs")
def runs(request: Request, who: Who) -> Any:
    state = _state(request)
    return render(request, "runs.html", runs=state.ctx.runs(50), jobs=state.jobs.list()[:20])


@router.get("/runs/{run_id}")
def run(request: Request, who: Who, run_id: str) -> Any:
    ctx = _state(request).ctx
    r = ctx.metastore.run(run_id)
    steps = ctx.run_steps(run_id)
    t0 = r.started_at
    span = max([((s.started_at - t0).total_seconds() if s.started_at else 0)
                + (s.duration_s or 0) for s in steps] + [0.001])
    bars = [{"s": s, "left": ((s.started_at - t0).total_seconds() if s.started_at else 0)
             / span * 100, "width": max((s.duration_s or 0) / span * 100, 0.5)} for s in steps]
    return render(request, "run.html", run=r, bars=bars, span=span)


@router.get("/jobs/{job_id}")
def job(request: Request, who: Who, job_id: str) -> Any:
    j = _state(request).jobs.get(job_id)
    if j is None:
        from steward.core.errors import NotFound

        raise NotFound(f"no job {job_id!r} (jobs last as long as the server)")
    return render(request, "job.html", job=j)


@router.get("/environments")
def environments(request: Request, who: Who,
                 product: Annotated[str | None, Query(max_length=300)] = None,
                 a: Annotated[str | None, Query(max_length=100)] = None,
                 b: Annotated[str | None, Query(max_length=100)] = None) -> Any:
    ctx = _state(request).ctx
    envs = ctx.metastore.environments()
    pointers = {e["name"]: ctx.metastore.pointer_map(e["name"]) for e in envs}
    names = sorted({n for m in pointers.values() for n in m})
    diff = shapes.diff(ctx, product, a, b, 0) if product and a and b else None
    return render(request, "environments.html", envs=envs, pointers=pointers, names=names,
                  diff=diff, product=product, a=a, b=b,
                  protected=ctx.project.spec.environments.protected)


@router.get("/plan")
def plan(request: Request, who: Who, env: Env = None,
         select: Annotated[str, Query(max_length=1000)] = "") -> Any:
    ctx = _state(request).ctx
    doc = shapes.plan(ctx, env, select.split())
    return render(request, "plan.html", plan=doc, env=env or ctx.default_env, select=select)


@router.get("/audit")
def audit(request: Request, who: Who,
          action: Annotated[str | None, Query(max_length=64)] = None,
          actor: Annotated[str | None, Query(max_length=255)] = None,
          target: Annotated[str | None, Query(max_length=300)] = None,
          since: Annotated[str | None, Query(max_length=40)] = None,
          verify: bool = False) -> Any:
    ctx = _state(request).ctx
    events = shapes.audit_log(ctx, action or None, actor or None, target or None,
                              since or None, 200)
    report = shapes.audit_verify(ctx) if verify else None
    return render(request, "audit.html", events=events, report=report,
                  filters={"action": action or "", "actor": actor or "",
                           "target": target or "", "since": since or ""})


@router.get("/compliance")
def compliance(request: Request, who: Who, env: Env = None) -> Any:
    return render(request, "compliance.html", report=shapes.compliance(_state(request).ctx, env))


@router.get("/glossary")
def glossary(request: Request, who: Who) -> Any:
    return render(request, "glossary.html", **shapes.glossary(_state(request).ctx))


@router.get("/owners")
def owners(request: Request, who: Who) -> Any:
    return render(request, "owners.html", report=shapes.owners(_state(request).ctx))


# -- writing --------------------------------------------------------------------------------
@router.post("/run")
async def start_run(request: Request, who: Who) -> Any:
    form = await form_of(request)
    check_csrf(form, who)
    kind = form.get("kind", "run")
    args = (form.get("select", "").split(), form.get("exclude", "").split(),
            form.get("env") or None)
    state = _state(request)
    if kind == "check":
        job = await run_in_threadpool(writes.start_check, state, who, *args)
    else:
        job = await run_in_threadpool(writes.start_run, state, who, *args,
                                      form.get("full_refresh") == "on")
    return RedirectResponse(f"/jobs/{quote(job.id)}", 303)


@router.post("/products/{name}/promote")
async def promote(request: Request, who: Who, name: str) -> Any:
    form = await form_of(request)
    check_csrf(form, who)
    state = _state(request)
    p = state.ctx.resolve_product(name)
    doc = await run_in_threadpool(writes.promote, state, who, form.get("source", ""),
                                  form.get("target", ""), [p.name],
                                  form.get("message") or None)
    return render(request, "done.html", title=f"promoted {p.name}", doc=doc, back=p.name)


@router.post("/products/{name}/rollback")
async def rollback(request: Request, who: Who, name: str) -> Any:
    form = await form_of(request)
    check_csrf(form, who)
    state = _state(request)
    p = state.ctx.resolve_product(name)
    doc = await run_in_threadpool(writes.rollback, state, who, p.name, form.get("to") or None,
                                  form.get("env") or None, form.get("downstream") == "on",
                                  form.get("message") or None)
    return render(request, "done.html", title=f"rolled back {p.name}", doc=doc, back=p.name)

