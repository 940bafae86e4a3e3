"""Identifiers that sort by time and read well in a terminal."""

from __future__ import annotations

import os
from datetime import UTC, datetime

# a product name: 'name' or 'domain.name'
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"


def new_id(prefix: str = "") -> str:
    """``20261127T013512.481-a1b2c3``: sortable, unique across processes."""
    now = datetime.now(UTC)
    return f"{prefix}{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}-{os.urandom(3).hex()}"


def actor() -> str:
    """Who acts: ``$STEWARD_ACTOR`` (set it in CI), else the operating-system user."""
    import getpass

    return os.environ.get("STEWARD_ACTOR") or getpass.getuser()
