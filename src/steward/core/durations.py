"""Durations as a project writes them: ``"90m"``, ``"6h"``, ``"2d"``. Plain Python."""

from __future__ import annotations

import re

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str | int | float) -> float:
    """``"90m"`` -> 5400.0 seconds. Numbers are taken as seconds."""
    if isinstance(text, int | float):
        return float(text)
    m = _DURATION.match(text)
    if not m:
        raise ValueError(f"{text!r} is not a duration; write e.g. '30m', '6h', '2d'")
    return float(m.group(1)) * _UNIT[m.group(2)]
