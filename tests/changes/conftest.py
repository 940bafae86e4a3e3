"""Fixtures for change-management tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.context import Context


@pytest.fixture
def built(starter: Path) -> Path:
    """The starter project, built into prod once."""
    assert Context(starter).run().ok
    return starter
