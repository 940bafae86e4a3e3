"""Numbered metastore migrations, ``mNNNN_name.py``, each with ``upgrade(conn)``.

Applied in order, each in its own transaction; the ``steward_schema`` table records
which have run. A migration is never edited once released: add the next number.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType


def all_migrations() -> list[tuple[int, ModuleType]]:
    out = []
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("m") and info.name[1:5].isdigit():
            out.append((int(info.name[1:5]), importlib.import_module(f"{__name__}.{info.name}")))
    return sorted(out, key=lambda t: t[0])
