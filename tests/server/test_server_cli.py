"""``steward serve`` as a process: ready, answering, refusing a public bind without users."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from srvhelpers import free_port, make_shop

from tests.conftest import BIN, steward


def test_serve_answers_on_loopback_and_reloads_an_edited_project(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "shop")
    port = free_port()
    exe = BIN / "steward"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "steward.cli.entry"]
    proc = subprocess.Popen([*cmd, "serve", "--port", str(port)], cwd=shop.root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/api/v1/products/staging.orders/card"
        request = urllib.request.Request(url, headers=shop.auth("vic"))
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(request, timeout=5) as r:
                    card = json.loads(r.read())
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()
                assert time.monotonic() < deadline, "steward serve did not answer"
                time.sleep(0.1)
        assert card["name"] == "staging.orders" and card["owner"] == "data-team@example.com"
        # an edited description shows without a restart
        sidecar = shop.root / "models" / "staging" / "orders.yml"
        sidecar.write_text(sidecar.read_text().replace(
            "Orders with positive amounts, dated.", "Orders, edited while served."))
        deadline = time.monotonic() + 30
        while card["description"] != "Orders, edited while served.":
            assert time.monotonic() < deadline, card["description"]
            time.sleep(0.3)
            with urllib.request.urlopen(request, timeout=5) as r:
                card = json.loads(r.read())
        # without a token: 401, one message
        try:
            urllib.request.urlopen(url, timeout=5)
            raise AssertionError("answered without a token")
        except urllib.error.HTTPError as e:
            assert e.code == 401 and json.loads(e.read())["kind"] == "Unauthenticated"
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=20)
    assert f"serving shop at http://127.0.0.1:{port}/ for signed-in users" in out
    assert "Traceback" not in err


def test_serve_refuses_a_public_address_without_users(tmp_path: Path) -> None:
    shop = make_shop(tmp_path / "open", users=False)
    code, out, err = steward(shop.root, "serve", "--host", "0.0.0.0", "--port",
                             str(free_port()))
    assert code == 2
    assert "error: refusing to listen on 0.0.0.0: no user exists" in err
    assert "Traceback" not in err
