"""The hot reads without the web framework: a lean path for what a team asks most.

A team asks most for a product page, a product's catalog card and a search as they type,
and once made each is remembered (:meth:`ServerState.memo`). Answering one from memory
is a lookup and a copy; going through FastAPI's routing, dependency injection, parameter
validation and response classes costs several times that (and a first view pays it
too). So this plain ASGI layer, in front of FastAPI's own middleware and inside
:class:`steward.server.app.Headers` (every answer still gets the same headers and CSRF
cookie; :class:`steward.server.app.StewardApp` puts them there), answers

- ``GET /products/P`` (no query),
- ``GET /api/v1/products/P/card`` (no query),
- ``GET /api/v1/search?q=...`` (``q`` alone),

when the user is known without reading the metastore (an open server, a bearer token
verified in the last minute), with the routes' own code (:func:`pages.product_page`,
:func:`api.card_answer`, :func:`api.search_body`: the same keys in memory, the same
making on worker threads), counts the read of the product as the routes do, and sends
the same bytes and headers. Anything else — a session, an unknown token, a query it does
not take, a name that is no product, an error — goes on to the application, which
answers it (an error with its precise message) as before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from steward.core.errors import StewardError
from steward.server.state import ServerState

HTML = b"text/html; charset=utf-8"
JSON = b"application/json"
MAX_Q = 500  # the search route's max_length of q


class Lean:
    """The lean path (see the module's docstring); ``state.lean_answered`` counts its
    answers."""

    def __init__(self, app: Any, state: ServerState):
        self.app, self.state = app, state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            try:
                answer = await self.answer(scope)
            except Exception:  # the application answers it (its error page, its 4xx)
                answer = None
            if answer is not None:
                kind, body = answer
                self.state.lean_answered += 1
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", str(len(body)).encode()),
                                        (b"content-type", kind)]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    async def answer(self, scope: Any) -> tuple[bytes, bytes] | None:
        """(content type, body) of the answer, or None: for the application."""
        path: str = scope["path"]
        query: bytes = scope["query_string"]
        if path.startswith("/products/"):
            name = path[len("/products/"):]
            if query or not name or "/" in name:
                return None
            return await self._page(scope, name)
        if path.startswith("/api/v1/products/") and path.endswith("/card"):
            name = path[len("/api/v1/products/"):-len("/card")]
            if query or not name or "/" in name:
                return None
            return await self._card(scope, name)
        if path == "/api/v1/search":
            asked = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            if len(asked) != 1 or asked[0][0] != "q" or len(asked[0][1]) > MAX_Q:
                return None
            return await self._search(scope, asked[0][1])
        return None

    def _who(self, scope: Any) -> Any:
        from steward.server.app import known_principal

        auth = next((v.decode("latin-1") for k, v in scope["headers"]
                     if k == b"authorization"), None)
        return known_principal(self.state, auth, scope["state"]["csrf"])

    def _product(self, name: str) -> Any:
        try:
            return self.state.ctx.resolve_product(name)
        except StewardError:  # refused by the route, with its message
            return None

    async def _page(self, scope: Any, name: str) -> tuple[bytes, bytes] | None:
        from steward.server.pages import product_page

        state = self.state
        who = self._who(scope)
        p = self._product(name) if who is not None else None
        if p is None:
            return None
        page = await product_page(state, who, p.name, state.ctx.env_name(None), False,
                                  scope["path"], scope["state"]["csrf"])
        state.count_read(p.name, "web", who.name)
        return HTML, page

    async def _card(self, scope: Any, name: str) -> tuple[bytes, bytes] | None:
        from steward.server.api import card_answer

        state = self.state
        who = self._who(scope)
        p = self._product(name) if who is not None else None
        if p is None:
            return None
        body = await card_answer(state, p, state.ctx.env_name(None))
        state.count_read(p.name, "api", who.name)
        return JSON, body

    async def _search(self, scope: Any, q: str) -> tuple[bytes, bytes] | None:
        from steward.server.api import search_body

        state = self.state
        if self._who(scope) is None:
            return None
        return JSON, await search_body(state, q, None, None, None, None, 20,
                                       state.ctx.env_name(None))
