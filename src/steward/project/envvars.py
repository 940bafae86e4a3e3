"""``${VAR}`` and ``${VAR:-default}`` in ``steward.yaml`` and ``sources/*.yml``.

URLs and credentials stay out of git: a value names an environment variable and Steward
reads it when it loads the project. ``$${`` writes a literal ``${``. A variable that is
not set (and has no default) is a problem at its file and line.

A database source's ``connection`` is checked the same way but kept as written: it is
expanded only when Steward connects, so a password never reaches the metastore, the
caches or a fingerprint (rotating it rebuilds nothing).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from typing import Any

from steward.core.errors import ConfigError, Problem
from steward.project.yamlload import Located

_REF = re.compile(r"\$(\$?)\{([^}]*)(\}?)")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

Path_ = tuple[Any, ...]


def kept_as_written(path: Path_) -> bool:
    """Values expanded only when used: a source's ``connection``."""
    return len(path) == 3 and path[0] == "sources" and path[2] == "connection"


def expand_text(text: str, environ: Mapping[str, str] | None = None,
                used: dict[str, str | None] | None = None) -> tuple[str, list[str]]:
    """``text`` with its references replaced, and what is wrong with them (messages)."""
    env = os.environ if environ is None else environ
    errors: list[str] = []

    def one(m: re.Match[str]) -> str:
        escaped, inner, closed = m.group(1), m.group(2), m.group(3)
        if escaped:
            return "${" + inner + closed
        if not closed:
            errors.append(f"'${{{inner}' is not closed: write ${{NAME}} or ${{NAME:-default}}")
            return m.group(0)
        name, sep, default = inner.partition(":-")
        if not _NAME.match(name):
            errors.append(f"'${{{inner}}}' does not name an environment variable "
                          "(letters, digits and _, not starting with a digit)")
            return m.group(0)
        value = env.get(name)
        if used is not None:
            used[name] = value
        if value is None or (sep and value == ""):
            if sep:
                return default
            errors.append(f"the environment variable {name} is not set (${{{name}}})")
            return m.group(0)
        return value

    out = _REF.sub(one, text) if "${" in text else text
    return out, errors


def expand_document(doc: Located, used: dict[str, str | None],
                    keep: Callable[[Path_], bool] = kept_as_written) -> Located:
    """``doc`` with every string value expanded (problems recorded on the copy)."""
    problems: list[Problem] = []

    def walk(value: Any, path: Path_) -> Any:
        if isinstance(value, str):
            if "${" not in value:
                return value
            out, errors = expand_text(value, used=used)
            for err in errors:
                problems.append(Problem(
                    doc.file, doc.line(path), err,
                    "set it in the environment, or give a default: ${NAME:-value}"
                    if "is not set" in err else "write $${ for a literal ${"))
            return value if keep(path) else out
        if isinstance(value, dict):
            return {k: walk(v, (*path, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, (*path, i)) for i, v in enumerate(value)]
        return value

    data = walk(doc.data, ())
    if not problems and data == doc.data:
        return doc
    return Located(doc.file, data, doc.lines, [*doc.problems, *problems])


def resolve(value: str, what: str) -> str:
    """A value kept as written (a source's connection), expanded now; a variable unset
    since the project was loaded is a :class:`ConfigError`."""
    out, errors = expand_text(value)
    if errors:
        raise ConfigError([Problem(what, None, errors[0],
                                   "set it in the environment, or give a default")])
    return out
