"""Fixtures for quality tests (helpers live in qhelpers.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from qhelpers import write


@pytest.fixture
def project(tmp_path: Path):
    """Returns a function writing a project and giving back its root."""

    def make(files: dict[str, str]) -> Path:
        write(tmp_path, files)
        return tmp_path

    return make
