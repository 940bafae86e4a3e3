"""``steward serve``: start the web app and API on one project."""

from __future__ import annotations

import sys
import time
from typing import Any

from steward.core.errors import StewardError
from steward.server.state import ServerState, Settings, is_loopback


class BindRefused(StewardError):
    exit_code = 2


def make_app(root: str | None, settings: Settings) -> tuple[Any, ServerState]:
    """The application and its state; refuses a public bind without users."""
    from steward.server.app import create_app

    state = ServerState(root or ".", settings)
    if not is_loopback(settings.host) and state.ctx.accounts().count() == 0:
        state.stop()
        raise BindRefused(
            f"refusing to listen on {settings.host}: no user exists, so anyone who reaches "
            "the server would act as you. Add one first ('steward users add alice --role "
            "admin'), or serve on 127.0.0.1 (the default)")
    app = create_app(state)
    state.start()
    return app, state


def serve(root: str | None, host: str, port: int, secure_cookies: bool = False,
          announce: Any = print) -> None:
    import uvicorn

    started = time.perf_counter()
    app, state = make_app(root, Settings(host, port, secure_cookies=secure_cookies,
                                                operate=True))
    who = "signed-in users" if not state.open_mode() else \
        "you (no users yet: 'steward users add' to require sign-in)"
    shown = f"[{host}]" if ":" in host else host
    announce(f"serving {state.ctx.project.name} at http://{shown}:{port}/ for {who} "
             f"(API: /api/v1, OpenAPI: /api/v1/openapi.json; loaded in "
             f"{time.perf_counter() - started:.2f}s)")
    # a request answered from memory waits for the interpreter while a worker thread
    # makes a page: let it have its turn within a millisecond, not five
    sys.setswitchinterval(0.001)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                            access_log=False, timeout_graceful_shutdown=3)
    try:
        uvicorn.Server(config).run()
    finally:
        state.stop()
