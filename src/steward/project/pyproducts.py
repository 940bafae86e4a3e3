"""Python products, read statically: the project loads without importing user code."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from steward.core.errors import Problem


@dataclass
class PyProduct:
    function: str
    line: int
    params: list[str]
    metadata: dict[str, Any]
    normalized: str
    problems: list[Problem] = field(default_factory=list)
    decorator: str = "product"  # or "model" (steward.ml.model)
    defaults: list[str] = field(default_factory=list)  # parameters with a default value
    varkw: bool = False  # the function takes **kwargs


_DECORATORS = ("product", "model")


def _decorator_name(node: ast.expr) -> str | None:
    target = node.func if isinstance(node, ast.Call) else node
    name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", None)
    return name if name in _DECORATORS else None


def _is_product_decorator(node: ast.expr) -> ast.Call | bool:
    if _decorator_name(node) is None:
        return False
    return node if isinstance(node, ast.Call) else True


def _strip_docstring(fn: ast.FunctionDef) -> ast.FunctionDef:
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) \
            and isinstance(body[0].value.value, str):
        body = body[1:] or [ast.Pass()]
    out = ast.FunctionDef(name=fn.name, args=fn.args, body=body, decorator_list=[],
                          returns=None, type_comment=None)
    return ast.fix_missing_locations(ast.copy_location(out, fn))


def read_python_products(text: str, file: str) -> tuple[list[PyProduct], list[Problem]]:
    try:
        tree = ast.parse(text, filename=file)
    except SyntaxError as e:
        return [], [Problem(file, e.lineno, f"Python syntax error: {e.msg}")]
    found: list[tuple[ast.FunctionDef, ast.Call | bool]] = []
    shared: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            deco: ast.Call | bool = next(
                (d for d in (_is_product_decorator(x) for x in node.decorator_list) if d),
                False)
            if deco:
                found.append((node, deco))
                continue
        shared.append(node)
    shared_src = ast.unparse(ast.Module(body=shared, type_ignores=[]))
    out: list[PyProduct] = []
    problems: list[Problem] = []
    for fn, deco in found:
        meta: dict[str, Any] = {}
        if isinstance(deco, ast.Call):
            if deco.args:
                try:
                    meta["name"] = ast.literal_eval(deco.args[0])
                except ValueError:
                    problems.append(Problem(file, fn.lineno, "the product name must be a literal"))
            for kw in deco.keywords:
                try:
                    meta[kw.arg or ""] = ast.literal_eval(kw.value)
                except ValueError:
                    problems.append(Problem(
                        file, kw.value.lineno,
                        f"@product({kw.arg}=...) must be a literal (string, number, list, dict)",
                        "Steward reads product metadata without running your code",
                    ))
        params = [a.arg for a in fn.args.args + fn.args.kwonlyargs]
        positional = fn.args.args
        defaults = [a.arg for a in positional[len(positional) - len(fn.args.defaults):]] \
            if fn.args.defaults else []
        defaults += [a.arg for a, d in zip(fn.args.kwonlyargs, fn.args.kw_defaults,
                                           strict=True) if d is not None]
        kind = next((n for n in (_decorator_name(d) for d in fn.decorator_list) if n),
                    "product")
        normalized = shared_src + "\n" + ast.unparse(_strip_docstring(fn))
        out.append(PyProduct(fn.name, fn.lineno, params, meta, normalized, [], kind,
                             defaults, fn.args.kwarg is not None))
    return out, problems
