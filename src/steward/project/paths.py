"""Where a project is and which folders it reads: light enough for the no-op fast path.

Nothing here imports pydantic or the spec models: ``steward run`` on an unchanged
project answers from these and the standard library alone (see
:mod:`steward.run.noop`).
"""

from __future__ import annotations

import os
from pathlib import Path

from steward.core.errors import ConfigError, Problem

PROJECT_FILE = "steward.yaml"
STATE_DIR = ".steward"


def find_root(start: str | os.PathLike[str] = ".") -> str:
    """The nearest folder at or above ``start`` holding a ``steward.yaml``."""
    here = Path(start).resolve()
    for d in (here, *here.parents):
        if (d / PROJECT_FILE).is_file():
            return str(d)
    raise ConfigError(Problem(
        str(here), None, f"no {PROJECT_FILE} here or in any parent folder",
        "run 'steward init' to create a project, or pass --project PATH",
    ))


def project_folders(root: str) -> list[str] | None:
    """The folders the loader walks, read cheaply from steward.yaml's ``paths``, and
    ``macros`` (whose files the SQL models may render with)."""
    try:
        with open(os.path.join(root, PROJECT_FILE), encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):  # the loader reports it in place
        return None
    if "paths:" not in text:
        return ["models", "sources", "macros"]
    import yaml

    try:
        data = yaml.safe_load(text) or {}
        paths = data.get("paths") or {}
        return [str(paths.get("models", "models")), str(paths.get("sources", "sources")),
                "macros"]
    except (yaml.YAMLError, AttributeError):
        return None


def declared_folders(data: object) -> tuple[str, str]:
    """(models, sources) folders from a parsed steward.yaml, the defaults where it does not
    say or says something that is not a folder name: so a broken steward.yaml does not
    hide the mistakes in the models and sources."""
    paths = data.get("paths") if isinstance(data, dict) else None
    if not isinstance(paths, dict):
        paths = {}
    models, sources = paths.get("models", "models"), paths.get("sources", "sources")
    return (models if isinstance(models, str) else "models",
            sources if isinstance(sources, str) else "sources")
