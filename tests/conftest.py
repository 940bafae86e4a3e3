"""Shared fixtures: small real projects in temporary folders."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from steward.cli.scaffold import scaffold

BIN = Path(sys.executable).parent


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    """The project `steward init` makes: raw.orders -> staging.orders -> marts.daily_revenue."""
    root = tmp_path / "proj"
    scaffold(root, "starter")
    return root


@pytest.fixture
def steward_cmd() -> list[str]:
    exe = BIN / "steward"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "steward.cli.main"]


@pytest.fixture(autouse=True)
def _actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_ACTOR", "tester")
    monkeypatch.setenv("COLUMNS", "200")
    os.environ.pop("NO_COLOR", None)
