"""Model products, read at load like Python products: with ``ast``, never imported.

A ``@model`` function's parameters are of three sorts:

- ``X``, ``y`` and ``seed``: the training features (a pandas DataFrame of the declared
  ``features``, in order), the training target (a Series) and the declared seed;
- parameters with a default value: hyper-parameters, set by the sidecar's ``params``
  (a name that is not one of them is a typo, reported at its line);
- the others: input products, like a Python product's parameters; each receives its
  table (the training table restricted to the training rows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from steward.core.errors import Problem
from steward.core.mlspec import RESERVED_PARAMS
from steward.core.model import Product
from steward.project.crosscheck import close_hint
from steward.project.pyproducts import PyProduct
from steward.project.validate import normalise_checks
from steward.project.yamlload import Located

if TYPE_CHECKING:
    from steward.project.loader import _Loader


def input_params(py: PyProduct) -> list[str]:
    """The parameters of a model function that name input products."""
    return [p for p in py.params if p not in RESERVED_PARAMS and p not in py.defaults]


def load_model(loader: _Loader, py: PyProduct, rel: str, text: str, meta: dict[str, Any],
               doc: Located | None, folder_domain: str | None) -> None:
    """Validate a ``@model`` function's declaration and add it as a ``model`` product."""
    from steward.project.loader import _qualify

    raw = {**meta, **{k: v for k, v in py.metadata.items() if k != "name"}}
    located = doc or Located(rel, raw, {(): py.line})
    merged = normalise_checks(raw, located, (), loader.problems)

    def build(m: dict[str, Any] = merged, r: dict[str, Any] = raw,
              d: Located = located) -> Any:
        from steward.core.mlspec import ModelProductSpec

        return loader.validated(ModelProductSpec, m, r, d, ())

    spec = loader.memo_spec(loader.memo_key("model", merged), build)
    fallback = py.metadata.get("name") or _qualify(py.function, merged.get("domain")
                                                   or folder_domain)
    if spec is None:
        loader.broken.add(fallback)
        return
    dump = spec.dump
    name = py.metadata.get("name") or _qualify(py.function, dump.get("domain") or folder_domain)
    problems = len(loader.problems)
    _check_params(py, dump, located, loader.problems)
    ins = input_params(py)
    inputs: dict[str, str] = dump.get("inputs") or {}
    refs = [(inputs.get(p) or p.replace("__", "."), rel, py.line) for p in ins]
    table = dump.get("table")
    if table is None and len(ins) != 1:
        loader.problems.append(Problem(
            located.file, located.line(("features",)) if doc else py.line,
            f"model {name}: {'no parameter of ' if not ins else 'several parameters of '}"
            f"{py.function}() names an input, so Steward cannot tell which table holds "
            "the features and the target",
            "add 'table: <product>' to the sidecar (it is then an input of the model)"))
    if table is not None and table not in [t for t, _, _ in refs]:
        refs.append((table, located.file, located.line(("table",))))
    for u in sorted(set(inputs) - set(ins)):
        loader.problems.append(Problem(rel, py.line, f"inputs names {u!r}, which is not an "
                                       f"input parameter of {py.function}()"))
    if len(loader.problems) > problems:
        loader.broken.add(name)
        return
    product = Product.with_spec(
        spec, name=name, kind="model", file=rel, line=py.line, code=text,
        normalized_code=py.normalized, meta_file=doc.file if doc else None,
        function=py.function,
    )
    loader.refs[name] = refs
    loader.add(product)
    if doc is not None:
        loader.docs.setdefault(name, (doc, ()))
    loader._params[name] = ins


def _check_params(py: PyProduct, dump: Mapping[str, Any], doc: Located,
                  problems: list[Problem]) -> None:
    """Each declared hyper-parameter must be a parameter of the function with a default."""
    if py.varkw:
        return
    allowed = [p for p in py.defaults if p not in RESERVED_PARAMS]
    for key in dump.get("params") or {}:
        if key in allowed:
            continue
        problems.append(Problem(
            doc.file, doc.line(("params", key)),
            f"params names {key!r}, which is not a hyper-parameter of {py.function}() "
            f"(its parameters with a default value: {', '.join(allowed) or 'none'})",
            close_hint(key, allowed) or
            f"add '{key}=<default>' to {py.function}()'s parameters, or remove it"))


def table_of(product: Product) -> str:
    """The input product that holds a model's features and target (resolved name)."""
    declared = product.spec_dump.get("table")
    if declared is None:
        return next(iter(product.params.values())) if product.params else product.inputs[0]
    if declared in product.inputs:
        return declared  # type: ignore[no-any-return]
    short = [i for i in product.inputs if i.split(".", 1)[-1] == declared]
    return short[0] if short else declared  # type: ignore[no-any-return]


def check_model_columns(products: Mapping[str, Product], problems: list[Problem],
                        line_of: Callable[..., int | None]) -> None:
    """A feature, target or split column a model's table does not have, where the
    table's columns are known at load (a SQL product without ``*``, declared columns)."""
    for p in products.values():
        if p.kind != "model":
            continue
        table = products.get(table_of(p))
        if table is None:
            continue
        known = set(table.outputs or ())
        if table.outputs is None:
            if table.kind == "sql" or table.kind == "python":
                continue  # a star or Python code: the columns are known at build
            known = set(table.spec_dump.get("columns") or ())
            if not known:
                continue
        dump = p.spec_dump
        wanted: list[tuple[str, tuple[Any, ...]]] = [
            (f, ("features", i)) for i, f in enumerate(dump["features"])]
        wanted.append((dump["target"], ("target",)))
        split = dump.get("split") or {}
        for col in ([split["column"]] if split.get("column") else []) + list(
                split.get("key") or ()):
            wanted.append((col, ("split",)))
        for col, where in wanted:
            if col in known:
                continue
            problems.append(Problem(
                p.meta_file or p.file, line_of(p.name, *where) or p.line,
                f"model {p.name}: {where[0]} names column {col!r}, which {table.name} does "
                "not have", close_hint(col, known) or
                f"its columns: {', '.join(sorted(known))}"))


