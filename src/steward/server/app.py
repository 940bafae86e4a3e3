"""The FastAPI application: who is asking, errors as one clear message, the routers."""

from __future__ import annotations

import os
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from steward.core.errors import (
    ConfigError,
    IntegrityError,
    LockError,
    NotFound,
    PlanError,
    SelectionError,
    StewardError,
)
from steward.server.auth import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    Denied,
    Principal,
    Unauthenticated,
    from_user,
    new_csrf,
)
from steward.server.lean import Lean
from steward.server.shapes import dumps
from steward.server.state import ServerState

HERE = os.path.dirname(__file__)
API_VERSION = "v1"
# what every page says about where it may load things from: only this server
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "frame-ancestors 'none'; form-action 'self'")


class JSON(JSONResponse):
    """JSON as ``--json`` writes it (dates as text, decimals as numbers)."""

    def render(self, content: Any) -> bytes:
        return dumps(content).encode()


def status_of(e: StewardError) -> int:
    if isinstance(e, Unauthenticated):
        return 401
    if isinstance(e, Denied):
        return 403
    if isinstance(e, NotFound):
        return 404
    if isinstance(e, PlanError | LockError | IntegrityError):
        return 409
    if isinstance(e, SelectionError | ConfigError):
        return 400
    return 400


def principal(request: Request) -> Principal:
    """The user of this request; raises Unauthenticated when there is none."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    state: ServerState = request.app.state.steward
    who = _known(request, state) or _resolve(request, state)
    request.state.principal = who
    return who


async def principal_dep(request: Request) -> Principal:
    """:func:`principal` as a dependency of the routes: answered on the event loop when
    nothing needs reading (an open server, a token verified in the last minute),
    otherwise on a worker thread (a token's slow hash, a session, the count of users)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    state: ServerState = request.app.state.steward
    who = _known(request, state)
    if who is None:
        from starlette.concurrency import run_in_threadpool

        who = await run_in_threadpool(_resolve, request, state)
    request.state.principal = who
    return who


async def counted(request: Request) -> None:
    """Count a read of the product a route names (``/products/{name}...``) by the user
    asking, for "what's my product?" (``via`` api or web); a name that is not a product
    is left to the route to refuse."""
    name = request.path_params.get("name")
    if not name:
        return
    who = await principal_dep(request)
    state: ServerState = request.app.state.steward
    try:
        product = state.ctx.resolve_product(name).name
    except StewardError:
        return
    state.count_read(product, "api" if request.url.path.startswith("/api/") else "web",
                     who.name)


def _known(request: Request, state: ServerState) -> Principal | None:
    """The user, when it is known without reading the metastore (else None)."""
    return known_principal(state, request.headers.get("authorization"),
                           getattr(request.state, "csrf", "") or "")


def known_principal(state: ServerState, authorization: str | None, csrf: str
                    ) -> Principal | None:
    """The user of a request with this ``Authorization`` header (or none) and double-submit
    CSRF token, when it is known without reading the metastore: a bearer token verified
    in the last minute, or the local user of an open server whose count of users is
    fresh. None otherwise (:func:`_resolve` then reads on a worker thread)."""
    if authorization:
        scheme, _, token = authorization.partition(" ")
        user = state.tokens.get(token.strip(), state.accounts_stamp(known_only=True)) \
            if scheme.lower() == "bearer" else None
        return from_user(user, "token") if user is not None else None
    if state.open_mode(known_only=True):
        return Principal(state.local_user(), "admin", pii=True, via="local", csrf=csrf)
    return None


def _resolve(request: Request, state: ServerState) -> Principal:
    auth = request.headers.get("authorization")
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthenticated("the Authorization header must be 'Bearer <token>'; "
                                  "'steward users token NAME' makes a token")
        token = token.strip()
        stamp = state.accounts_stamp()
        user = state.tokens.get(token, stamp)
        if user is None:
            user = state.ctx.accounts().token_user(token)
            if user is None:
                raise Unauthenticated("this API token is not valid (revoked, or never "
                                      "issued); 'steward users token NAME' makes a new one")
            state.tokens.put(token, user, stamp)
        return from_user(user, "token")
    if state.open_mode():
        return Principal(state.local_user(), "admin", pii=True, via="local",
                         csrf=getattr(request.state, "csrf", "") or "")
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        found = state.ctx.accounts().session(sid)
        if found is not None:
            return from_user(found[0], "session", found[1])
    raise Unauthenticated("sign in first: a session (the web pages) or a bearer token "
                          "(the API) is needed")


def create_app(state: ServerState) -> FastAPI:
    from steward.server import api, pages

    app = StewardApp(
        title="Steward", version=API_VERSION,
        description="The API of a Steward project. Every document has the shape of the "
                    "matching command's `--json` output (`steward ls --json`, "
                    "`steward show --json`, ...). Authenticate with "
                    "`Authorization: Bearer <token>` (`steward users token NAME`).",
        openapi_url=f"/api/{API_VERSION}/openapi.json", docs_url=None, redoc_url=None,
    )
    app.state.steward = state
    app.mount("/static", StaticFiles(directory=os.path.join(HERE, "static")), name="static")

    app.front = Headers(Lean(app.framework, state), secure=state.settings.secure_cookies,
                        answering=state.answering)

    @app.exception_handler(StewardError)
    async def steward_error(request: Request, e: StewardError) -> Response:
        status = status_of(e)
        if request.url.path.startswith("/api/"):
            return JSON({"error": e.render(), "kind": type(e).__name__}, status_code=status,
                        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None)
        if status == 401:
            from urllib.parse import quote

            return RedirectResponse(f"/login?next={quote(request.url.path)}", 303)
        return pages.error_page(request, status, e.render())

    @app.exception_handler(404)
    async def not_found(request: Request, e: Exception) -> Response:
        if request.url.path.startswith("/api/") or request.url.path.startswith("/static/"):
            return JSON({"error": "no such page", "kind": "NotFound"}, status_code=404)
        return pages.error_page(request, 404, "no such page")

    app.include_router(api.router, prefix=f"/api/{API_VERSION}")
    app.include_router(pages.router)
    from steward.server import operate

    app.include_router(operate.router)

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(status_code=204)

    return app


class StewardApp(FastAPI):
    """The application, with a front of two plain ASGI layers before FastAPI's own
    middleware: :class:`Headers` (what every answer carries), then the lean path
    (:mod:`steward.server.lean`: the hot reads, which never reach the framework)."""

    front: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.front(scope, receive, send)

    async def framework(self, scope: Any, receive: Any, send: Any) -> None:
        await FastAPI.__call__(self, scope, receive, send)


class Headers:
    """What every answer carries (the page's Content-Security-Policy and friends), and the
    double-submit CSRF cookie of an open server or the sign-in form: another site cannot
    read it. A plain ASGI middleware: it costs a header or two, not a task per request."""

    _HEADERS = ((b"content-security-policy", CSP.encode()),
                (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                (b"x-frame-options", b"DENY"))

    def __init__(self, app: Any, secure: bool = False, answering: Any = None):
        self.app, self.secure, self.answering = app, secure, answering
        # the cookie as Starlette's set_cookie writes it (a token needs no quoting)
        self._cookie = (f"{CSRF_COOKIE}={{}}; HttpOnly; Path=/; SameSite=strict"
                        + ("; Secure" if secure else ""))

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        csrf = csrf_cookie(scope)
        fresh = None
        if not csrf:
            fresh = csrf = new_csrf()
        scope.setdefault("state", {})["csrf"] = csrf
        ours = self._HEADERS
        cookie = self._cookie.format(fresh).encode() if fresh else None

        async def sending(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                have = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in ours if k not in have]
                if cookie is not None:
                    headers.append((b"set-cookie", cookie))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)
        if self.answering is not None and not self.answering.is_set():
            self.answering.set()  # the first answer is out: the server may warm up


def csrf_cookie(scope: Any) -> str | None:
    """The double-submit CSRF cookie of a request, parsed as Starlette parses cookies
    (and only when the request has a ``Cookie`` header)."""
    cookies: dict[str, str] | None = None
    for k, v in scope["headers"]:
        if k == b"cookie":
            from starlette.requests import cookie_parser

            cookies = cookies or {}
            cookies.update(cookie_parser(v.decode("latin-1")))
    return cookies.get(CSRF_COOKIE) if cookies else None


def html_response(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(text, status_code=status)
