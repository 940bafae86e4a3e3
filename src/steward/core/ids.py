"""Identifiers that sort by time and read well in a terminal."""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime

# a product name: 'name' or 'domain.name'
NAME_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$"


# Random bits for identifiers, from a generator seeded once per process by the OS (and
# again in a forked child): os.urandom per identifier is a system call, and each one lets
# another thread take the interpreter during a run's builds.
_rng = random.Random(os.urandom(32))
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _rng.seed(os.urandom(32)))


def random_hex(digits: int) -> str:
    """``digits`` random hexadecimal digits (unique names of scratch folders and files)."""
    return f"{_rng.getrandbits(4 * digits):0{digits}x}"


def new_id(prefix: str = "") -> str:
    """``20261127T013512.481-a1b2c3``: sortable, unique across processes."""
    now = datetime.now(UTC)
    return f"{prefix}{now:%Y%m%dT%H%M%S}.{now.microsecond // 1000:03d}-{random_hex(6)}"


# the signed-in user a server thread acts for (see acting_as); None outside the server
_ACTING: ContextVar[str | None] = ContextVar("steward_acting_user", default=None)


def actor() -> str:
    """Who acts: the signed-in user of a ``steward serve`` request, else ``$STEWARD_ACTOR``
    (set it in CI), else the operating-system user."""
    acting = _ACTING.get()
    if acting:
        return acting
    import getpass

    return os.environ.get("STEWARD_ACTOR") or getpass.getuser()


@contextmanager
def acting_as(name: str) -> Iterator[None]:
    """Inside the block (in this thread or task), :func:`actor` is ``name``."""
    token = _ACTING.set(name)
    try:
        yield
    finally:
        _ACTING.reset(token)


# an environment name: lower case letters, digits, '-' and '_' ('prod', 'dev', 'pr-42')
ENV_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,62}$"


def check_env_name(name: str) -> str:
    """``name`` if it is a valid environment name; else a clear error (exit code 2)."""
    import re

    from steward.core.errors import SelectionError

    if not isinstance(name, str) or re.match(ENV_PATTERN, name) is None \
            or name.endswith("\n"):
        hint = ""
        if isinstance(name, str) and re.match(ENV_PATTERN, name.strip().lower() or "-"):
            hint = f"; did you mean '{name.strip().lower()}'?"
        raise SelectionError(
            f"invalid environment name {name!r}: use lower case letters, digits, '-' and "
            f"'_' (up to 63, starting with a letter or digit), like prod, dev or pr-42{hint}")
    return name
