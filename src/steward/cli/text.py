"""Text helpers for the command modules, light to import (Rich loads on first use)."""

from __future__ import annotations

import json
import sys
from typing import Any


def escape(text: str) -> str:
    """``text`` with Rich markup escaped, so names and messages print as they are."""
    from rich.markup import escape as rich_escape

    return rich_escape(text)


def out_console() -> Any:
    """A Rich console for a command's output."""
    import os

    from rich.console import Console

    # in a pipe or a log, tables get room instead of the 80 columns of a dumb terminal
    width = None if sys.stdout.isatty() else int(os.environ.get("COLUMNS") or 160)
    return Console(highlight=False, soft_wrap=True, width=width)


def _json_default(value: Any) -> Any:
    from decimal import Decimal

    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def dump_json(obj: Any) -> None:
    """``--json`` output: indented JSON on stdout."""
    sys.stdout.write(json.dumps(obj, default=_json_default, indent=2) + "\n")
