"""Load a project folder: ``steward.yaml``, sources, SQL and Python products.

Every mistake is collected with its file and line, and all of them are raised at once
as one :class:`ConfigError`.
"""

from __future__ import annotations

import difflib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from steward.core.errors import ConfigError, Problem
from steward.core.ids import NAME_PATTERN
from steward.core.model import Product, SpecRef, carry_digests
from steward.core.model import Project as LoadedProject
from steward.project.crosscheck import check_columns, check_graph
from steward.project.files import (
    Listing,
    StatCache,
    read_text,
    rehash_sources,
)
from steward.project.parsecache import ParseCache
from steward.project.paths import (
    PROJECT_FILE,
    STATE_DIR,
    declared_folders,
    find_root,
    project_folders,
)
from steward.project.pyproducts import read_python_products
from steward.project.references import ReferenceResolving
from steward.project.sourceload import SourceLoading, _qualify
from steward.project.validate import normalise_checks, validate
from steward.project.yamlload import Located, load_yaml

# What the last load made, reused by the next:
# - a SQL model as loaded from its files, before references are resolved, keyed by the
#   files' stat data -> (product, refs, spans, sidecar document or None, its spec's key);
# - each spec keyed by the data it was validated from -> SpecRef;
# - each YAML document keyed by its text, and the glossary by its text.
# Kept between loads as plain data (steward.project.cache): a spec as its facts and its
# fields, validated again only when read (see steward.core.model.SpecRef).
Memo = dict[tuple[Any, ...], Any]


class _Loader(SourceLoading, ReferenceResolving):
    """One load: the project file, sources (project/sourceload.py), models, then every
    reference resolved (project/references.py)."""

    def __init__(self, root: str, hash_sources: bool, memo: Memo | None = None,
                 listing: Listing | None = None, rehash: bool = False):
        self.root = root
        self.listing = listing or Listing()  # (empty: every question goes to the disk)
        self.hash_sources = hash_sources
        self.memo_in: Memo = memo or {}
        self.memo_out: Memo = {}
        self.problems: list[Problem] = []
        self.warnings: list[str] = []
        # the text of a steward.yaml that could not be parsed: a reference to a name it
        # mentions may be to a source declared there, and is not reported
        self.unparsed_project_text: str | None = None
        self.products: dict[str, Product] = {}
        self.where: dict[str, tuple[str, int]] = {}
        self.refs: dict[str, list[tuple[str, str, int]]] = {}  # product -> (ref, file, line)
        self.source_hashes: dict[str, str] = {}
        cache_dir = os.path.join(root, STATE_DIR, "cache")
        self.stat_cache = StatCache(os.path.join(cache_dir, "stat.json"), root, rehash)
        self.parse_cache = ParseCache(os.path.join(cache_dir, "parse.ndjson"))
        self._params: dict[str, list[str]] = {}
        # names whose declaration is broken: references to them are not reported again
        self.broken: set[str] = set()
        # memo keys the spec being validated consulted (see memo_spec)
        self.consulted: list[tuple[Any, ...]] = []
        self.docs: dict[str, tuple[Located, tuple[Any, ...]]] = {}
        # environment variables steward.yaml and sources/*.yml named -> value (None: unset)
        self.env_used: dict[str, str | None] = {}
        self.spans: dict[str, list[tuple[int, int, str, bool]]] = {}
        self.macros: Any = None  # steward.project.macros.Macros, when there are macro files
        self.macros_key: tuple[Any, ...] | None = None

    # -- helpers ---------------------------------------------------------------------
    def rel(self, path: str) -> str:
        if path.startswith(self.root + os.sep):  # the usual case, without relpath's cost
            return path[len(self.root) + 1:]
        return os.path.relpath(path, self.root)

    def read_text(self, path: str) -> str | None:
        """A project file's text; None (and a problem recorded) when it cannot be read."""
        text, problem = read_text(path, self.rel(path))
        if problem is not None:
            self.problems.append(problem)
        return text

    def read_yaml(self, path: str) -> Located:
        """The YAML file at ``path``; parsed again only when its text changed."""
        rel = self.rel(path)
        text, problem = read_text(path, rel)
        if problem is not None or text is None:
            problems = [problem] if problem else []
            self.problems.extend(problems)
            return Located(rel, None, problems=problems)
        key = ("yaml", rel, text)
        doc = self.memo_in.get(key)
        if not isinstance(doc, Located):
            doc = load_yaml(text, rel)
        if not doc.problems:
            self.memo_out[key] = doc
        self.problems.extend(doc.problems)
        return doc

    def read_expanded_yaml(self, path: str) -> Located:
        """A YAML file whose ``${VAR}`` references are expanded (steward.yaml, sources)."""
        doc = self.read_yaml(path)
        if doc.problems or doc.data is None:
            return doc
        from steward.project.envvars import expand_document

        expanded = expand_document(doc, self.env_used)
        self.problems.extend(expanded.problems)
        return expanded

    def add(self, product: Product) -> None:
        if not _valid_name(product.name):
            self.problems.append(Problem(
                product.meta_file or product.file, product.line,
                f"invalid product name {product.name!r}",
                "use letters, digits and _ as 'domain.name'",
            ))
            return
        if product.name in self.products:
            f, ln = self.where[product.name]
            self.problems.append(Problem(
                product.meta_file or product.file, product.line,
                f"duplicate product name {product.name!r}", f"also defined at {f}:{ln}",
            ))
            return
        self.products[product.name] = product
        self.where[product.name] = (product.meta_file or product.file, product.line)

    def line_of(self, name: str, *loc: Any) -> int | None:
        """The line of ``loc`` inside the declaration of product ``name``."""
        if name not in self.docs:
            return None
        doc, prefix = self.docs[name]
        return doc.line((*prefix, *loc))

    # -- steps -----------------------------------------------------------------------
    def load(self) -> LoadedProject:
        spec, (models, sources) = self.load_project_file()
        # a broken steward.yaml does not hide the mistakes in the models and sources
        self.load_sources(sources)
        self.load_macros(spec)
        self.load_models(models)
        if self.macros is not None:
            self.problems.extend(self.macros.problems)
        self.resolve_references()
        check_graph(self.products, self.problems)
        check_columns(self.products, self.problems, self.where, self.line_of)
        if any(p.kind == "model" for p in self.products.values()):
            from steward.project.mlload import check_model_columns

            check_model_columns(self.products, self.problems, self.line_of)
        if spec is not None and (spec.dump.get("engine") or {}).get("type") == "spark":
            from steward.project.crosscheck import check_spark

            check_spark(self.products, self.problems)
        from steward.project.glossary import load_glossary

        glossary, glossary_warnings = load_glossary(self.root, self.products, self.problems,
                                                    (self.memo_in, self.memo_out))
        self.stat_cache.save()
        self.parse_cache.save()
        if self.problems or spec is None:
            raise ConfigError(self.problems)
        return LoadedProject.with_spec(spec, root=self.root,  # type: ignore[no-any-return]
                                       products=dict(sorted(self.products.items())),
                                       source_hashes=self.source_hashes,
                                       warnings=(*self.warnings, *glossary_warnings),
                                       glossary_ref=glossary)

    def load_project_file(self) -> tuple[SpecRef | None, tuple[str, str]]:
        """steward.yaml's spec (None when it is broken) and the (models, sources) folders
        to read: the declared ones, or the defaults where it does not say."""
        path = os.path.join(self.root, PROJECT_FILE)
        doc = self.read_expanded_yaml(path)
        folders = declared_folders(doc.data)
        if doc.problems or not isinstance(doc.data, dict):
            try:
                with open(path, "rb") as f:
                    self.unparsed_project_text = f.read().decode("utf-8", "replace")
            except OSError:
                pass
            if not doc.problems:
                self.problems.append(Problem(PROJECT_FILE, 1, "steward.yaml must be a mapping"))
            return None, folders
        data = dict(doc.data)
        sources = data.pop("sources", None) or {}

        def build() -> Any:
            from steward.core.spec import ProjectSpec

            return validate(ProjectSpec, data, doc, self.problems)

        spec = self.memo_spec(self.memo_key("project", data), build)
        if isinstance(sources, dict):
            self.add_sources(sources, doc, ("sources",))
        if spec is not None:
            folders = (spec.dump["paths"]["models"], spec.dump["paths"]["sources"])
        return spec, folders

    def load_macros(self, spec: SpecRef | None) -> None:
        from steward.project.macros import Macros, macro_paths, macros_key

        paths = macro_paths(self.root, self.listing)
        if paths:
            dump = spec.dump if spec is not None else {}
            self.macros = Macros(self.root, paths, dump.get("vars") or {},
                                 dump.get("name") or "steward")
            self.macros_key = macros_key(self.root, paths)

    def load_models(self, folder: str) -> None:
        base = os.path.normpath(os.path.join(self.root, folder))
        found = self.listing.files_under(base, (".sql", ".py", *_SIDECARS))
        models = [p for p in found if p.endswith((".sql", ".py"))]
        sidecars = {m: self.listing.sidecar_of(m) for m in models}
        self.warn_lost_sidecars([p for p in found if p.endswith(_SIDECARS)], sidecars)
        for path in models:
            d = os.path.dirname(path)
            rel_dir = d[len(base) + 1:] if d.startswith(base + os.sep) else "."
            folder_domain = None if rel_dir == "." else rel_dir.split(os.sep)[0]
            sidecar = sidecars[path]
            key = (self.listing.model_key(path, sidecar, folder_domain, self.root)
                   if path.endswith(".sql") else None)
            if key is not None and self.macros_key is not None:
                key = (*key, self.macros_key)
            hit = self.memo_in.get(key) if key else None
            if hit is not None:  # the same files as at the last load: no read, parse, check
                self.restore(hit)
                self.memo_out[key] = hit  # type: ignore[index]
                continue
            problems, known = len(self.problems), set(self.products)
            meta: dict[str, Any] = {}
            doc: Located | None = None
            if sidecar:
                doc = self.read_yaml(sidecar)
                if doc.problems:
                    self.broken.add(_qualify(Path(path).stem, folder_domain))
                    continue
                if doc.data is not None and not isinstance(doc.data, dict):
                    self.problems.append(Problem(doc.file, 1, "a product's YAML is a mapping"))
                    continue
                meta = dict(doc.data or {})
            if path.endswith(".sql"):
                spec_key = self.load_sql(path, folder_domain, meta, doc)
                added = set(self.products) - known
                if key and len(added) == 1 and len(self.problems) == problems:
                    name = added.pop()
                    self.memo_out[key] = (self.products[name], self.refs[name],
                                          self.spans[name], self.docs.get(name, (None,))[0],
                                          spec_key)
            else:
                self.load_python(path, folder_domain, meta, doc)

    def validated(self, model: Any, data: dict[str, Any], declared: dict[str, Any],
                  doc: Located, prefix: tuple[Any, ...]) -> Any:
        """``data`` validated as ``model``, then what pydantic cannot see checked in what
        was ``declared`` (check arguments, column types: ``project/checkargs.py``)."""
        spec = validate(model, data, doc, self.problems, prefix)
        if spec is not None:
            from steward.project.checkargs import check_arguments

            check_arguments(declared, doc, prefix, self.problems,
                            (self.memo_in, self.memo_out, self.consulted))
        return spec

    def warn_lost_sidecars(self, yamls: list[str], sidecars: dict[str, str | None]) -> None:
        """Warn of a YAML file under the models folder (one of ``yamls``) that no model
        reads (``sidecars``: model -> its sidecar): a sidecar named unlike its model leaves
        the model without its metadata and checks."""
        used = set(sidecars.values())
        for path in yamls:
            if path in used:
                continue
            folder, name = os.path.split(path)
            stem, ext = os.path.splitext(name)
            bare = [os.path.splitext(os.path.basename(m))[0] for m, side in sidecars.items()
                    if side is None and os.path.dirname(m) == folder]
            close = difflib.get_close_matches(stem, bare, n=1, cutoff=0.5)
            self.warnings.append(Problem(
                self.rel(path), 1,
                f"describes no model: there is no {stem}.sql or {stem}.py beside it",
                f"did you mean '{close[0]}{ext}'?" if close else
                "a sidecar has its model's name: orders.yml beside orders.sql or orders.py",
            ).render())

    @staticmethod
    def memo_key(kind: str, data: Any) -> tuple[str, ...] | None:
        try:
            return ("spec", kind, json.dumps(data, sort_keys=True, default=repr))
        except (TypeError, ValueError):
            return None

    def memo_spec(self, key: tuple[str, ...] | None, build: Callable[[], Any]
                  ) -> SpecRef | None:
        """The spec ``build`` validates, or the last load's under the same ``key``
        (:meth:`memo_key` of the data it is validated from).

        A spec is a pure function of its data. Reusing it spares the validation and,
        since the memo keeps it as plain facts, importing pydantic at all.
        """
        hit = self.memo_in.get(key) if key else None
        if isinstance(hit, SpecRef):
            self.memo_out[key] = hit  # type: ignore[index]
            self.keep(("uses", key))  # the verdicts its validation consulted, kept too
            return hit
        problems = len(self.problems)
        self.consulted = []
        spec = build()
        if spec is None:
            return None
        ref = SpecRef(spec)
        if key and len(self.problems) == problems:
            self.memo_out[key] = ref
            if self.consulted:
                self.memo_out[("uses", key)] = tuple(self.consulted)
        return ref

    def keep(self, key: tuple[Any, ...]) -> None:
        """Carry ``key`` and the memo entries it lists from the last load's memo."""
        uses = self.memo_in.get(key)
        if uses is None:
            return
        self.memo_out[key] = uses
        for k in uses:
            if k in self.memo_in:
                self.memo_out[k] = self.memo_in[k]

    def restore(self, hit: tuple[Product, list[Any], list[Any], Any, Any]) -> None:
        product, refs, spans, doc, spec_key = hit
        if spec_key in self.memo_in:  # kept for the day this model's SQL alone changes
            self.memo_out[spec_key] = self.memo_in[spec_key]
            self.keep(("uses", spec_key))
        self.refs[product.name] = refs
        self.spans[product.name] = spans
        self.add(product)
        if doc is not None:
            self.docs.setdefault(product.name, (doc, ()))

    def load_sql(self, path: str, folder_domain: str | None, meta: dict[str, Any],
                 doc: Located | None) -> tuple[Any, ...] | None:
        """Load one SQL model; returns the memo key of its spec."""
        rel = self.rel(path)
        text = self.read_text(path)
        if text is None:
            self.broken.add(_qualify(Path(path).stem, meta.get("domain") or folder_domain))
            return None
        doc = doc or Located(rel, meta)
        if self.macros is not None:
            domain = meta.get("domain") if isinstance(meta.get("domain"), str) else None
            text, meta = self.render_jinja(rel, text, meta, doc, domain or folder_domain, path)
            if text is None:
                return None
        raw = meta
        meta = normalise_checks(meta, doc, (), self.problems)

        def build() -> Any:
            from steward.core.spec import SqlProductSpec

            return self.validated(SqlProductSpec, meta, raw, doc, ())

        spec_key = self.memo_key("sql", meta)
        spec = self.memo_spec(spec_key, build)
        if spec is None:
            self.broken.add(_qualify(Path(path).stem, meta.get("domain") or folder_domain))
            return None
        parsed = self.parse_cache.parse(text)
        name = _qualify(Path(path).stem, spec.dump.get("domain") or folder_domain)
        if parsed.error:
            from steward.project.macros import uses_jinja

            hint = ("Jinja is rendered only in a project with a macros/ folder of "
                    "{% macro %} files" if self.macros is None and uses_jinja(text) else None)
            self.problems.append(Problem(rel, parsed.error_line, parsed.error, hint))
            self.broken.add(name)
            return None
        product = Product.with_spec(
            spec, name=name, kind="sql", file=rel, code=text,
            normalized_code=parsed.normalized, outputs=parsed.outputs,
            meta_file=doc.file if doc.file != rel else None,
        )
        self.refs[name] = [(r.name, rel, r.line) for r in parsed.references]
        self.spans[name] = [(a, b, r.name, c) for r in parsed.references for a, b, c in r.spans]
        self.add(product)
        if product.meta_file:
            self.docs.setdefault(name, (doc, ()))
        return spec_key

    def render_jinja(self, rel: str, text: str, meta: dict[str, Any], doc: Located,
                     domain: str | None, path: str
                     ) -> tuple[str | None, dict[str, Any]]:
        """The model's SQL and its custom checks rendered with the project's macros
        (``steward.project.macros``); None for the SQL when that failed (reported)."""
        from steward.project.macros import uses_jinja

        meta, problems = self.macros.render_checks(meta, doc.file, doc.line)
        self.problems.extend(problems)
        out: str | None = text
        if uses_jinja(text):
            out, problem = self.macros.render(rel, text, this=_qualify(Path(path).stem, domain))
            if problem is not None:
                self.problems.append(problem)
        if out is None or problems:
            self.broken.add(_qualify(Path(path).stem, domain))
            return None, meta
        return out, meta

    def load_python(self, path: str, folder_domain: str | None, meta: dict[str, Any],
                    doc: Located | None) -> None:
        rel = self.rel(path)
        text = self.read_text(path)
        if text is None:  # (its products are most often named after the file)
            self.broken.add(_qualify(Path(path).stem, meta.get("domain") or folder_domain))
            return
        found, problems = read_python_products(text, rel)
        self.problems.extend(problems)
        if doc is not None and len(found) > 1:
            self.problems.append(Problem(
                doc.file, 1, f"{rel} defines {len(found)} products; a sidecar YAML describes one",
                "put each product's metadata in its @product(...) decorator",
            ))
            return
        for py in found:
            if py.decorator == "model":  # a model product (steward.ml)
                from steward.project.mlload import load_model

                load_model(self, py, rel, text, meta, doc, folder_domain)
                continue
            raw = {**meta, **{k: v for k, v in py.metadata.items() if k != "name"}}
            located = doc or Located(rel, raw, {(): py.line})
            merged = normalise_checks(raw, located, (), self.problems)

            def build(m: dict[str, Any] = merged, r: dict[str, Any] = raw,
                      d: Located = located) -> Any:
                from steward.core.spec import PythonProductSpec

                return self.validated(PythonProductSpec, m, r, d, ())

            spec = self.memo_spec(self.memo_key("python", merged), build)
            if spec is None:
                self.broken.add(py.metadata.get("name")
                                or _qualify(py.function, merged.get("domain") or folder_domain))
                continue
            name = py.metadata.get("name") or _qualify(py.function, spec.dump.get("domain")
                                                       or folder_domain)
            inputs: dict[str, str] = spec.dump.get("inputs") or {}
            product = Product.with_spec(
                spec, name=name, kind="python", file=rel, line=py.line, code=text,
                normalized_code=py.normalized, meta_file=doc.file if doc else None,
                function=py.function,
            )
            refs = []
            for param in py.params:
                target = inputs.get(param) or param.replace("__", ".")
                refs.append((target, rel, py.line))
            unknown = set(inputs) - set(py.params)
            for u in sorted(unknown):
                self.problems.append(Problem(rel, py.line,
                                             f"inputs names {u!r}, which is not a parameter of "
                                             f"{py.function}()"))
            self.refs[name] = refs
            self.add(product)
            if doc is not None:
                self.docs.setdefault(name, (doc, ()))
            self._params[name] = py.params

_SIDECARS = (".yml", ".yaml")


def _valid_name(name: str) -> bool:
    import re

    return re.match(NAME_PATTERN, name) is not None


def load_project(root: str | None = None, *, hash_sources: bool = True,
                 rehash: bool = False) -> LoadedProject:
    """Load and validate the project at ``root`` (or the one around the working folder).

    An unchanged project comes from ``.steward/cache/project.msgpack``; its source files
    are re-hashed (through the stat cache) every time.
    """
    from steward.core.phases import timed

    with timed("load"):
        return _without_collector(_load_project, root, hash_sources, rehash)  # type: ignore[no-any-return]


def _without_collector(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` with the cyclic collector paused: a load allocates hundreds of
    thousands of objects and next to no garbage cycles (a parsed tree is a cycle, but it
    is either kept or freed by :func:`~steward.sql.parse.dispose`), and the collector's
    passes over them cost about a fifth of a full load and a quarter of a cached one
    (1,000 models: the same peak either way). When it resumes, its next pass walks every
    object the load made (120 ms at 1,000 models), unless a run keeps them
    (``core.heap.kept``): then they are frozen first."""
    import gc

    from steward.core.heap import keeping

    enabled = gc.isenabled()
    gc.disable()
    try:
        return fn(*args)
    finally:
        if keeping():
            gc.freeze()
        if enabled:
            gc.enable()


def _load_project(root: str | None, hash_sources: bool, rehash: bool = False) -> LoadedProject:
    from steward.project import cache

    root = find_root(root or ".")
    cache_path = os.path.join(root, STATE_DIR, "cache", "project.msgpack")
    folders = project_folders(root)
    listing = Listing()
    key = cache.digest(root, folders, listing) if folders is not None else None
    if key is not None and hash_sources:
        hit = cache.read(cache_path, key)
        if hit is not None:
            hashes = rehash_sources(hit.products, root, rehash)
            if hashes is not None:  # a vanished source: the full load reports it in place
                # (the cache holds no absolute path: the root is this folder's)
                return hit.evolve(source_hashes=hashes, load_key=key,  # type: ignore[no-any-return]
                                  root=root)
    memo_path = os.path.join(root, STATE_DIR, "cache", "models.msgpack")
    loader = _Loader(root, hash_sources, cache.read_memo(memo_path) if hash_sources else None,
                     listing if key is not None else None, rehash)
    loaded = loader.load()
    if key is not None and hash_sources and sorted(loader.env_used) != cache.env_names(root):
        # the key covers the values of the variables the project names: record which
        try:
            cache.write_env_names(root, sorted(loader.env_used))
            key = cache.digest(root, folders)  # type: ignore[arg-type]
        except OSError:
            key = None  # (not cached: the next load reads the files again)
    project = loaded.evolve(load_key=key)
    for p in project.products.values():  # computed once, then kept in the cache
        _ = p.local_digest, p.metadata_fp, p.spec_json, p.code_fp
    if hash_sources:
        for entry in loader.memo_out.values():  # memo products keep the digests too
            pre = entry[0] if isinstance(entry, tuple) and entry else None
            if isinstance(pre, Product) and pre.name in project.products:
                carry_digests(project.products[pre.name], pre)
        cache.write_memo(memo_path, loader.memo_out)
    if key is not None and hash_sources:
        cache.write(cache_path, key, project)
    return project
