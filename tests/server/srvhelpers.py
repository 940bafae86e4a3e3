"""The shop project the server tests use, its users, and ways to talk to its server."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from steward.cli.scaffold import scaffold
from steward.context import Context
from steward.server.serve import make_app
from steward.server.state import ServerState, Settings

PASSWORD = "correct horse battery"
XSS = "<script>window.pwned = 1</script>"
# who: (role, domains, owners, pii)
USERS = {
    "ada": ("admin", (), (), True),
    "dev": ("developer", (), (), False),
    "olivia": ("owner", ("staging",), (), False),   # holds the staging domain
    "mark": ("owner", (), ("finance@example.com",), False),  # holds finance's products
    "vic": ("viewer", (), (), False),
    "pat": ("viewer", (), (), True),
}


@dataclass
class Shop:
    root: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}


def make_shop(root: Path, users: bool = True) -> Shop:
    """The starter project with a failing warn check on a personal column (customer), a
    description that is a script, and a dev environment; built into prod and dev."""
    scaffold(root, "shop")
    sidecar = root / "models" / "staging" / "orders.yml"
    sidecar.write_text(sidecar.read_text().replace(
        "customer: {description: Customer name, classification: pii}",
        "customer: {description: Customer name, classification: pii, checks: "
        "[{accepted_values: {values: [Ada, Grace], severity: warn}}]}"))
    mart = root / "models" / "marts" / "daily_revenue.yml"
    mart.write_text(mart.read_text().replace(
        "description: Revenue and order count per day.",
        f"description: 'Revenue per day {XSS}'"))
    ctx = Context(root)
    assert ctx.run().ok
    assert ctx.run(env="dev").ok
    shop = Shop(root)
    if users:
        accounts = ctx.accounts()
        for name, (role, domains, owners, pii) in USERS.items():
            accounts.add(name, role, PASSWORD, domains, owners, pii)
            shop.tokens[name] = accounts.new_token(name, "tests")
    return shop


def client_of(root: Path) -> tuple[Any, ServerState]:
    from fastapi.testclient import TestClient

    app, state = make_app(str(root), Settings(watch=False))
    return TestClient(app, base_url="http://127.0.0.1"), state


def login(client: Any, user: str) -> str:
    """Sign ``user`` in on ``client``; returns the session's CSRF token."""
    page = client.get("/login")
    csrf = _field(page.text, "csrf")
    r = client.post("/login", data={"name": user, "password": PASSWORD, "csrf": csrf,
                                    "next": "/"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    home = client.get("/")
    assert home.status_code == 200
    return _field(home.text, "csrf")


def _field(html: str, name: str) -> str:
    import re

    m = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert m, f"no {name} field in the page"
    return m.group(1)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn on a loopback port in a thread: what a browser talks to."""

    def __init__(self, root: Path):
        import uvicorn

        self.port = free_port()
        app, self.state = make_app(str(root), Settings("127.0.0.1", self.port, watch=False))
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", access_log=False))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.state.stop()
