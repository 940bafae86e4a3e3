"""Database URLs as messages show them."""

from __future__ import annotations


def shown_url(url: str) -> str:
    """``url`` as messages show it: without its password, quoted when it is not a URL."""
    if "://" not in url:
        return repr(url)
    start = url.index("://") + 3
    head, at, tail = url.rpartition("@")  # (a password may hold an '@')
    colon = head.find(":", start)
    if not at or colon < 0:
        return url
    return f"{head[:colon]}:***@{tail}"
