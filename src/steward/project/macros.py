"""Jinja macros of a project's ``macros/`` folder, for SQL models and custom SQL checks.

A project without a ``macros/`` folder stays plain SQL: nothing here imports jinja2
until a model (or a check's query) holds a Jinja tag *and* the project has macro files.
Models are rendered before their references are parsed, so dependencies come from the
rendered SQL; the product's code is that SQL. A mistake in a macro is reported at the
macro file's line, a mistake in the model's template at the model's.

A macro file edit reloads every SQL model (its key is part of each model's memo key,
and the ``macros/`` folder is part of the project cache's and the no-op fast path's
key); only the models whose rendered SQL changed are rebuilt.
"""

from __future__ import annotations

import os
from typing import Any

from steward.core.errors import Problem
from steward.project.files import Listing, read_text, stat_key

MACROS_DIR = "macros"
_MARKERS = ("{{", "{%", "{#")
# what `{{ this }}` renders to in a check's query: kept for the check compiler
_THIS = "{{ this }}"


def uses_jinja(text: str) -> bool:
    return any(m in text for m in _MARKERS)


def macro_paths(root: str, listing: Listing | None = None) -> list[str]:
    """The ``.sql`` files under ``root/macros``, sorted."""
    return (listing or Listing()).files_under(os.path.join(root, MACROS_DIR), (".sql",))


def macros_key(root: str, paths: list[str]) -> tuple[Any, ...] | None:
    """What a rendered model depends on besides its own files: the macro files' and
    steward.yaml's stat data (``vars``). None when there are no macro files."""
    if not paths:
        return None
    out: list[Any] = ["macros"]
    for p in [*paths, os.path.join(root, "steward.yaml")]:
        try:
            out.append((p[len(root) + 1:], *stat_key(os.stat(p))))
        except OSError:
            out.append((p, None))
    return tuple(out)


class Macros:
    """The project's macros, loaded into one jinja2 environment on first use."""

    def __init__(self, root: str, paths: list[str], variables: dict[str, Any],
                 project_name: str = "steward"):
        self.root, self.paths = root, paths
        self.variables, self.project_name = variables, project_name
        self.problems: list[Problem] = []  # the macro files' own mistakes, reported once
        self._renderer: Any = None

    def _rel(self, path: str) -> str:
        return os.path.relpath(path, self.root)

    def renderer(self) -> Any:
        if self._renderer is not None:
            return self._renderer
        try:
            from steward.project.jinja import Renderer
        except ImportError as e:  # jinja2 missing
            self.problems.append(Problem(
                MACROS_DIR, None, f"the project's macros need jinja2 ({e})",
                "install it with: pip install 'datasteward[jinja]'"))
            self._renderer = False
            return False
        files: list[tuple[str, str, str | None]] = []
        for p in self.paths:
            text, problem = read_text(p, self._rel(p))
            if problem is not None:
                self.problems.append(problem)
            elif text is not None:
                files.append((self._rel(p), text, None))
        r = Renderer(self.project_name, dict(self.variables), ref_name=lambda n: n,
                     source_name=lambda s, t: f"{s}.{t}", macro_files=files)
        for err in r.problems:
            self.problems.append(Problem(err.file, err.line, f"macro: {err.message}",
                                         "fix the macro; every model using it waits on it"))
        self._renderer = r
        return r

    def render(self, rel: str, text: str, this: str | None = None
               ) -> tuple[str | None, Problem | None]:
        """``text`` (the file ``rel``) rendered, or the problem that stopped it."""
        r = self.renderer()
        if not r:
            return None, None  # (reported once, in self.problems)
        from steward.project.jinja import RenderError

        try:
            sql, _, _ = r.render(rel, text, this=this)
        except RenderError as e:
            where = "" if e.file == rel else f" (rendering {rel})"
            return None, Problem(e.file, e.line, f"{e.message}{where}",
                                 "fix the template or the macro it calls")
        return sql, None

    def render_checks(self, meta: dict[str, Any], file: str, line_of: Any
                      ) -> tuple[dict[str, Any], list[Problem]]:
        """``meta`` (as declared) with its custom SQL checks' queries rendered
        (``{{ this }}`` kept for the check)."""
        problems: list[Problem] = []

        def render(q: Any, where: tuple[Any, ...]) -> Any:
            if not isinstance(q, str) or not uses_jinja(
                    q.replace(_THIS, "").replace("{{this}}", "")):
                return q
            sql, problem = self.render(file, q, this=_THIS)
            if problem is None:
                return sql
            if problem.file == file:
                problem = Problem(file, line_of(where), problem.message, problem.hint)
            problems.append(problem)
            return q

        def fix(checks: Any, prefix: tuple[Any, ...]) -> Any:
            if not isinstance(checks, list):
                return checks
            out = []
            for i, c in enumerate(checks):
                where = (*prefix, i)
                if isinstance(c, dict) and isinstance(c.get("sql"), str):  # - sql: QUERY
                    c = {**c, "sql": render(c["sql"], (*where, "sql"))}
                elif isinstance(c, dict) and isinstance(c.get("sql"), dict):  # - sql: {query}
                    c = {**c, "sql": {**c["sql"], "query": render(
                        c["sql"].get("query"), (*where, "sql", "query"))}}
                elif isinstance(c, dict) and c.get("type") == "sql":
                    c = {**c, "query": render(c.get("query"), (*where, "query"))}
                out.append(c)
            return out

        out = dict(meta)
        if "checks" in out:
            out["checks"] = fix(out["checks"], ("checks",))
        cols = out.get("columns")
        if isinstance(cols, dict):
            out["columns"] = {
                k: ({**v, "checks": fix(v["checks"], ("columns", k, "checks"))}
                    if isinstance(v, dict) and "checks" in v else v)
                for k, v in cols.items()}
        return out, problems
