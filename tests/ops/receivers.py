"""Real receivers on 127.0.0.1 for the alert tests and benchmarks: an HTTP server that
records what it was sent and answers with the status (or the delay) asked for, and an
SMTP server (aiosmtpd) that keeps the mail or refuses it."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, status: int = 200, delay: float = 0.0):
        self.status, self.delay = status, delay
        self.received: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.times: list[float] = []  # time.time() of each arrival
        me = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if me.delay:
                    threading.Event().wait(me.delay)
                me.times.append(time.time())
                me.paths.append(self.path)
                me.received.append(json.loads(body))
                self.send_response(me.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Inbox:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 keeping what it receives; ``refuse``
    answers every recipient with a 550."""

    def __init__(self, refuse: bool = False):
        from aiosmtpd.controller import Controller

        self.messages: list[Any] = []
        self.times: list[float] = []
        inbox = self

        class Handler:
            async def handle_RCPT(self, server: Any, session: Any, envelope: Any,  # noqa: N802
                                  address: str, options: Any) -> str:
                if refuse:
                    return "550 no such user here"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
                from email import message_from_bytes

                inbox.times.append(time.time())
                inbox.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
                return "250 Message accepted"

        import socket

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=port)
        self.controller.start()
        self.url = f"smtp://127.0.0.1:{port}"

    def close(self) -> None:
        self.controller.stop()
