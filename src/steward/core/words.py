"""Counts in sentences: ``1 row``, ``2 rows``, never ``1 rows`` or ``row(s)``."""

from __future__ import annotations


def counted(n: int, word: str, plural: str | None = None) -> str:
    """``n`` (with thousands separators) and ``word``, in the plural unless ``n`` is 1.

    The plural is ``word + "s"`` unless given (``counted(n, "entry", "entries")``).
    """
    return f"{n:,} {word if n == 1 else (plural or word + 's')}"


def verb(n: int, singular: str, plural: str) -> str:
    """The verb agreeing with a count of ``n``: ``verb(1, "fails", "fail")``."""
    return singular if n == 1 else plural
