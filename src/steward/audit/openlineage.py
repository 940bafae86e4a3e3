"""OpenLineage events for each run, as plain JSON documents of spec 2-0-2.

Shape (documented in ``docs/compliance.md``): one OpenLineage *job per product*, named
after the product, whose runs are children (``parent`` facet) of one job per Steward run
(``steward.run``). For a run we emit, in order: the parent's START, then for every
product actually executed (built or failed; reused versions ran nothing) a START and a
COMPLETE or FAIL, then the parent's COMPLETE or FAIL. Events are produced from what the
metastore recorded once the run has finished, with the recorded start and end times, so
they can also be replayed for any past run (``steward openlineage emit RUN``).

Facets: output dataset — ``schema``, ``columnLineage`` (column level from the catalog's
lineage when given, else every output column from every input), ``ownership``,
``documentation``, ``datasetVersion``, ``dataQualityMetrics`` (row count, bytes, nulls,
distinct, min/max from the stored profile), ``dataQualityAssertions`` (stored check
results) and ``outputStatistics``; input datasets carry their ``schema``,
``datasetVersion`` and the ``dataQualityMetrics`` / ``dataQualityAssertions`` input
facets of the version read; the job carries ``jobType``, ``ownership``, ``documentation``
and ``sql``; a failed run carries ``errorMessage``.

Why dicts and not the client's classes: a 1,000-product build emits about 2,000 events,
and the ``openlineage-python`` classes (attrs with URL validators on every facet, then
``Serde``'s recursive null stripping) cost seconds for them, and importing the client
alone half a second. The documents here are exactly what those classes serialise to:
every key the classes fill by default is present, no value is ``None``, and the facet
schema URLs are the ones of the client version pinned in ``pyproject.toml``. The tests
rebuild every emitted event through the official classes and compare the serialisations,
so a drift from the spec (or a client upgrade that moves a facet version) fails a test.
All metastore reads for a run are batched: one query per kind (versions, check results,
profiles), not one per product.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from steward.audit.ol_columns import SqlFacts, direct_subtype, indirect_fields, sql_facts
from steward.audit.ol_emit import Emitter
from steward.core.model import Product, Project
from steward.core.records import Run, Step, Version
from steward.meta.store import Metastore
from steward.sql.parse import DIALECT

PRODUCER = "https://pypi.org/project/datasteward/"
PARENT_JOB = "steward.run"
EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"

_SPEC = "https://openlineage.io/spec/facets/"
# facet -> its schema URL, as the client classes (openlineage-python 1.x) set ``_schemaURL``
FACET_SCHEMAS = {
    name: f"{_SPEC}{version}/{doc}.json#/$defs/{doc}" for name, (version, doc) in {
        "parent": ("1-2-0", "ParentRunFacet"),
        "processing_engine": ("1-1-1", "ProcessingEngineRunFacet"),
        "errorMessage": ("1-0-1", "ErrorMessageRunFacet"),
        "jobType": ("2-0-4", "JobTypeJobFacet"),
        "sql": ("1-1-0", "SQLJobFacet"),
        "documentation_job": ("1-1-0", "DocumentationJobFacet"),
        "ownership_job": ("1-0-1", "OwnershipJobFacet"),
        "documentation": ("1-1-0", "DocumentationDatasetFacet"),
        "ownership": ("1-0-1", "OwnershipDatasetFacet"),
        "schema": ("1-2-0", "SchemaDatasetFacet"),
        "datasetVersion": ("1-0-1", "DatasetVersionDatasetFacet"),
        "columnLineage": ("1-2-0", "ColumnLineageDatasetFacet"),
        "dataQualityMetrics": ("1-0-1", "DataQualityMetricsDatasetFacet"),
        "dataQualityMetrics_input": ("1-0-3", "DataQualityMetricsInputDatasetFacet"),
        "dataQualityAssertions": ("1-1-0", "DataQualityAssertionsDatasetFacet"),
        "outputStatistics": ("1-0-2", "OutputStatisticsOutputDatasetFacet"),
    }.items()}

# the quantiles a stored profile holds (steward.profile.compute.QUANTILES), in order
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
# the namespace of a local file, a file source's input dataset (name: its absolute path)
FILE_NAMESPACE = "file://"

# product -> output column -> ((input product, input column, how), ...)
ColumnLineage = Mapping[str, Mapping[str, Sequence[tuple[str, str, str]]]]
Doc = dict[str, Any]


def run_uuid(*parts: str) -> str:
    """A stable UUID for a Steward run (or one product's step in it): re-emitting a run
    produces the same run ids, so a consumer de-duplicates instead of double counting."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "steward:" + ":".join(parts)))


def _iso(d: datetime | None) -> str:
    d = d or datetime.now(UTC)
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).isoformat()


@contextmanager
def _no_gc() -> Iterator[None]:
    """Pause the cyclic collector while thousands of small, acyclic dicts are made: its
    passes over the whole heap otherwise cost about a third of the emission time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _facet(kind: str, **fields: Any) -> Doc:
    """A facet document: its fields without ``None`` values, plus producer and schema."""
    for k in [k for k, v in fields.items() if v is None]:
        del fields[k]
    fields["_producer"] = PRODUCER
    fields["_schemaURL"] = FACET_SCHEMAS[kind]
    return fields


def _ref(namespace: str, name: str) -> Doc:
    return {"namespace": namespace, "name": name, "facets": {}}


_CHECK_ORDER = {"error": 0, "fail": 1, "pass": 2}


class EventBuilder:
    """Builds the RunEvents of one recorded Steward run, as JSON-ready dicts."""

    def __init__(self, project: Project, metastore: Metastore, namespace: str,
                 column_lineage: ColumnLineage | None = None,
                 lineage_level: Mapping[str, str] | None = None,
                 facts: Mapping[str, SqlFacts] | None = None):
        self.project = project
        self.ms = metastore
        self.ns = namespace
        self.column_lineage = column_lineage or {}
        self.lineage_level = lineage_level or {}
        # each SQL product's facts, from the lineage pass's parse (else parsed here)
        self.facts = facts or {}
        self._versions: dict[str, Version] = {}
        self._checks: dict[str, list[Any]] = {}
        self._profiles: dict[str, dict[str, Any]] = {}
        self._schemas: dict[str, Doc | None] = {}
        self._metric_docs: dict[tuple[str, bool], Doc] = {}
        self._assertion_docs: dict[str, Doc | None] = {}
        self._jobs: dict[str, Doc] = {}
        self._dataset_facets: dict[str, Doc] = {}
        self._version_facets: dict[str, Doc] = {}
        self._run_facets_base: dict[str, Doc] = {}
        self._file_docs: dict[str, list[Doc]] = {}

    # -- data from the metastore, read once per run ------------------------------------
    def load(self, version_ids: Sequence[str]) -> None:
        """Read the versions the run built, the versions they read, and their check
        results and profiles: one query per kind for the whole run."""
        from steward.meta import audit as q

        self._versions.update(q.versions_by_id(self.ms, [v for v in version_ids
                                                         if v not in self._versions]))
        inputs = {i for vid in version_ids if (v := self._versions.get(vid)) is not None
                  for i in v.inputs.values()}
        missing = [i for i in inputs if i and i not in self._versions]
        if missing:
            self._versions.update(q.versions_by_id(self.ms, missing))
        ids = [i for i in self._versions if i not in self._checks]
        try:
            from steward.meta.checks import results_for_versions

            found = results_for_versions(self.ms, ids)
        except Exception:  # no quality area, or no check_results table yet
            found = {}
        for i in ids:
            self._checks[i] = sorted(found.get(i, ()), key=lambda r: (
                _CHECK_ORDER.get(r.status, 3), r.severity != "error", r.name))
        with contextlib.suppress(Exception):  # no profile area, or no profiles table yet
            # only what the metrics facet reads: a stored profile also holds CDF knots and
            # histograms, which a thousand versions would keep in memory for nothing
            self._profiles.update(q.profile_docs(self.ms, ids, _metric_fields))

    def _version(self, vid: str | None) -> Version | None:
        if not vid:
            return None
        if vid not in self._versions:
            self.load([vid])
        return self._versions.get(vid)

    # -- facets ------------------------------------------------------------------------
    def _schema(self, product: Product | None, v: Version) -> Doc | None:
        # an upstream version is read by many products: build its facet once
        key = v.id
        if key not in self._schemas:
            if not v.schema:
                self._schemas[key] = None
            else:
                docs = product.spec.columns if product else {}
                fields = []
                for i, c in enumerate(v.schema):
                    f: Doc = {"name": c.name, "type": c.type, "ordinal_position": i + 1,
                              "fields": []}
                    spec = docs.get(c.name)
                    if spec is not None and spec.description is not None:
                        f["description"] = spec.description
                    if c.type is None:
                        del f["type"]
                    fields.append(f)
                self._schemas[key] = _facet("schema", fields=fields)
        return self._schemas[key]

    def _owners(self, product: Product) -> list[Doc] | None:
        owner = product.owner or self.project.spec.defaults.owner
        return [{"name": owner, "type": "OWNER"}] if owner else None

    def _metrics(self, v: Version, as_input: bool) -> Doc:
        key = (v.id, as_input)
        if key in self._metric_docs:
            return self._metric_docs[key]
        prof = self._profiles.get(v.id) or {}
        cols: dict[str, Any] = {}
        for name, p in (prof.get("columns") or {}).items():
            numeric = p.get("kind") in ("numeric", "float")
            m: Doc = {"quantiles": {}}
            if p.get("nulls") is not None:
                m["nullCount"] = p["nulls"]
            if p.get("distinct") is not None:
                m["distinctCount"] = p["distinct"]
            if p.get("count") is not None:
                m["count"] = float(p["count"])
            if numeric and p.get("min") is not None:
                m["min"] = float(p["min"])
            if numeric and p.get("max") is not None:
                m["max"] = float(p["max"])
            qs = p.get("quantiles") if numeric else None
            if qs and len(qs) == len(QUANTILES):
                m["quantiles"] = {str(q): float(x) for q, x in zip(QUANTILES, qs, strict=True)
                                  if x is not None}
            cols[name] = m
        doc = _facet("dataQualityMetrics_input" if as_input else "dataQualityMetrics",
                     columnMetrics=cols, rowCount=v.row_count, bytes=v.bytes,
                     lastUpdated=_iso(v.created_at))
        self._metric_docs[key] = doc
        return doc

    def _assertions(self, vid: str) -> Doc | None:
        if vid not in self._assertion_docs:
            results = self._checks.get(vid)
            if results is None:
                self.load([vid])
                results = self._checks.get(vid, [])
            doc = None
            if results:
                items = []
                for r in results:
                    a: Doc = {"assertion": r.type, "success": r.status == "pass",
                              "params": {}}
                    for k, val in (("column", r.column), ("severity", r.severity),
                                   ("name", r.name), ("description", r.message or None),
                                   ("actual", None if r.observed is None
                                    else str(r.observed))):
                        if val is not None:
                            a[k] = val
                    items.append(a)
                doc = _facet("dataQualityAssertions", assertions=items)
            self._assertion_docs[vid] = doc
        return self._assertion_docs[vid]

    def _column_lineage(self, product: Product, v: Version) -> Doc | None:
        outputs = [c.name for c in v.schema]
        if not outputs or not product.inputs:
            return None
        ns = self.ns

        def field(up: str, col: str) -> Doc:
            return {"namespace": ns, "name": up, "field": col, "transformations": []}

        known = self.column_lineage.get(product.name)
        facts = self.facts.get(product.name)
        if facts is None:
            facts = (sql_facts(product.code, tuple(product.inputs))
                     if product.kind == "sql" and product.code else SqlFacts())
        fields: dict[str, Any] = {}
        if known and self.lineage_level.get(product.name, "column") == "column":
            for col in outputs:
                edges = known.get(col) or next(
                    (e for c, e in known.items() if c.lower() == col.lower()), ())
                if edges:
                    ins = []
                    for up, upc, how in edges:
                        f = field(up, upc)
                        f["transformations"] = [{"type": "DIRECT", "subtype": direct_subtype(
                            how, col, up, upc, facts)}]
                        ins.append(f)
                    doc: Doc = {"inputFields": ins, "transformationDescription": ", ".join(
                        sorted({h for *_x, h in edges}))}
                    if all(h == "identity" for *_x, h in edges):
                        doc["transformationType"] = "IDENTITY"
                    fields[col] = doc
                elif col.lower() in facts.columnless:  # count(*): rows, not a column
                    ins = indirect_fields(facts, ns, ("GROUP_BY", "FILTER", "JOIN"))
                    if ins:
                        fields[col] = {"inputFields": ins,
                                       "transformationDescription": "aggregate of rows"}
            return _facet("columnLineage", fields=fields,
                          dataset=indirect_fields(facts, ns))
        # Table level only: every output column may depend on every input column.
        ins = []
        for i in product.inputs:
            iv = self._version(v.inputs.get(i))
            ins += [field(i, c.name) for c in (iv.schema if iv else ())]
        for col in outputs:
            fields[col] = {"inputFields": ins,
                           "transformationDescription": "table-level lineage only"}
        return _facet("columnLineage", fields=fields, dataset=indirect_fields(facts, ns))

    def _files(self, product: Product) -> list[Doc]:
        """A file source's files, as input datasets (``file://`` and the absolute path,
        or ``s3://bucket`` and the key)."""
        if product.kind != "file":
            return []
        if product.name not in self._file_docs:
            from steward.project.files import resolve_paths

            try:
                paths = resolve_paths(product.spec_dump["path"], self.project.root)
            except (ImportError, ValueError, OSError):
                paths = []
            docs = []
            for path in sorted(paths):
                if "://" in path:
                    scheme, _, rest = path.partition("://")
                    host, _, key = rest.partition("/")
                    docs.append(_ref(f"{scheme}://{host}", key))
                else:
                    docs.append(_ref(FILE_NAMESPACE, os.path.abspath(path)))
            self._file_docs[product.name] = docs
        return [{**d, "inputFacets": {}} for d in self._file_docs[product.name]]

    # -- datasets, jobs, events ----------------------------------------------------------
    def _output(self, product: Product, v: Version | None, final: bool) -> Doc:
        base = self._dataset_facets.get(product.name)
        if base is None:
            base = self._dataset_facets[product.name] = {}
            if product.spec.description:
                base["documentation"] = _facet("documentation",
                                               description=product.spec.description)
            if (owners := self._owners(product)) is not None:
                base["ownership"] = _facet("ownership", owners=owners)
        facets: Doc = dict(base)
        out_facets: Doc = {}
        if final and v is not None and v.schema:
            facets["schema"] = self._schema(product, v)
            facets["datasetVersion"] = self._dataset_version(v.id)
            if (cl := self._column_lineage(product, v)) is not None:
                facets["columnLineage"] = cl
            facets["dataQualityMetrics"] = self._metrics(v, as_input=False)
            if (dq := self._assertions(v.id)) is not None:
                facets["dataQualityAssertions"] = dq
            out_facets["outputStatistics"] = _facet("outputStatistics",
                                                    rowCount=v.row_count, size=v.bytes)
        return {"namespace": self.ns, "name": product.name, "facets": facets,
                "outputFacets": out_facets}

    def _dataset_version(self, vid: str) -> Doc:
        doc = self._version_facets.get(vid)
        if doc is None:
            doc = self._version_facets[vid] = _facet("datasetVersion", datasetVersion=vid)
        return doc

    def _inputs(self, product: Product, v: Version | None, final: bool) -> list[Doc]:
        out = []
        for name in product.inputs:
            iv = self._version(v.inputs.get(name)) if v else None
            facets: Doc = {}
            in_facets: Doc = {}
            if iv is not None:
                if (schema := self._schema(self.project.products.get(name), iv)) is not None:
                    facets["schema"] = schema
                facets["datasetVersion"] = self._dataset_version(iv.id)
                if final:
                    in_facets["dataQualityMetrics"] = self._metrics(iv, as_input=True)
                    if (dq := self._assertions(iv.id)) is not None:
                        in_facets["dataQualityAssertions"] = dq
            out.append({"namespace": self.ns, "name": name, "facets": facets,
                        "inputFacets": in_facets})
        return out + self._files(product)

    def _job(self, product: Product) -> Doc:
        if product.name in self._jobs:
            return self._jobs[product.name]
        kind = {"sql": "QUERY", "python": "PYTHON", "file": "SOURCE",
                "python_source": "SOURCE", "database_source": "SOURCE",
                "model": "ML_TRAINING"}[product.kind]
        facets: Doc = {"jobType": _facet("jobType", processingType="BATCH",
                                         integration="STEWARD", jobType=kind)}
        if product.kind == "sql" and product.code:
            facets["sql"] = _facet("sql", query=product.code, dialect=DIALECT)
        if product.spec.description:
            facets["documentation"] = _facet("documentation_job",
                                             description=product.spec.description)
        if (owners := self._owners(product)) is not None:
            facets["ownership"] = _facet("ownership_job", owners=owners)
        job = self._jobs[product.name] = {"namespace": self.ns, "name": product.name,
                                          "facets": facets}
        return job

    def _run_facets(self, run: Run, extra: Doc) -> Doc:
        base = self._run_facets_base.get(run.id)
        if base is None:  # the same for every product of the run
            from steward import __version__

            parent_run = {"runId": run_uuid(run.id), "facets": {}}
            base = self._run_facets_base[run.id] = {
                "parent": _facet(
                    "parent", run=parent_run, job=_ref(self.ns, PARENT_JOB),
                    root={"run": parent_run, "job": _ref(self.ns, PARENT_JOB)}),
                "processing_engine": _facet(
                    "processing_engine", version=__version__, name="steward",
                    openlineageAdapterVersion=_client_version()),
            }
        return {**base, **extra}

    @staticmethod
    def _event(event_type: str, time: str, run: Doc, job: Doc, inputs: list[Doc],
               outputs: list[Doc]) -> Doc:
        return {"eventTime": time, "producer": PRODUCER, "schemaURL": EVENT_SCHEMA,
                "eventType": event_type, "run": run, "job": job, "inputs": inputs,
                "outputs": outputs}

    def events(self, run: Run, steps: Sequence[Step]) -> list[Doc]:
        """Every RunEvent of one recorded run, in emission order (JSON-ready dicts)."""
        with _no_gc():
            return list(self.iter_events(run, steps))

    def iter_events(self, run: Run, steps: Sequence[Step]) -> Iterator[Doc]:
        """The events of :meth:`events`, one at a time (a run's events need not all be
        in memory at once: 2,000 of them are tens of megabytes as dicts)."""
        executed = [s for s in steps if s.status in ("built", "failed")
                    and s.product in self.project.products]
        parent_job = {"namespace": self.ns, "name": PARENT_JOB, "facets": {
            "jobType": _facet("jobType", processingType="BATCH", integration="STEWARD",
                              jobType="DAG")}}
        parent_run = run_uuid(run.id)
        yield self._event("START", _iso(run.started_at), {"runId": parent_run, "facets": {}},
                          parent_job, [], [])
        for i, step in enumerate(executed):
            if i % STEPS_PER_READ == 0:  # what the next steps need, a few hundred at a time
                # (the documents made per version go too: an input read again later is
                # loaded again, and a run's memory peaks here)
                for cache in (self._versions, self._checks, self._profiles,
                              self._schemas, self._metric_docs, self._assertion_docs,
                              self._version_facets):
                    cache.clear()
                self.load([s.version_id for s in executed[i:i + STEPS_PER_READ]
                           if s.version_id])
            name = step.product
            product = self.project.products[name]
            v = self._version(step.version_id)
            rid = run_uuid(run.id, name)
            job = self._job(product)
            start = step.started_at or run.started_at
            end = start + timedelta(seconds=step.duration_s or 0.0)
            yield self._event(
                "START", _iso(start), {"runId": rid, "facets": self._run_facets(run, {})},
                job, self._inputs(product, v, final=False),
                [self._output(product, v, final=False)])
            extra: Doc = {}
            if step.status == "failed":
                extra["errorMessage"] = _facet(
                    "errorMessage", message=(step.error or "failed").splitlines()[0][:2000],
                    programmingLanguage="SQL" if product.kind == "sql" else "PYTHON",
                    stackTrace=step.error)
            yield self._event(
                "COMPLETE" if step.status == "built" else "FAIL", _iso(end),
                {"runId": rid, "facets": self._run_facets(run, extra)}, job,
                self._inputs(product, v, final=True), [self._output(product, v, final=True)])
        ok = run.status == "success"
        yield self._event("COMPLETE" if ok else "FAIL", _iso(run.finished_at),
                          {"runId": parent_run, "facets": {}}, parent_job, [], [])


STEPS_PER_READ = 100  # steps whose versions, checks and profiles are read at once


_METRIC_FIELDS = ("kind", "nulls", "distinct", "count", "min", "max", "quantiles")


def _metric_fields(doc: Doc) -> Doc:
    """The parts of a stored profile the ``dataQualityMetrics`` facets use."""
    return {"columns": {name: {k: p[k] for k in _METRIC_FIELDS if k in p}
                        for name, p in (doc.get("columns") or {}).items()}}


@functools.cache
def _client_version() -> str:
    try:
        from importlib.metadata import version

        return version("openlineage-python")
    except Exception:
        return "unknown"


def emit_run(project: Project, metastore: Metastore, root: str, run_id: str,
             column_lineage: Callable[[], tuple[Any, ...] | None] | None = None,
             keep: bool = True) -> tuple[list[Any], list[str]]:
    """Build and send the events of recorded run ``run_id``; returns (events, problems).

    With ``keep=False`` each event is written and dropped (the list returned is empty).
    """
    spec = project.spec.openlineage
    if not spec.enabled:
        return [], []
    run = metastore.run(run_id)
    steps = metastore.steps(run_id=run.id)
    order = {n: i for i, n in enumerate(project.products)}
    steps = sorted(steps, key=lambda s: (s.started_at or run.started_at, order.get(s.product, 0)))
    cl = None
    if column_lineage is not None:
        try:
            with _no_gc():  # (thousands of small tuples too: the same pause)
                cl = column_lineage()
        except Exception:  # lineage is best effort: fall back to table level
            cl = None
    # (columns, levels) or (columns, levels, facts): see Context.column_lineage
    builder = EventBuilder(project, metastore, spec.namespace or project.name,
                           cl[0] if cl else None, cl[1] if cl else None,
                           cl[2] if cl and len(cl) > 2 else None)
    events: list[Any] = []
    with _no_gc():  # one pause for building and writing (see _no_gc)
        problems = Emitter(spec, root).emit(builder.iter_events(run, steps),
                                            events if keep else None)
    return events, problems
