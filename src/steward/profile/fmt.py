"""Formatting profile values for people: numbers, times, sparklines (pure functions)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

SPARKS = "▁▂▃▄▅▆▇█"


def num(v: Any, digits: int = 4) -> str:
    """A compact number: thousands separators for integers, ``digits`` significant digits."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return str(v).lower()
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        if not math.isfinite(v):
            return str(v)
        if v == int(v) and abs(v) < 1e15:
            return f"{int(v):,}"
        return f"{v:.{digits}g}"
    return str(v)


def when(epoch_s: float | None, sql_type: str = "") -> str:
    """An epoch-seconds statistic of a temporal column, as a date or ISO timestamp."""
    if epoch_s is None:
        return ""
    try:
        d = datetime.fromtimestamp(epoch_s, UTC)
    except (OverflowError, OSError, ValueError):
        return num(epoch_s)
    t = sql_type.upper()
    if t == "DATE":
        return d.strftime("%Y-%m-%d")
    if t == "TIME":
        return d.strftime("%H:%M:%S")
    return d.strftime("%Y-%m-%d %H:%M:%S") + ("Z" if "TIME ZONE" in t or "TZ" in t else "")


def stat(col: dict[str, Any], key: str) -> str:
    """A column statistic, formatted for its kind (dates for temporal columns)."""
    v = col.get(key)
    if key == "std" and col.get("kind") == "temporal" and v is not None:
        return num(v / 86400) + " d" if v >= 86400 else num(v) + " s"
    if col.get("kind") == "temporal" and isinstance(v, int | float):
        return when(v, col.get("type", ""))
    if isinstance(v, str) and len(v) > 24:
        return v[:23] + "…"
    return num(v)


def sparkline(counts: list[int], width: int = 16) -> str:
    """Histogram counts squeezed into ``width`` block characters."""
    if not counts:
        return ""
    if len(counts) > width:
        step = len(counts) / width
        counts = [sum(counts[int(i * step):int((i + 1) * step)]) for i in range(width)]
    top = max(counts) or 1
    return "".join(" " if c == 0 else SPARKS[min(int(c / top * (len(SPARKS) - 1) + 0.5),
                                                 len(SPARKS) - 1)] for c in counts)


def size(n: int | None) -> str:
    if n is None:
        return ""
    f = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if f < 1024 or unit == "TB":
            return f"{f:.0f} {unit}" if unit == "B" else f"{f:.1f} {unit}"
        f /= 1024
    return str(n)


def trend(values: list[float | None], width: int = 16) -> str:
    """The last ``width`` values of a series as block characters scaled min..max."""
    vs = [v for v in values[-width:]]
    finite = [v for v in vs if v is not None and math.isfinite(v)]
    if not finite:
        return ""
    lo, hi = min(finite), max(finite)
    span = hi - lo
    out = []
    for v in vs:
        if v is None or not math.isfinite(v):
            out.append(" ")
        else:
            i = int((v - lo) / span * (len(SPARKS) - 1) + 0.5) if span > 0 else 3
            out.append(SPARKS[i])
    return "".join(out)
