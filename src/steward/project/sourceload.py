"""Loading ``sources/*.yml``: each source validated (through the load memo), added as a
product, and a file or Python source hashed by its content. A part of the project
loader (:class:`steward.project.loader._Loader` mixes it in)."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from steward.core.errors import Problem
from steward.core.model import Product
from steward.project.files import Listing, StatCache, callable_file, resolve_paths
from steward.project.validate import normalise_checks, validate
from steward.project.yamlload import Located


def _qualify(name: str, domain: str | None) -> str:
    if "." in name or not domain:
        return name
    return f"{domain}.{name}"


class SourceLoading:
    root: str
    listing: Listing
    hash_sources: bool
    problems: list[Problem]
    memo_in: dict[tuple[Any, ...], Any]
    memo_out: dict[tuple[Any, ...], Any]
    consulted: list[tuple[Any, ...]]
    broken: set[str]
    docs: dict[str, tuple[Located, tuple[Any, ...]]]
    products: dict[str, Product]
    source_hashes: dict[str, str]
    stat_cache: StatCache

    if TYPE_CHECKING:
        def read_expanded_yaml(self, path: str) -> Located: ...

        def add(self, product: Product) -> None: ...

        @staticmethod
        def memo_key(kind: str, data: Any) -> tuple[str, ...] | None: ...

        def memo_spec(self, key: tuple[str, ...] | None, build: Callable[[], Any]
                      ) -> Any: ...

    def load_sources(self, folder: str) -> None:
        for path in self.listing.files_under(os.path.join(self.root, folder), (".yml", ".yaml")):
            doc = self.read_expanded_yaml(path)
            if doc.problems:
                continue
            if not isinstance(doc.data, dict) or "sources" not in doc.data:
                self.problems.append(Problem(doc.file, 1, "a sources file has a top-level "
                                             "'sources:' mapping of name -> source"))
                continue
            extra = set(doc.data) - {"sources"}
            for k in sorted(extra, key=str):
                self.problems.append(Problem(doc.file, doc.line((k,)), f"unknown key '{k}'",
                                             "a sources file holds only 'sources:'"))
            if isinstance(doc.data["sources"], dict):
                self.add_sources(doc.data["sources"], doc, ("sources",))
            else:
                from steward.core.spec import SourcesFile

                validate(SourcesFile, doc.data, doc, self.problems)

    def add_sources(self, sources: dict[str, Any], doc: Located, prefix: tuple[str, ...]) -> None:
        adapter: list[Any] = []  # built on the first source the memo does not have

        def validate_source(raw: dict[str, Any]) -> Any:
            if not adapter:
                from pydantic import TypeAdapter

                from steward.core.spec import SourceSpec

                adapter.append(TypeAdapter(SourceSpec))
            return adapter[0].validate_python(raw)

        for name, raw in sources.items():
            loc = (*prefix, name)
            line = doc.line(loc)
            if not isinstance(raw, dict):
                self.problems.append(Problem(doc.file, line, f"source {name!r} must be a mapping"))
                continue
            declared = raw
            raw = normalise_checks(raw, doc, loc, self.problems)
            raw.setdefault("kind", "database" if "connection" in raw else "file")

            def build(raw: dict[str, Any] = raw, declared: dict[str, Any] = declared,
                      loc: tuple[Any, ...] = loc) -> Any:
                spec = validate_source(raw)
                from steward.project.checkargs import check_arguments

                check_arguments(declared, doc, loc, self.problems,
                                (self.memo_in, self.memo_out, self.consulted))
                return spec

            try:
                src = self.memo_spec(self.memo_key("source", raw), build)
            except Exception as e:  # pydantic.ValidationError
                from pydantic import ValidationError

                if not isinstance(e, ValidationError):
                    raise
                self.broken.add(_qualify(str(name), raw.get("domain")))
                for err in e.errors():
                    from steward.project.validate import _problem

                    self.problems.append(_problem(doc, (*loc, *err["loc"][1:]), err))
                continue
            assert src is not None  # (validation raised on every mistake)
            full = _qualify(str(name), src.dump.get("domain"))
            kind = {"file": "file", "database": "database_source"}.get(
                src.dump["kind"], "python_source")
            product = Product.with_spec(src, name=full, kind=kind, file=doc.file, line=line,
                                        meta_file=doc.file)
            self.add(product)
            self.docs.setdefault(full, (doc, loc))
            if full in self.products and self.products[full] is product:
                self.hash_source(product, doc, loc)

    def hash_source(self, product: Product, doc: Located, loc: tuple[Any, ...]) -> None:
        spec = product.spec_dump
        if product.kind == "file":
            if not self.hash_sources:
                return
            try:
                paths = resolve_paths(spec["path"], self.root)
            except (ImportError, ValueError) as e:
                paths, reason = [], str(e)
            else:
                reason = ""
            if not paths:
                self.problems.append(Problem(
                    doc.file, doc.line((*loc, "path")),
                    f"source {product.name!r}: no file matches {spec['path']!r}" +
                    (f" ({reason})" if reason else ""),
                    "check the path; relative paths start at the project folder",
                ))
                return
            self.source_hashes[product.name] = self.stat_cache.hash_files(paths)
        elif product.kind == "python_source":
            file = callable_file(spec["callable"], self.root)
            if file is None:
                self.problems.append(Problem(
                    doc.file, doc.line((*loc, "callable")),
                    f"source {product.name!r}: cannot find {spec['callable']!r}",
                    "write 'package.module:function' or 'path/to/file.py:function'",
                ))
                return
            self.source_hashes[product.name] = self.stat_cache.hash_file(file)
