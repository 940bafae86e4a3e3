"""Text helpers for the command modules, light to import (Rich loads on first use)."""

from __future__ import annotations


def escape(text: str) -> str:
    """``text`` with Rich markup escaped, so names and messages print as they are."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)
