"""Turn pydantic's validation errors into located, readable problems."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any, TypeVar

from steward.core.checkforms import CHECK_TYPES, normalise_check
from steward.core.errors import Problem
from steward.project.yamlload import Located

if TYPE_CHECKING:  # pydantic loads only when something is validated
    from pydantic import BaseModel

M = TypeVar("M", bound="BaseModel")

_KNOWN_KEYS: set[str] = set()


def _known_keys() -> set[str]:
    if not _KNOWN_KEYS:
        from pydantic import BaseModel

        from steward.core import checks, mlspec, spec

        for mod in (spec, checks, mlspec):
            for obj in vars(mod).values():
                if isinstance(obj, type) and issubclass(obj, BaseModel):
                    _KNOWN_KEYS.update(obj.model_fields)
    return _KNOWN_KEYS


def validate(
    model: type[M], data: Any, doc: Located, problems: list[Problem], prefix: tuple[Any, ...] = ()
) -> M | None:
    """Validate ``data`` (found at ``prefix`` in ``doc``); record problems, return None on error."""
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as e:
        for err in e.errors():
            loc = (*prefix, *err["loc"])
            if loc[:1] == ("engine",) and loc[1:2] in (("duckdb",), ("spark",)):
                loc = (loc[0], *loc[2:])  # (the engine's type, named by pydantic's union)
            problems.append(_problem(doc, loc, err))
        return None


ENGINE_TYPES = ["duckdb", "spark"]


def _problem(doc: Located, loc: tuple[Any, ...], err: Any) -> Problem:
    kind = err["type"]
    where = ".".join(str(p) for p in loc if not isinstance(p, int)) or "(top level)"
    hint = None
    if kind == "extra_forbidden":
        key = str(loc[-1])
        msg = f"unknown key '{key}' (at {where})"
        close = difflib.get_close_matches(key, sorted(_known_keys()), n=1)
        hint = (f"did you mean '{close[0]}'?" if close and close[0] != key
                else f"'{key}' is not a setting here" if close
                else "remove it, or see docs/project-format.md")
        if loc[:1] == ("engine",):
            hint = f"{hint}; each engine's settings: docs/engines.md"
    elif kind == "missing":
        msg = f"missing required key '{loc[-1]}' (at {where})"
    elif kind in ("union_tag_invalid", "union_tag_not_found"):
        tag = (err.get("ctx") or {}).get("tag", "")
        msg = f"unknown kind {tag!r} (at {where})"
        options = ENGINE_TYPES if loc[:1] == ("engine",) else sorted(CHECK_TYPES)
        if loc[:1] == ("engine",):
            msg = f"unknown engine type {tag!r}: {' or '.join(ENGINE_TYPES)}"
        close = difflib.get_close_matches(str(tag), options, n=1)
        if close:
            hint = f"did you mean '{close[0]}'?"
    else:
        msg = f"{where}: {err['msg']}"
        if kind.startswith("value_error"):
            msg = f"{where}: {err['msg'].removeprefix('Value error, ')}"
    return Problem(doc.file, doc.line(loc), msg, hint)


def normalise_checks(spec: dict[str, Any], doc: Located, prefix: tuple[Any, ...],
                     problems: list[Problem]) -> dict[str, Any]:
    """Expand short check forms in a product spec (in place on a copy)."""
    out = dict(spec)
    if isinstance(out.get("checks"), list):
        out["checks"] = _norm_list(out["checks"], None, doc, (*prefix, "checks"), problems)
    cols = out.get("columns")
    if isinstance(cols, dict):
        new_cols = {}
        for cname, cspec in cols.items():
            if cspec is None:
                cspec = {}
            if isinstance(cspec, dict) and isinstance(cspec.get("checks"), list):
                cspec = dict(cspec)
                cspec["checks"] = _norm_list(cspec["checks"], str(cname), doc,
                                             (*prefix, "columns", cname, "checks"), problems)
            new_cols[cname] = cspec
        out["columns"] = new_cols
    return out


def _norm_list(items: list[Any], column: str | None, doc: Located, prefix: tuple[Any, ...],
               problems: list[Problem]) -> list[Any]:
    out = []
    for i, raw in enumerate(items):
        try:
            out.append(normalise_check(raw, column))
        except ValueError as e:
            problems.append(Problem(doc.file, doc.line((*prefix, i)), str(e)))
    return out
