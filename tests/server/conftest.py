"""Fixtures of the server tests: the shop, built once or fresh, and clients of it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from srvhelpers import Shop, client_of, make_shop


@pytest.fixture(scope="session")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Shop:
    """Read-only tests share this one (writes use ``fresh_shop``)."""
    os.environ.setdefault("STEWARD_ACTOR", "tester")
    return make_shop(tmp_path_factory.mktemp("shop") / "shop")


@pytest.fixture
def fresh_shop(tmp_path: Path) -> Shop:
    return make_shop(tmp_path / "shop")


@pytest.fixture(scope="session")
def client(shop: Shop) -> Iterator[Any]:
    c, state = client_of(shop.root)
    yield c
    state.stop()


@pytest.fixture
def fresh_client(fresh_shop: Shop) -> Iterator[tuple[Any, Shop]]:
    c, state = client_of(fresh_shop.root)
    yield c, fresh_shop
    state.stop()
