"""``steward catalog show PRODUCT``: everything a consumer needs to trust a product."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from typing import Any

from steward.catalog.lineage import Classified, LineageGraph
from steward.catalog.owners import owner_of
from steward.core.durations import parse_duration
from steward.core.glossary import Glossary
from steward.core.model import Product, Project


@dataclass
class ColumnCard:
    name: str
    type: str | None
    description: str | None
    glossary: str | None
    classification: tuple[str, ...]
    via: str | None  # where a propagated classification comes from
    upstream: list[str] = field(default_factory=list)  # "product.column (how)"

    @property
    def classification_text(self) -> str:
        if not self.classification:
            return ""
        return ",".join(self.classification) + (f" via {self.via}" if self.via else "")


@dataclass
class Card:
    """A product's catalog card."""

    name: str
    kind: str
    description: str | None
    owner: str | None
    owner_is_default: bool
    domain: str
    tags: tuple[str, ...]
    file: str  # the code (a .sql or .py file) or, for a source, its declaration
    meta_file: str | None  # the sidecar YAML holding the metadata, when there is one
    columns: list[ColumnCard]
    upstream: list[str]
    downstream: list[str]
    lineage_level: str
    lineage_note: str | None
    versions: dict[str, dict[str, Any]]  # env -> version summary
    checks: list[dict[str, Any]]  # of the current version in the default env
    last_step: dict[str, Any] | None
    freshness: dict[str, Any] | None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = plain_copy(self)
        for c, col in zip(d["columns"], self.columns, strict=True):
            c["classification_text"] = col.classification_text
        return d


_SAME = frozenset({str, int, float, bool, type(None), datetime})


def plain_copy(value: Any) -> Any:
    """What :func:`dataclasses.asdict` makes of ``value`` (dataclasses as dicts, every
    list, tuple and dict copied), without its deep copy of each value that cannot change
    (text, numbers, times): a card's document is made on every first view of it."""
    t = type(value)
    if t in _SAME:
        return value
    if t is list:
        return [plain_copy(v) for v in value]
    if t is dict:
        return {plain_copy(k): plain_copy(v) for k, v in value.items()}
    if t is tuple:
        return tuple(plain_copy(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain_copy(getattr(value, f.name)) for f in fields(value)}
    return copy.deepcopy(value)  # anything else, as asdict copies it


def build_card(project: Project, product: Product, graph: LineageGraph, classes: Classified,
               metastore: Any | None = None, env: str | None = None,
               now: datetime | None = None, downstream: list[str] | None = None,
               results: Any = None) -> Card:
    """Assemble the card from the declaration, the lineage and (if given) the metastore.

    ``downstream`` (the products reading this one) and ``results`` (version id -> its
    stored check results) save a caller that already has them a scan and a query.
    """
    glossary: Glossary = project.glossary
    name = product.name
    pl = graph.products.get(name)
    owner, is_default = owner_of(project, product)
    versions: dict[str, dict[str, Any]] = {}
    checks: list[dict[str, Any]] = []
    last_step = None
    stored_types: dict[str, str] = {}
    current = None
    if metastore is not None:
        for e in metastore.environments():
            vid = metastore.pointer_map(e["name"]).get(name)
            if vid is None:
                continue
            v = metastore.version(vid)
            versions[e["name"]] = {"version": v.id, "built_at": v.created_at,
                                   "rows": v.row_count, "checks": v.check_status}
            if e["name"] == env:
                current = v
        if current is not None:
            stored_types = {c.name: c.type for c in current.schema}
            checks = _checks(metastore, current.id) if results is None else [
                {"name": r.name, "status": r.status, "severity": r.severity,
                 "message": r.message} for r in _ordered(results.get(current.id, []))]
        steps = metastore.steps(product=name, limit=1)
        if steps:
            s = steps[0]
            last_step = {"run": s.run_id, "status": s.status, "at": s.started_at,
                         "error": (s.error or "").splitlines()[0] if s.error else None}
    cols: list[ColumnCard] = []
    names = list(graph.columns.get(name) or ())
    names += [c for c in product.spec.columns if c.lower() not in {n.lower() for n in names}]
    for c in names:
        spec = product.spec.columns.get(c)
        cls, via = classes.get((name, c), ((), None))
        term = spec.glossary if spec else None
        desc = spec.description if spec and spec.description else (
            glossary.terms[term].definition if term and term in glossary.terms else None)
        ups = [f"{u}.{uc}" + (f" ({how})" if how != "identity" else "")
               for u, uc, how in graph.upstream(name, c)]
        cols.append(ColumnCard(c, (spec.type if spec and spec.type else None)
                               or stored_types.get(c), desc, term, cls, via, ups))
    kids = sorted(n for n, p in project.products.items() if name in p.inputs) \
        if downstream is None else sorted(downstream)
    return Card(
        name=name, kind=product.kind, description=product.spec.description, owner=owner,
        owner_is_default=is_default, domain=product.domain, tags=tuple(product.tags),
        file=product.file, meta_file=product.meta_file if product.meta_file != product.file
        else None, columns=cols, upstream=list(product.inputs),
        downstream=kids, lineage_level=pl.level if pl else "unknown",
        lineage_note=pl.reason if pl else None, versions=versions, checks=checks,
        last_step=last_step, freshness=_freshness(product, current, now),
    )


def _checks(metastore: Any, version_id: str) -> list[dict[str, Any]]:
    try:
        from steward.meta.checks import results_for
    except ImportError:  # the quality area is optional to the card
        return []
    try:
        results = results_for(metastore, version_id)
    except Exception:  # an older metastore without the table: the card still shows
        return []
    return [{"name": r.name, "status": r.status, "severity": r.severity,
             "message": r.message} for r in results]


def _ordered(results: list[Any]) -> list[Any]:
    """Results in the order ``results_for`` gives them: errors and failures first."""
    order = {"error": 0, "fail": 1, "pass": 2}
    return sorted(results, key=lambda r: (order.get(r.status, 3), r.severity != "error",
                                          r.name))


def _freshness(product: Product, version: Any, now: datetime | None) -> dict[str, Any] | None:
    """Age of the current version against the product's freshness SLO (by build time)."""
    if version is None or version.created_at is None:
        return None
    now = now or datetime.now(UTC)
    age = (now - version.created_at).total_seconds()
    slo = product.spec.freshness
    status = "ok"
    if slo is not None:
        if slo.error_after and age > parse_duration(slo.error_after):
            status = "error"
        elif slo.warn_after and age > parse_duration(slo.warn_after):
            status = "warn"
    return {"built_at": version.created_at, "age_s": round(age, 1), "status": status,
            "warn_after": slo.warn_after if slo else None,
            "error_after": slo.error_after if slo else None}
