"""Column lineage of a whole project, cached per product, and classification propagation.

Lineage is computed product by product in DAG order, because a product's known columns
(what ``SELECT *`` downstream expands to) come from its own lineage or declaration. Each
product's result is cached in ``.steward/cache/lineage.json`` under a key made of its
normalised code and its inputs' known columns, so an unchanged product is never parsed
again; a change upstream that alters no column list does not invalidate it either.

A SQL product's query is parsed once here for both its column lineage and the facts
OpenLineage's facet adds (:mod:`steward.sql.facts`: aggregates, the columns clauses
read), which are cached beside it. A run computes this while its products build
(:func:`warm_lineage`, on a thread of its own), so the OpenLineage events written after
the builds find every unchanged and most new products in the cache.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from steward.catalog.sqllineage import How, ProductLineage, sql_lineage
from steward.core.fingerprint import digest
from steward.core.graph import Dag
from steward.core.model import Product, Project
from steward.sql.facts import SqlFacts, facts_of
from steward.sql.parse import dispose

LINEAGE_VERSION = 2
CACHE_FILE = os.path.join(".steward", "cache", "lineage.json")

Classified = dict[tuple[str, str], tuple[tuple[str, ...], str | None]]


@dataclass
class LineageGraph:
    """Every product's column lineage, and the columns each product is known to have."""

    products: dict[str, ProductLineage]
    columns: dict[str, tuple[str, ...] | None]
    computed: int = 0  # products analysed in this call (the rest came from the cache)
    # a SQL product's facts (aggregates, the columns its clauses read), from its tree
    facts: dict[str, SqlFacts] = field(default_factory=dict)
    _down: dict[tuple[str, str], list[tuple[str, str, How]]] | None = field(default=None,
                                                                            repr=False)

    def upstream(self, product: str, column: str) -> tuple[tuple[str, str, How], ...]:
        pl = self.products.get(product)
        if pl is None:
            return ()
        return pl.columns.get(_match(column, pl.columns) or column, ())

    def downstream(self, product: str, column: str) -> list[tuple[str, str, How]]:
        if self._down is None:
            down: dict[tuple[str, str], list[tuple[str, str, How]]] = {}
            for name, pl in self.products.items():
                for col, edges in pl.columns.items():
                    for up, upc, how in edges:
                        down.setdefault((up, upc.lower()), []).append((name, col, how))
            self._down = down
        return self._down.get((product, column.lower()), [])


def build_lineage(project: Project, schemas: Mapping[str, Iterable[str]] | None = None,
                  cache_path: str | None = None, use_cache: bool = True,
                  between: Callable[[], None] | None = None) -> LineageGraph:
    """Column lineage for every product of ``project``.

    Args:
        project: the loaded project.
        schemas: product -> column names of its current version (stored schemas), when
            known; they make lineage through ``SELECT *`` and Python products exact.
        cache_path: where the cache lives (default ``.steward/cache/lineage.json``).
        use_cache: False to recompute everything (the cache is still rewritten).
        between: called after each product analysed (a thread running beside the
            builds lets them take the interpreter there).
    """
    stored = {k: tuple(v) for k, v in (schemas or {}).items()}
    path = cache_path or os.path.join(project.root, CACHE_FILE)
    cache = _read_cache(path) if use_cache else {}
    cached = set(cache)
    order = Dag.build({n: p.inputs for n, p in project.products.items()}).topological()
    graph = LineageGraph({}, {})
    # entries computed here, as written; the cache hits are kept as objects only (their
    # JSON is dropped as it is decoded, so reading a thousand costs no second copy) and
    # written again from them if the file is rewritten: name -> (key, code digest)
    fresh: dict[str, Any] = {}
    hits: dict[str, tuple[str, str | None]] = {}
    refreshed = False  # facts computed again for a product whose lineage was cached
    for name in order:
        p = project.products[name]
        in_cols = {i: graph.columns.get(i) for i in p.inputs}
        key = _key(p, in_cols, stored.get(name))
        hit = cache.pop(name, None)
        code = digest(p.code) if p.kind == "sql" and p.code else None
        facts: SqlFacts | None = None
        if hit is not None and hit.get("key") == key:
            pl = ProductLineage.from_json(name, hit["lineage"])
            hits[name] = (key, code)
            if code is not None:
                if hit.get("code") == code and hit.get("facts") is not None:
                    facts = SqlFacts.from_json(hit["facts"])
                else:  # same normal form, other text (case, comments): facts again
                    facts = _facts(p)
                    refreshed = True
        else:
            pl, facts = _analyse(p, in_cols, stored.get(name), project)
            graph.computed += 1
            if between is not None:
                between()
            fresh[name] = {"key": key, "lineage": pl.to_json()}
            if facts is not None:
                fresh[name].update(code=code, facts=facts.to_json())
        if facts is not None:
            graph.facts[name] = facts
        graph.products[name] = pl
        graph.columns[name] = _known_columns(p, pl, stored.get(name))
    if graph.computed or refreshed or cached != set(fresh) | set(hits):
        for name, (key, code) in hits.items():
            entry: dict[str, Any] = {"key": key, "lineage": graph.products[name].to_json()}
            got = graph.facts.get(name)
            if code is not None and got is not None:
                entry.update(code=code, facts=got.to_json())
            fresh[name] = entry
        _write_cache(path, fresh)
    return graph


def _parse(p: Product) -> Any:
    import sqlglot

    from steward.sql.parse import DIALECT, take_tree

    tree = take_tree(p.code)  # the load's own tree, when this process parsed it
    if tree is not None:
        return tree
    try:
        return sqlglot.parse_one(p.code, read=DIALECT)
    except sqlglot.errors.SqlglotError:
        return None  # sql_lineage parses again to say why


def _facts(p: Product, tree: Any = None, walked: list[Any] | None = None) -> SqlFacts:
    """The facts of a SQL product's tree (read before lineage qualifies it in place)."""
    tree = tree if tree is not None else _parse(p)
    if tree is None:
        return SqlFacts()
    try:
        return facts_of(tree, p.inputs, walked)
    except Exception:  # sqlglot raises many kinds; these facts are best effort
        return SqlFacts()


def _analyse(p: Product, inputs: Mapping[str, tuple[str, ...] | None],
             stored: tuple[str, ...] | None, project: Project | None = None
             ) -> tuple[ProductLineage, SqlFacts | None]:
    """A product's lineage and, for SQL, its facts: from one parse of its code."""
    if p.kind == "sql" and p.code:
        tree = _parse(p)
        walked = list(tree.walk()) if tree is not None else None  # (read by both)
        facts = _facts(p, tree, walked)
        try:
            return sql_lineage(p.name, p.code, p.inputs, inputs, tree=tree,
                               walked=walked), facts
        finally:
            dispose(tree)  # (the lineage's results hold none of it)
    return _analyse_other(p, inputs, stored, project), None


def _analyse_other(p: Product, inputs: Mapping[str, tuple[str, ...] | None],
                   stored: tuple[str, ...] | None, project: Project | None = None
                   ) -> ProductLineage:
    if p.is_source:
        return ProductLineage(p.name, "source", stored or tuple(p.spec.columns) or None)
    if p.kind == "sql":
        return sql_lineage(p.name, p.code, p.inputs, inputs)
    if p.kind == "model":
        return _model_lineage(p, inputs, stored)
    own = stored or tuple(p.spec.columns) or None
    reason = "Python product: lineage from its declared inputs"
    cols: dict[str, tuple[tuple[str, str, How], ...]] = {}
    if own:
        reason += "; columns matched to input columns of the same name"
        # a model input is a loaded model, not its holdout table's rows
        models = [project.products[i] for i in sorted(p.inputs)
                  if project is not None and i in project.products
                  and project.products[i].kind == "model"]
        tables = [i for i in sorted(p.inputs) if i not in {m.name for m in models}]
        for c in own:
            cols[c] = tuple((i, real, "name") for i in tables
                            for real in [_match(c, inputs.get(i) or ())] if real)
        for m in models:  # a scoring product: what LoadedModel.score adds
            feats = list(m.spec_dump["features"])
            scored = [i for i in tables if all(_match(f, inputs.get(i) or ()) for f in feats)]
            for c in own:
                if c.lower() in PREDICTED and _match(c, inputs.get(m.name) or ()):
                    cols[c] = ((m.name, c, "predicted"), *(
                        (i, str(_match(f, inputs.get(i) or ())), "predicted")
                        for i in scored for f in feats))
        if models:
            reason += ("; prediction and score columns from the model and the features "
                       "it read")
    return ProductLineage(p.name, "table", own, cols, reason)


# the columns a model adds to the rows it predicts (steward.ml.train / LoadedModel.score)
PREDICTED = ("prediction", "score")


def _model_lineage(p: Product, inputs: Mapping[str, tuple[str, ...] | None],
                   stored: tuple[str, ...] | None) -> ProductLineage:
    """A model's version is its holdout table: the key, split, feature and target columns
    as they were in the training table, and the prediction (and score) learned from the
    features and the target (see steward.ml.train.build_model)."""
    from steward.project.mlload import table_of

    spec = p.spec_dump
    table = table_of(p)
    split = spec["split"]
    have = inputs.get(table) or ()
    learned = [*spec["features"], spec["target"]]
    passed = list(dict.fromkeys([*(split.get("key") or ()),
                                 *([split["column"]] if split.get("column") else []),
                                 *learned]))

    def up(c: str) -> str:
        return (_match(c, have) if have else None) or c

    outputs = stored or (*passed, PREDICTED[0])
    cols: dict[str, tuple[tuple[str, str, How], ...]] = {}
    for c in outputs:
        if _match(c, passed):
            cols[c] = ((table, up(c), "identity"),)
        elif c.lower() in PREDICTED:
            cols[c] = tuple((table, up(f), "predicted") for f in learned)
    return ProductLineage(p.name, "column", tuple(outputs), cols)


def warm_lineage(project: Project, schemas: Mapping[str, Iterable[str]] | None = None
                 ) -> threading.Thread:
    """Start computing the project's lineage (and facts) into the cache on a thread of
    its own, yielding the interpreter after each product it analyses; join the thread
    before reading the lineage. Never raises: a failure only leaves the cache colder."""

    def work() -> None:
        # the run reads lineage again afterwards, and reports what fails then
        from steward.core.phases import timed
        from steward.sql.parse import keep_trees

        try:
            with contextlib.suppress(Exception), timed("lineage_beside_builds"):
                build_lineage(project, schemas, between=lambda: time.sleep(0))
        finally:
            keep_trees(False)  # what the load kept and no product took

    t = threading.Thread(target=work, name="steward-lineage", daemon=True)
    t.start()
    return t


def _known_columns(p: Product, pl: ProductLineage,
                   stored: tuple[str, ...] | None) -> tuple[str, ...] | None:
    if p.kind in ("sql", "model") and pl.level == "column" and pl.outputs is not None:
        return pl.outputs
    if p.kind == "sql" and p.outputs is not None:
        return p.outputs
    return stored or (tuple(p.spec.columns) or None) or pl.outputs


def _key(p: Product, inputs: Mapping[str, tuple[str, ...] | None],
         stored: tuple[str, ...] | None) -> str:
    own = list(stored or p.spec.columns) if p.kind != "sql" else None
    parts: list[Any] = [LINEAGE_VERSION, p.kind, p.normalized_code or p.code,
                        sorted((k, list(v) if v is not None else None)
                               for k, v in inputs.items()), own]
    if p.kind == "model":  # features, target, split: in the declaration, not the code
        parts.append(p.local_digest)  # (a scoring product's key has the model's columns)
    return digest(*parts)


def _read_cache(path: str) -> dict[str, Any]:
    import json  # (not orjson: its parse holds a document of twice the objects' size,
    # and this read happens where a run's memory peaks)

    try:
        with open(path, "rb") as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != LINEAGE_VERSION:
        return {}
    return data.get("products") or {}


def _write_cache(path: str, products: dict[str, Any]) -> None:
    import orjson

    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
        with open(tmp, "wb") as f:
            f.write(orjson.dumps({"version": LINEAGE_VERSION, "products": products}))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only project still answers, only slower next time


def _match(name: str, options: Iterable[str]) -> str | None:
    low = name.lower()
    return next((o for o in options if o.lower() == low), None)


# -- classification propagation -------------------------------------------------------
def propagate(project: Project, graph: LineageGraph) -> Classified:
    """Each column's classifications, declared or inherited through lineage.

    A column declaring ``classification`` (even ``[]``) keeps exactly what it declares;
    any other column inherits the union of the classifications of the input columns it
    comes from, through renames and expressions alike. A table-level product (lineage
    unresolved) inherits by column name, which still catches a ``SELECT *`` passthrough.

    Returns:
        ``(product, column) -> (classes, via)`` for every column with a classification;
        ``via`` is None when declared on the column itself, else the ``product.column``
        where the classification was declared (the first, when several).
    """
    out: Classified = {}
    origins: dict[tuple[str, str], dict[str, str]] = {}
    order = Dag.build({n: p.inputs for n, p in project.products.items()}).topological()
    for name in order:
        p = project.products[name]
        pl = graph.products.get(name)
        cols = list(graph.columns.get(name) or ())
        for c in p.spec.columns:
            if _match(c, cols) is None:
                cols.append(c)
        for c in cols:
            spec_name = _match(c, p.spec.columns)
            spec = p.spec.columns.get(spec_name) if spec_name else None
            if spec is not None and "classification" in spec.model_fields_set:
                if spec.classification:
                    out[(name, c)] = (tuple(spec.classification), None)
                    origins[(name, c.lower())] = {k: f"{name}.{c}" for k in spec.classification}
                continue
            edges: Iterable[tuple[str, str, Any]] = pl.columns.get(c, ()) if pl else ()
            if pl is not None and pl.level == "table" and p.kind == "sql":
                edges = [(i, real, "name") for i in p.inputs
                         for real in [_match(c, graph.columns.get(i) or ())] if real]
            got: dict[str, str] = {}
            for up, upc, how in edges:
                if how == "predicted":  # a prediction is not the data it learned from
                    continue
                for cls, origin in origins.get((up, upc.lower()), {}).items():
                    got.setdefault(cls, origin)
            if got:
                origins[(name, c.lower())] = got
                via = sorted(set(got.values()))
                out[(name, c)] = (tuple(sorted(got)), via[0])
    return out


def propagated_classifications(project: Project,
                               schemas: Mapping[str, Iterable[str]] | None = None) -> Classified:
    """Classifications of every column of ``project``, propagated along column lineage.

    The public entry point for other areas (compliance, OpenLineage). Uses the lineage
    cache, so a second call on an unchanged project parses nothing.

    Args:
        project: the loaded project.
        schemas: optional product -> columns of its current version.

    Returns:
        ``(product, column) -> (classes, via)``; ``via`` is None for a declared
        classification, else the ``product.column`` it was inherited from.
    """
    return propagate(project, build_lineage(project, schemas))
