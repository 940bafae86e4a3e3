"""Answers from memory without the web framework: the hot reads on a lean path.

A team asks most for a product page, a product's catalog card and a search as they type,
and once made each is remembered (:meth:`ServerState.memo`). Answering one of those from
memory is a lookup and a copy; going through FastAPI's routing, dependency injection,
parameter validation and response classes costs several times that. So this plain ASGI
middleware, inside :class:`steward.server.app.Headers` (every answer still gets the same
headers and CSRF cookie), answers

- ``GET /products/P`` (no query),
- ``GET /api/v1/products/P/card`` (no query),
- ``GET /api/v1/search?q=...`` (``q`` alone),

when the user is known without reading the metastore (an open server, a bearer token
verified in the last minute) and the answer is remembered. It uses the routes' own keys
and documents (:func:`pages.product_key`, :func:`api.card_key`, :func:`api.search_key`),
counts the read of the product as the routes do, and sends the same bytes and headers.
Anything else — a session, an unknown token, a query it does not take, a name that is
no product, an answer still to be made, an error — goes on to the application, which
answers it (and makes and remembers it) as before.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from steward.core.errors import StewardError
from steward.server.state import MISSING, ServerState

HTML = b"text/html; charset=utf-8"
JSON = b"application/json"
MAX_Q = 500  # the search route's max_length of q


class Lean:
    """The lean path (see the module's docstring); ``hits`` counts its answers."""

    def __init__(self, app: Any, state: ServerState):
        self.app, self.state = app, state
        self.hits = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            try:
                answer = self.answer(scope)
            except Exception:  # the application answers it, as it would have
                answer = None
            if answer is not None:
                kind, body = answer
                self.hits += 1
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", str(len(body)).encode()),
                                        (b"content-type", kind)]})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)

    def answer(self, scope: Any) -> tuple[bytes, bytes] | None:
        """(content type, body) of a remembered answer, or None."""
        path: str = scope["path"]
        query: bytes = scope["query_string"]
        if path.startswith("/products/"):
            name = path[len("/products/"):]
            if query or not name or "/" in name:
                return None
            return self._page(scope, name)
        if path.startswith("/api/v1/products/") and path.endswith("/card"):
            name = path[len("/api/v1/products/"):-len("/card")]
            if query or not name or "/" in name:
                return None
            return self._card(scope, name)
        if path == "/api/v1/search":
            asked = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            if len(asked) != 1 or asked[0][0] != "q" or len(asked[0][1]) > MAX_Q:
                return None
            return self._search(scope, asked[0][1])
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

    def _page(self, scope: Any, name: str) -> tuple[bytes, bytes] | None:
        from steward.server.pages import product_key, with_csrf

        state = self.state
        who = self._who(scope)
        p = who and self._product(name)
        if p is None:
            return None
        text = state.remembered(product_key(state, who, p.name, state.ctx.env_name(None),
                                            False))
        if text is MISSING:
            return None
        state.count_read(p.name, "web", who.name)
        return HTML, with_csrf(text, who, scope["state"]["csrf"]).encode()

    def _card(self, scope: Any, name: str) -> tuple[bytes, bytes] | None:
        from steward.server.api import card_document, card_key
        from steward.server.shapes import dumps

        state = self.state
        who = self._who(scope)
        p = who and self._product(name)
        if p is None:
            return None
        made = state.remembered(card_key(state, p.name, state.ctx.env_name(None)))
        if made is MISSING:
            return None
        state.count_read(p.name, "api", who.name)
        return JSON, dumps(card_document(p, made)).encode()

    def _search(self, scope: Any, q: str) -> tuple[bytes, bytes] | None:
        from steward.server.api import search_key

        state = self.state
        if self._who(scope) is None:
            return None
        body = state.remembered(search_key(state, q, None, None, None, None, 20,
                                           state.ctx.env_name(None)))
        return None if body is MISSING else (JSON, body)
