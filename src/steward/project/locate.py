"""The line a key is declared on, for a problem found after the project loaded.

An engine setting DuckDB refuses, or a metastore URL that cannot be opened, is found when
the engine or the metastore starts; the loaded project no longer holds lines. The file is
read again then, on that error path only.
"""

from __future__ import annotations

import os
from typing import Any

from steward.project.files import read_text
from steward.project.paths import PROJECT_FILE
from steward.project.yamlload import load_yaml


def declared_line(root: str, loc: tuple[Any, ...], file: str = PROJECT_FILE) -> int | None:
    """The line of ``loc`` (``("engine", "memory_limit")``) in ``file``, or of the deepest
    part of it declared there; None when the file cannot be read or parsed."""
    text, _ = read_text(os.path.join(root, file), file)
    if text is None:
        return None
    doc = load_yaml(text, file)
    return None if doc.problems else doc.line(loc)
