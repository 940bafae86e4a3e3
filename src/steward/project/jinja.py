"""Jinja as dbt writes it, rendered with jinja2: ``ref``, ``source``, ``config``,
``var``, a project's own macros and the handful of dbt built-ins a model usually calls.

``steward import dbt`` renders a dbt project with it; a Steward project with a
``macros/`` folder renders its SQL models and custom SQL checks with it
(:mod:`steward.project.macros`). Only those import this module (and jinja2).

What cannot be rendered (a package macro that is not installed, ``run_query``, an
adapter call) raises :class:`RenderError` with the file and line of the template that
failed: the caller lists it and goes on with the rest of the project.
"""

from __future__ import annotations

import os
import re
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2
import jinja2.nodes

from steward.core.sqltext import sql_string

# dbt's block tags that jinja2 does not know, rewritten in place (lines are kept)
_TEST_OPEN = re.compile(r"\{%(-?)\s*test\s+(\w+)\s*\(")
_TEST_CLOSE = re.compile(r"\{%(-?)\s*endtest\s*(-?)%\}")
_DOCS = re.compile(r"\{%-?\s*docs\s+(\w+)\s*-?%\}(.*?)\{%-?\s*enddocs\s*-?%\}", re.S)
_MATERIALIZATION = re.compile(
    r"\{%-?\s*materialization\b.*?\{%-?\s*endmaterialization\s*-?%\}", re.S)


class RenderError(Exception):
    """A template that could not be rendered, at ``file:line``."""

    def __init__(self, file: str, line: int | None, message: str):
        self.file, self.line, self.message = file, line, message
        super().__init__(f"{file}:{line}: {message}" if line else f"{file}: {message}")


class _Return(Exception):  # noqa: N818  (dbt's `{% do return(x) %}`, as control flow)
    def __init__(self, value: Any):
        self.value = value


class _Unsupported(Exception):  # noqa: N818
    pass


class Relation(str):
    """What ``ref()``/``source()``/``this`` render to: the Steward product name."""

    __slots__ = ()

    @property
    def identifier(self) -> str:
        return self.rsplit(".", 1)[-1]

    name = table = identifier

    @property
    def schema(self) -> str:
        return self.split(".", 1)[0] if "." in self else "main"

    @property
    def database(self) -> str:
        return "steward"

    def render(self) -> str:
        return str(self)


def dedent_blocks(text: str) -> str:
    """A macro file with dbt's ``test`` blocks as plain macros (``test_<name>``),
    materializations and docs blocks blanked (their lines kept)."""
    text = _TEST_OPEN.sub(lambda m: "{%" + m.group(1) + " macro test_" + m.group(2) + "(", text)
    text = _TEST_CLOSE.sub(lambda m: "{%" + m.group(1) + " endmacro " + m.group(2) + "%}", text)

    def blank(m: re.Match[str]) -> str:
        return "\n" * m.group(0).count("\n")

    text = _MATERIALIZATION.sub(blank, text)
    return _DOCS.sub(blank, text)


def docs_blocks(text: str) -> dict[str, str]:
    """``{% docs name %}...{% enddocs %}`` blocks of a Markdown or SQL file."""
    return {m.group(1): m.group(2).strip() for m in _DOCS.finditer(text)}


class _Config:
    """``config(...)`` in a model records its arguments; ``config.get`` reads them."""

    def __init__(self, initial: dict[str, Any]):
        self.values = dict(initial)
        self.called: dict[str, Any] = {}

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        if args and isinstance(args[0], dict):
            kwargs = {**args[0], **kwargs}
        self.called.update(kwargs)
        self.values.update(kwargs)
        return ""

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def require(self, key: str) -> Any:
        if key not in self.values:
            raise _Unsupported(f"config '{key}' is required here and not set")
        return self.values[key]


class _Namespace:
    """A package's macros (``dbt_utils.star``) or dbt's own (``dbt.concat``)."""

    def __init__(self, name: str, macros: dict[str, Any]):
        self._name, self._macros = name, macros

    def __getattr__(self, item: str) -> Any:
        if item.startswith("_"):
            raise AttributeError(item)
        try:
            return self._macros[item]
        except KeyError:
            raise _Unsupported(f"macro '{self._name}.{item}' is not available "
                               f"(install the package with `dbt deps`, or compile the "
                               f"project with dbt so target/manifest.json holds its SQL)"
                               ) from None


def _unsupported(name: str) -> Callable[..., Any]:
    def call(*_: Any, **__: Any) -> Any:
        raise _Unsupported(f"'{name}' runs queries while compiling; Steward renders SQL "
                           f"without a warehouse (compile with dbt so target/manifest.json "
                           f"holds the compiled SQL, or rewrite this part)")
    return call


def _builtins() -> dict[str, Callable[..., str]]:
    """dbt's cross-database macros, as DuckDB writes them."""
    return {
        "type_string": lambda: "varchar", "type_int": lambda: "integer",
        "type_bigint": lambda: "bigint", "type_float": lambda: "double",
        "type_numeric": lambda: "decimal(28, 6)", "type_timestamp": lambda: "timestamp",
        "type_boolean": lambda: "boolean",
        "concat": lambda fields: " || ".join(f"({f})" for f in fields),
        "date_trunc": lambda datepart, date: f"date_trunc('{datepart}', {date})",
        "dateadd": lambda datepart, interval, from_date_or_timestamp:
            f"({from_date_or_timestamp} + interval ({interval}) {datepart})",
        "datediff": lambda first_date, second_date, datepart:
            f"date_diff('{datepart}', {first_date}, {second_date})",
        "safe_cast": lambda field, type: f"try_cast({field} as {type})",
        "hash": lambda field: f"md5(cast({field} as varchar))",
        "current_timestamp": lambda: "now()",
        "cast_bool_to_text": lambda field: f"cast({field} as varchar)",
        "any_value": lambda expression: f"any_value({expression})",
        "bool_or": lambda expression: f"bool_or({expression})",
        "listagg": lambda measure, delimiter_text="','", order_by_clause=None, limit_num=None:
            f"string_agg({measure}, {delimiter_text}"
            + (f" {order_by_clause}" if order_by_clause else "") + ")",
        "split_part": lambda string_text, delimiter_text, part_number:
            f"split_part({string_text}, {delimiter_text}, {part_number})",
        "replace": lambda field, old_chars, new_chars:
            f"replace({field}, {old_chars}, {new_chars})",
        "length": lambda expression: f"length({expression})",
        "position": lambda substring_text, string_text:
            f"position({substring_text} in {string_text})",
        "right": lambda string_text, length_expression:
            f"right({string_text}, {length_expression})",
        "string_literal": sql_string,
    }


@dataclass
class Renderer:
    """One jinja2 environment per imported project.

    ``ref_name`` maps a dbt name to its Steward product; ``source_name`` a (source,
    table) pair. ``macro_files`` are the project's (and installed packages') macro
    files as (relative path, text, package or None for the project).
    """

    project_name: str
    vars: dict[str, Any]
    ref_name: Callable[[str], str]
    source_name: Callable[[str, str], str]
    macro_files: list[tuple[str, str, str | None]] = field(default_factory=list)
    docs: dict[str, str] = field(default_factory=dict)
    problems: list[RenderError] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.templates: dict[str, str] = {}
        self.env = jinja2.Environment(
            loader=jinja2.FunctionLoader(self._source),
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.do", "jinja2.ext.loopcontrols"],
            keep_trailing_newline=True,
        )
        builtins = _builtins()
        self.macros: dict[str, Any] = {}
        self.packages: dict[str, dict[str, Any]] = {}
        g = self.env.globals
        g.update(builtins)
        g.update({
            "var": self._var, "env_var": self._env_var, "doc": self._doc,
            "target": {"name": "dev", "schema": "main", "type": "duckdb", "database": "steward",
                       "profile_name": self.project_name, "threads": 1},
            "project_name": self.project_name, "execute": True, "flags": {"FULL_REFRESH": False},
            "log": lambda *_, **__: "", "print": lambda *_, **__: "",
            "return": self._return,
            "exceptions": _Namespace("exceptions", {
                "raise_compiler_error": self._raise, "warn": lambda *_, **__: "",
            }),
            "modules": _Namespace("modules", {"datetime": __import__("datetime"),
                                              "re": re, "itertools": __import__("itertools")}),
            "run_query": _unsupported("run_query"), "statement": _unsupported("statement"),
            "load_result": _unsupported("load_result"),
            "adapter": _Namespace("adapter", {"dispatch": self._dispatch,
                                              "quote": lambda s: f'"{s}"',
                                              "get_columns_in_relation":
                                                  _unsupported("adapter.get_columns_in_relation"),
                                              "get_relation":
                                                  _unsupported("adapter.get_relation")}),
            "dbt": _Namespace("dbt", builtins),
            "zip": zip, "tojson": __import__("json").dumps, "fromjson": __import__("json").loads,
            "toyaml": lambda v, *_: __import__("yaml").safe_dump(v),
            "fromyaml": lambda v: __import__("yaml").safe_load(v),
        })
        for rel, text, package in self.macro_files:
            self._load_macros(rel, text, package)
        for name, ns in self.packages.items():
            g[name] = _Namespace(name, ns)
        g.update(self.macros)  # the project's macros win over dbt's built-ins

    def _source(self, name: str) -> tuple[str, str, Callable[[], bool]] | None:
        text = self.templates.get(name)
        return None if text is None else (text, name, lambda: False)

    # -- macros --
    def _load_macros(self, rel: str, text: str, package: str | None) -> None:
        name = f"{package}/{rel}" if package else rel
        self.templates[name] = dedent_blocks(text)
        try:
            module = self.env.get_template(name).make_module()
        except jinja2.TemplateSyntaxError as e:
            self.problems.append(RenderError(rel, e.lineno, f"macro file: {e.message}"))
            return
        except Exception as e:  # top-level code in a macro file that cannot run here
            self.problems.append(self._error(e, rel))
            return
        target = self.packages.setdefault(package, {}) if package else self.macros
        for attr in dir(module):
            value = getattr(module, attr)
            if isinstance(value, jinja2.runtime.Macro):
                target[attr] = _returning(value)

    def _dispatch(self, macro_name: str, macro_namespace: str | None = None) -> Any:
        for prefix in ("duckdb__", "default__", ""):
            for space in ([self.macros, self.packages.get(macro_namespace or "", {})]):
                if f"{prefix}{macro_name}" in space:
                    return space[f"{prefix}{macro_name}"]
        builtin = _builtins().get(macro_name)
        if builtin is not None:
            return builtin
        raise _Unsupported(f"adapter.dispatch: no macro '{macro_name}'"
                           + (f" in '{macro_namespace}'" if macro_namespace else ""))

    # -- globals --
    def _var(self, name: str, default: Any = None) -> Any:
        if name in self.vars:
            return self.vars[name]
        if default is None:
            raise _Unsupported(f"var('{name}') has no value and no default")
        return default

    @staticmethod
    def _env_var(name: str, default: Any = None) -> Any:
        if name in os.environ:
            return os.environ[name]
        if default is None:
            raise _Unsupported(f"env_var('{name}') is not set and has no default")
        return default

    def _doc(self, name: str, *more: str) -> str:
        name = more[0] if more else name
        if name not in self.docs:
            raise _Unsupported(f"doc('{name}'): no docs block of that name")
        return self.docs[name]

    @staticmethod
    def _return(value: Any) -> Any:
        raise _Return(value)

    @staticmethod
    def _raise(message: str, *_: Any) -> Any:
        raise _Unsupported(f"raise_compiler_error: {message}")

    # -- rendering --
    def render(self, rel: str, text: str, *, config: dict[str, Any] | None = None,
               this: str | None = None, extra: dict[str, Any] | None = None,
               incremental: bool = False) -> tuple[str, dict[str, Any], list[str]]:
        """``text`` (the file ``rel``) rendered: (SQL, config() arguments, refs used)."""
        cfg = _Config(config or {})
        refs: list[str] = []

        def ref(*args: str, **_: Any) -> Relation:
            name = self.ref_name(args[-1])
            refs.append(name)
            return Relation(name)

        def source(src: str, table: str) -> Relation:
            name = self.source_name(src, table)
            refs.append(name)
            return Relation(name)

        ctx = {"ref": ref, "source": source, "config": cfg,
               "is_incremental": lambda: incremental,
               "this": Relation(this or ""), "model": {"name": (this or "").split(".")[-1]},
               "should_full_refresh": lambda: True, **(extra or {})}
        # macros read these as globals (a macro calling ref() sees this model's ref)
        saved = {k: self.env.globals.get(k) for k in ctx}
        self.env.globals.update(ctx)
        self.templates[rel] = text
        try:
            template = self.env.get_template(rel)
            out = template.render()
        except jinja2.TemplateSyntaxError as e:
            raise RenderError(e.filename or rel, e.lineno, e.message or str(e)) from None
        except Exception as e:
            raise self._error(e, rel) from None
        finally:
            self.templates.pop(rel, None)
            for k, v in saved.items():
                if v is None:
                    self.env.globals.pop(k, None)
                else:
                    self.env.globals[k] = v
        return out, cfg.called, refs

    def evaluate(self, expression: str, rel: str) -> Any:
        """A ``{{ expression }}`` string (a test argument) as its Python value."""
        inner = expression.strip()[2:-2]
        try:
            return self.env.compile_expression(inner, undefined_to_none=False)()
        except Exception as e:
            raise RenderError(rel, None, f"cannot evaluate {expression!r}: {e}") from None

    def render_string(self, text: str, rel: str) -> str:
        try:
            return self.env.from_string(text).render()
        except Exception as e:
            raise RenderError(rel, None, f"cannot render {text!r}: {e}") from None

    def call_test(self, name: str, rel: str, package: str | None = None, **kwargs: Any) -> str:
        """A generic test macro (``test_<name>``) called as dbt calls it."""
        space = self.packages.get(package, {}) if package else self.macros
        macro = space.get(f"test_{name}")
        if macro is None:
            raise RenderError(rel, None, f"no generic test '{name}'")
        try:
            return str(macro(**kwargs))
        except Exception as e:
            raise self._error(e, rel) from None

    def has_test(self, name: str, package: str | None = None) -> bool:
        space = self.packages.get(package, {}) if package else self.macros
        return f"test_{name}" in space

    def _error(self, e: BaseException, rel: str) -> RenderError:
        """The innermost template frame of ``e``'s traceback: the file and line to show."""
        if isinstance(e, RenderError) and e.line:
            return e
        where, line = rel, None
        for frame in traceback.extract_tb(e.__traceback__):
            if frame.filename in self.templates or frame.filename == rel:
                where, line = frame.filename, frame.lineno
        if isinstance(e, RenderError):
            message = e.message
        elif isinstance(e, jinja2.UndefinedError | _Unsupported):
            message = str(e)
        else:
            message = f"{type(e).__name__}: {e}"
        if "/" in where and where.split("/", 1)[0] in self.packages:
            where = where.split("/", 1)[1]
        return RenderError(where, line, message)


def _returning(macro: Any) -> Callable[..., Any]:
    """A macro whose ``{% do return(x) %}`` gives ``x``, as in dbt."""

    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return macro(*args, **kwargs)
        except _Return as r:
            return r.value

    call.__name__ = macro.name
    return call
