"""OpenLineage events for each run, built with the official client's classes (spec 2-0-2).

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
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from steward.core.model import Product, Project
from steward.core.records import Run, Step, Version
from steward.core.spec import OpenLineageSpec
from steward.meta.store import Metastore

PRODUCER = "https://pypi.org/project/datasteward/"
PARENT_JOB = "steward.run"

# product -> output column -> ((input product, input column, how), ...)
ColumnLineage = Mapping[str, Mapping[str, Sequence[tuple[str, str, str]]]]


def run_uuid(*parts: str) -> str:
    """A stable UUID for a Steward run (or one product's step in it): re-emitting a run
    produces the same run ids, so a consumer de-duplicates instead of double counting."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "steward:" + ":".join(parts)))


def _iso(d: datetime | None) -> str:
    d = d or datetime.now(UTC)
    return (d if d.tzinfo else d.replace(tzinfo=UTC)).isoformat()


class EventBuilder:
    """Builds the RunEvents of one recorded Steward run."""

    def __init__(self, project: Project, metastore: Metastore, namespace: str,
                 column_lineage: ColumnLineage | None = None,
                 lineage_level: Mapping[str, str] | None = None):
        self.project = project
        self.ms = metastore
        self.ns = namespace
        self.column_lineage = column_lineage or {}
        self.lineage_level = lineage_level or {}
        self._versions: dict[str, Version] = {}
        self._check_cache: dict[str, list[Any]] = {}
        self._profile_cache: dict[str, dict[str, Any] | None] = {}
        from openlineage.client.generated.base import set_producer

        # facets name their producer too; they are ours, not the client library's
        set_producer(PRODUCER)

    # -- data from the metastore -----------------------------------------------------
    def _version(self, vid: str | None) -> Version | None:
        if not vid:
            return None
        if vid not in self._versions:
            try:
                self._versions[vid] = self.ms.version(vid)
            except Exception:
                return None
        return self._versions[vid]

    def _checks(self, vid: str) -> list[Any]:
        if vid in self._check_cache:
            return self._check_cache[vid]
        got: list[Any] = []
        try:
            from steward.meta.checks import results_for

            got = list(results_for(self.ms, vid))
        except Exception:  # no quality area, or no check_results table yet
            got = []
        self._check_cache[vid] = got
        return got

    def _profile(self, vid: str) -> dict[str, Any] | None:
        # an upstream version is read by many products: load its profile once
        if vid not in self._profile_cache:
            try:
                from steward.meta.profiles import load_profile

                self._profile_cache[vid] = load_profile(self.ms, vid)
            except Exception:  # no profile area, or no profiles table yet
                self._profile_cache[vid] = None
        return self._profile_cache[vid]

    # -- facets ------------------------------------------------------------------------
    def _schema(self, product: Product | None, v: Version | None) -> Any:
        from openlineage.client.generated.schema_dataset import (
            SchemaDatasetFacet,
            SchemaDatasetFacetFields,
        )

        if v is None or not v.schema:
            return None
        docs = product.spec.columns if product else {}
        return SchemaDatasetFacet(fields=[
            SchemaDatasetFacetFields(name=c.name, type=c.type,
                                     description=docs[c.name].description
                                     if c.name in docs else None, ordinal_position=i + 1)
            for i, c in enumerate(v.schema)])

    def _owner(self, product: Product, job: bool = False) -> Any:
        owner = product.owner or self.project.spec.defaults.owner
        if not owner:
            return None
        if job:
            from openlineage.client.generated.ownership_job import Owner, OwnershipJobFacet

            return OwnershipJobFacet(owners=[Owner(name=owner, type="OWNER")])
        from openlineage.client.generated.ownership_dataset import (
            Owner as DOwner,
        )
        from openlineage.client.generated.ownership_dataset import (
            OwnershipDatasetFacet,
        )

        return OwnershipDatasetFacet(owners=[DOwner(name=owner, type="OWNER")])

    def _metrics(self, v: Version, as_input: bool) -> Any:
        from openlineage.client.generated import data_quality_metrics_dataset as dm
        from openlineage.client.generated import data_quality_metrics_input_dataset as dmi

        mod = dmi if as_input else dm
        prof = self._profile(v.id) or {}
        cols: dict[str, Any] = {}
        for name, p in (prof.get("columns") or {}).items():
            numeric = p.get("kind") in ("numeric", "float")
            cols[name] = mod.ColumnMetrics(
                nullCount=p.get("nulls"), distinctCount=p.get("distinct"),
                count=float(p["count"]) if p.get("count") is not None else None,
                min=float(p["min"]) if numeric and p.get("min") is not None else None,
                max=float(p["max"]) if numeric and p.get("max") is not None else None)
        cls = (mod.DataQualityMetricsInputDatasetFacet if as_input
               else mod.DataQualityMetricsDatasetFacet)
        return cls(columnMetrics=cols, rowCount=v.row_count, bytes=v.bytes,
                   fileCount=None, lastUpdated=_iso(v.created_at))

    def _assertions(self, vid: str) -> Any:
        from openlineage.client.generated.data_quality_assertions_dataset import (
            Assertion,
            DataQualityAssertionsDatasetFacet,
        )

        results = self._checks(vid)
        if not results:
            return None
        return DataQualityAssertionsDatasetFacet(assertions=[
            Assertion(assertion=r.type, success=r.status == "pass", column=r.column,
                      severity=r.severity, name=r.name, description=r.message or None,
                      actual=None if r.observed is None else str(r.observed))
            for r in results])

    def _column_lineage(self, product: Product, v: Version) -> Any:
        from openlineage.client.generated.column_lineage_dataset import (
            ColumnLineageDatasetFacet,
            Fields,
            InputField,
        )

        outputs = [c.name for c in v.schema]
        if not outputs or not product.inputs:
            return None
        known = self.column_lineage.get(product.name)
        fields: dict[str, Any] = {}
        if known and self.lineage_level.get(product.name, "column") == "column":
            for col in outputs:
                edges = known.get(col) or next(
                    (e for c, e in known.items() if c.lower() == col.lower()), ())
                if edges:
                    fields[col] = Fields(
                        inputFields=[InputField(namespace=self.ns, name=up, field=upc)
                                     for up, upc, _how in edges],
                        transformationType="IDENTITY" if all(h == "identity"
                                                              for *_x, h in edges) else None,
                        transformationDescription=", ".join(sorted({h for *_x, h in edges})))
            return ColumnLineageDatasetFacet(fields=fields)
        # Table level only: every output column may depend on every input column.
        ins = []
        for i in product.inputs:
            iv = self._version(v.inputs.get(i))
            ins += [InputField(namespace=self.ns, name=i, field=c.name)
                    for c in (iv.schema if iv else ())]
        for col in outputs:
            fields[col] = Fields(inputFields=ins,
                                 transformationDescription="table-level lineage only")
        return ColumnLineageDatasetFacet(fields=fields)

    # -- datasets, jobs, events ----------------------------------------------------------
    def _output(self, product: Product, v: Version | None, final: bool) -> Any:
        from openlineage.client.event_v2 import OutputDataset
        from openlineage.client.generated.dataset_version_dataset import (
            DatasetVersionDatasetFacet,
        )
        from openlineage.client.generated.documentation_dataset import (
            DocumentationDatasetFacet,
        )
        from openlineage.client.generated.output_statistics_output_dataset import (
            OutputStatisticsOutputDatasetFacet,
        )

        facets: dict[str, Any] = {}
        out_facets: dict[str, Any] = {}
        if product.spec.description:
            facets["documentation"] = DocumentationDatasetFacet(
                description=product.spec.description)
        if (owner := self._owner(product)) is not None:
            facets["ownership"] = owner
        if final and v is not None and v.schema:
            facets["schema"] = self._schema(product, v)
            facets["datasetVersion"] = DatasetVersionDatasetFacet(datasetVersion=v.id)
            if (cl := self._column_lineage(product, v)) is not None:
                facets["columnLineage"] = cl
            facets["dataQualityMetrics"] = self._metrics(v, as_input=False)
            if (dq := self._assertions(v.id)) is not None:
                facets["dataQualityAssertions"] = dq
            out_facets["outputStatistics"] = OutputStatisticsOutputDatasetFacet(
                rowCount=v.row_count, size=v.bytes)
        return OutputDataset(namespace=self.ns, name=product.name, facets=facets,
                             outputFacets=out_facets)

    def _inputs(self, product: Product, v: Version | None, final: bool) -> list[Any]:
        from openlineage.client.event_v2 import InputDataset
        from openlineage.client.generated.dataset_version_dataset import (
            DatasetVersionDatasetFacet,
        )

        out = []
        for name in product.inputs:
            iv = self._version(v.inputs.get(name)) if v else None
            facets: dict[str, Any] = {}
            in_facets: dict[str, Any] = {}
            if iv is not None:
                facets["schema"] = self._schema(self.project.products.get(name), iv)
                facets["datasetVersion"] = DatasetVersionDatasetFacet(datasetVersion=iv.id)
                if final:
                    in_facets["dataQualityMetrics"] = self._metrics(iv, as_input=True)
                    if (dq := self._assertions(iv.id)) is not None:
                        in_facets["dataQualityAssertions"] = dq
            out.append(InputDataset(namespace=self.ns, name=name,
                                    facets={k: f for k, f in facets.items() if f is not None},
                                    inputFacets=in_facets))
        return out

    def _job(self, product: Product) -> Any:
        from openlineage.client.event_v2 import Job
        from openlineage.client.generated.documentation_job import DocumentationJobFacet
        from openlineage.client.generated.job_type_job import JobTypeJobFacet
        from openlineage.client.generated.sql_job import SQLJobFacet

        kind = {"sql": "QUERY", "python": "PYTHON", "file": "SOURCE",
                "python_source": "SOURCE"}[product.kind]
        facets: dict[str, Any] = {"jobType": JobTypeJobFacet(
            processingType="BATCH", integration="STEWARD", jobType=kind)}
        if product.kind == "sql" and product.code:
            facets["sql"] = SQLJobFacet(query=product.code, dialect="duckdb")
        if product.spec.description:
            facets["documentation"] = DocumentationJobFacet(description=product.spec.description)
        if (owner := self._owner(product, job=True)) is not None:
            facets["ownership"] = owner
        return Job(namespace=self.ns, name=product.name, facets=facets)

    def _run_facets(self, run: Run, extra: dict[str, Any]) -> dict[str, Any]:
        from openlineage.client.generated.parent_run import Job as PJob
        from openlineage.client.generated.parent_run import (
            ParentRunFacet,
            Root,
            RootJob,
            RootRun,
        )
        from openlineage.client.generated.parent_run import Run as PRun
        from openlineage.client.generated.processing_engine_run import (
            ProcessingEngineRunFacet,
        )

        from steward import __version__

        parent_id = run_uuid(run.id)
        facets: dict[str, Any] = {
            "parent": ParentRunFacet(
                run=PRun(runId=parent_id), job=PJob(namespace=self.ns, name=PARENT_JOB),
                root=Root(run=RootRun(runId=parent_id),
                          job=RootJob(namespace=self.ns, name=PARENT_JOB))),
            "processing_engine": ProcessingEngineRunFacet(
                version=__version__, name="steward",
                openlineageAdapterVersion=_client_version()),
        }
        facets.update(extra)
        return facets

    def events(self, run: Run, steps: Sequence[Step]) -> list[Any]:
        """Every RunEvent of one recorded run, in emission order."""
        from openlineage.client.event_v2 import Job, RunEvent, RunState
        from openlineage.client.event_v2 import Run as OLRun
        from openlineage.client.generated.error_message_run import ErrorMessageRunFacet
        from openlineage.client.generated.job_type_job import JobTypeJobFacet

        parent_job = Job(namespace=self.ns, name=PARENT_JOB, facets={
            "jobType": JobTypeJobFacet(processingType="BATCH", integration="STEWARD",
                                       jobType="DAG")})
        parent_run = run_uuid(run.id)
        out = [RunEvent(eventType=RunState.START, eventTime=_iso(run.started_at),
                        run=OLRun(runId=parent_run), job=parent_job, producer=PRODUCER)]
        by_name = {s.product: s for s in steps}
        for name in [s.product for s in steps]:
            step = by_name[name]
            if step.status not in ("built", "failed") or name not in self.project.products:
                continue
            product = self.project.products[name]
            v = self._version(step.version_id)
            rid = run_uuid(run.id, name)
            job = self._job(product)
            start = step.started_at or run.started_at
            end = start + timedelta(seconds=step.duration_s or 0.0)
            out.append(RunEvent(
                eventType=RunState.START, eventTime=_iso(start),
                run=OLRun(runId=rid, facets=self._run_facets(run, {})), job=job,
                inputs=self._inputs(product, v, final=False),
                outputs=[self._output(product, v, final=False)], producer=PRODUCER))
            extra: dict[str, Any] = {}
            if step.status == "failed":
                extra["errorMessage"] = ErrorMessageRunFacet(
                    message=(step.error or "failed").splitlines()[0][:2000],
                    programmingLanguage="SQL" if product.kind == "sql" else "PYTHON",
                    stackTrace=step.error)
            out.append(RunEvent(
                eventType=RunState.COMPLETE if step.status == "built" else RunState.FAIL,
                eventTime=_iso(end), run=OLRun(runId=rid, facets=self._run_facets(run, extra)),
                job=job, inputs=self._inputs(product, v, final=True),
                outputs=[self._output(product, v, final=True)], producer=PRODUCER))
        ok = run.status == "success"
        out.append(RunEvent(
            eventType=RunState.COMPLETE if ok else RunState.FAIL,
            eventTime=_iso(run.finished_at), run=OLRun(runId=parent_run), job=parent_job,
            producer=PRODUCER))
        return out


@functools.cache
def _client_version() -> str:
    try:
        from importlib.metadata import version

        return version("openlineage-python")
    except Exception:
        return "unknown"


class Emitter:
    """Writes events to the NDJSON file and posts them to the configured endpoint."""

    def __init__(self, spec: OpenLineageSpec, root: str):
        self.spec = spec
        self.root = root

    @property
    def path(self) -> str | None:
        if not self.spec.file:
            return None
        return (self.spec.file if os.path.isabs(self.spec.file)
                else os.path.join(self.root, self.spec.file))

    def emit(self, events: Sequence[Any]) -> list[str]:
        """Send ``events``; returns problems (never raises: lineage must not fail a run)."""
        from openlineage.client.serde import Serde

        problems: list[str] = []
        if self.path and events:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "a", encoding="utf-8") as f:
                for e in events:
                    f.write(Serde.to_json(e) + "\n")
        if self.spec.url and events:
            try:
                transport = self._http()
                for e in events:
                    transport.emit(e)
            except Exception as e:  # an unreachable endpoint is a warning, not a failure
                problems.append(f"OpenLineage endpoint {self.spec.url}: {type(e).__name__}: "
                                f"{str(e).splitlines()[0] if str(e) else ''}")
        return problems

    def _http(self) -> Any:
        from openlineage.client.transport.http import (
            ApiKeyTokenProvider,
            HttpConfig,
            HttpTransport,
            TokenProvider,
        )

        token = os.environ.get(self.spec.api_key_env) if self.spec.api_key_env else None
        auth = ApiKeyTokenProvider({"apiKey": token}) if token else TokenProvider({})
        cfg = HttpConfig(url=self.spec.url or "", endpoint=self.spec.endpoint,
                         timeout=self.spec.timeout, auth=auth,
                         retry={"total": 2, "connect": 2, "read": 2, "backoff_factor": 0.2,
                                "status_forcelist": [500, 502, 503, 504],
                                "allowed_methods": ["HEAD", "POST"]})
        return HttpTransport(cfg)


def emit_run(project: Project, metastore: Metastore, root: str, run_id: str,
             column_lineage: Callable[[], tuple[ColumnLineage, Mapping[str, str]] | None]
             | None = None) -> tuple[list[Any], list[str]]:
    """Build and send the events of recorded run ``run_id``; returns (events, problems)."""
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
            cl = column_lineage()
        except Exception:  # lineage is best effort: fall back to table level
            cl = None
    builder = EventBuilder(project, metastore, spec.namespace or project.name,
                           cl[0] if cl else None, cl[1] if cl else None)
    events = builder.events(run, steps)
    return events, Emitter(spec, root).emit(events)
