"""Spec models: what a project says in ``steward.yaml``, source files and sidecars.

Every model is strict (``extra="forbid"``) and frozen. Kinds of source and product are
discriminated unions on ``kind``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from steward.core.base import Spec
from steward.core.checks import Check
from steward.core.durations import parse_duration
from steward.core.opsspec import AlertsSpec, ScheduleSpec


class ColumnSpec(Spec):
    """A declared column: its contract (type, nullability) and its documentation."""

    type: str | None = None
    nullable: bool = True
    description: str | None = None
    classification: tuple[str, ...] = ()
    glossary: str | None = None
    tags: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()

    @field_validator("classification", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v


class FreshnessSLO(Spec):
    """How old the newest data (or the last successful build) may get."""

    column: str | None = None
    max_age: str | None = None  # the SLO: older than this is a breach (else error_after)
    warn_after: str | None = None
    error_after: str | None = None

    @property
    def limit(self) -> str | None:
        """The age past which the product is in breach of its SLO."""
        return self.max_age or self.error_after

    @field_validator("max_age", "warn_after", "error_after")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        if v is not None:
            parse_duration(v)
        return v


class _Common(Spec):
    """Metadata every source and product may carry, next to its code."""

    description: str | None = None
    owner: str | None = None
    domain: str | None = None
    tags: tuple[str, ...] = ()
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    primary_key: tuple[str, ...] = ()
    checks: tuple[Check, ...] = ()
    freshness: FreshnessSLO | None = None
    contract: Literal["lenient", "strict"] | None = None
    on_fail: Literal["block", "quarantine_rows"] | None = None
    retention: RetentionSpec | None = None
    meta: dict[str, Any] = Field(default_factory=dict)


class RetentionSpec(Spec):
    keep_last: int | None = Field(default=None, ge=1)
    keep_days: float | None = Field(default=None, ge=0)


class FileSource(_Common):
    """Data read from files: CSV (plain, gzip or zip), Parquet, JSON / NDJSON; globs allowed."""

    kind: Literal["file"] = "file"
    path: str
    format: Literal["csv", "parquet", "json", "ndjson"] | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    on_error: Literal["fail", "quarantine"] = "fail"


class PythonSource(_Common):
    """Data returned by a Python callable, ``module:function`` or ``path.py:function``."""

    kind: Literal["python"]
    callable: str
    params: dict[str, Any] = Field(default_factory=dict)
    # always: every run calls it and fingerprints what it returned (a changed output
    # rebuilds what depends on it); on_change: only a change of its file or params does
    refresh: Literal["always", "on_change"] = "always"


class DatabaseSource(_Common):
    """Rows of a table or query in a database (PostgreSQL), read into Arrow.

    Fingerprinted by its data: by the value of ``change_signal`` (a query returning one
    value, e.g. ``select max(updated_at) from orders``) when declared, else by a content
    hash of what was read. With ``watermark`` (a column that only grows), a run reads
    only the rows past the largest value the current version holds and appends them.
    ``connection`` may name environment variables (``${PGPASSWORD}``): they are expanded
    only when Steward connects.
    """

    kind: Literal["database"] = "database"
    connection: str
    table: str | None = None
    query: str | None = None
    change_signal: str | None = None
    watermark: str | None = None

    @field_validator("connection")
    @classmethod
    def _postgres(cls, v: str) -> str:
        scheme = v.split("://", 1)[0] if "://" in v else ""
        if scheme.split("+", 1)[0] not in ("postgresql", "postgres"):
            raise ValueError("a database source reads PostgreSQL: write a URL like "
                             "postgresql://user:${PGPASSWORD}@host:5432/database")
        return v

    @model_validator(mode="after")
    def _one_of(self) -> DatabaseSource:
        if (self.table is None) == (self.query is None):
            raise ValueError("give either 'table' or 'query' (one of them)")
        return self


SourceSpec = Annotated[FileSource | PythonSource | DatabaseSource,
                       Field(discriminator="kind")]


class IncrementalSpec(Spec):
    """How an incremental product's new version is made from the previous one.

    The product's SQL gives every row; ``where`` (a predicate over its output columns,
    ``{{ this }}`` naming the previous version) keeps the new rows. With ``unique_key``
    they replace the previous version's rows of the same key (merge), without it they
    are appended.
    """

    unique_key: tuple[str, ...] = ()
    where: str | None = None
    strategy: Literal["merge", "append"] | None = None  # default: merge with a unique_key
    # row checks (not_null, accepted_values, range, regex, length, expression,
    # relationships) on every row of the new version, or on its new rows only; table
    # checks (unique, row_count, statistics, sql) always see the whole version
    check_rows: Literal["all", "new"] = "all"

    @field_validator("unique_key", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v


class SnapshotSpec(Spec):
    """A slowly changing dimension (type 2): each version keeps every earlier state of a
    row, with the interval it was valid in."""

    unique_key: tuple[str, ...]
    strategy: Literal["timestamp", "check"] = "timestamp"
    updated_at: str | None = None  # the timestamp strategy's column
    check_cols: tuple[str, ...] | Literal["all"] = "all"
    # steward: scd_id, valid_from, valid_to; dbt: dbt_scd_id, dbt_updated_at,
    # dbt_valid_from, dbt_valid_to (as dbt snapshots name them)
    columns: Literal["steward", "dbt"] = "steward"

    @field_validator("unique_key", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return (v,) if isinstance(v, str) else v

    @model_validator(mode="after")
    def _updated_at(self) -> SnapshotSpec:
        if self.strategy == "timestamp" and not self.updated_at:
            raise ValueError("the timestamp strategy needs 'updated_at' (a column)")
        if not self.unique_key:
            raise ValueError("a snapshot needs a 'unique_key'")
        return self


class SqlProductSpec(_Common):
    """Metadata of a SQL product; the SQL itself lives in its ``.sql`` file."""

    kind: Literal["sql"] = "sql"
    # table: every version is built from its inputs; incremental: from the previous
    # version and the new rows; snapshot: the previous version's history and a new state
    materialize: Literal["table", "incremental", "snapshot"] = "table"
    incremental: IncrementalSpec | None = None
    snapshot: SnapshotSpec | None = None

    @model_validator(mode="after")
    def _materialize(self) -> SqlProductSpec:
        if self.materialize == "snapshot" and self.snapshot is None:
            raise ValueError("materialize: snapshot needs a 'snapshot:' mapping "
                             "(unique_key, strategy, updated_at)")
        if self.materialize == "incremental" and self.incremental is None:
            raise ValueError("materialize: incremental needs an 'incremental:' mapping "
                             "(unique_key, where)")
        return self


class PythonProductSpec(_Common):
    kind: Literal["python"] = "python"
    inputs: dict[str, str] = Field(default_factory=dict)
    inputs_as: Literal["arrow", "pandas", "polars", "spark"] = "arrow"


class EngineSpec(Spec):
    """``engine: {type: duckdb}`` (the default): the embedded engine."""

    type: Literal["duckdb"] = "duckdb"
    threads: int | None = Field(default=None, ge=1)
    memory_limit: str | None = None
    settings: dict[str, Any] = Field(default_factory=dict)


class SparkEngineSpec(Spec):
    """``engine: {type: spark}``: Apache Spark, local (``master``) or a Spark Connect
    server (``remote: sc://host:port``); ``conf`` is passed to the session."""

    type: Literal["spark"]
    master: str = "local[2]"
    remote: str | None = Field(default=None, pattern=r"^sc://")
    app_name: str = "steward"
    conf: dict[str, str | int | float | bool] = Field(default_factory=dict)


def _engine_type(value: Any) -> str:
    if isinstance(value, dict):
        return str(value.get("type", "duckdb"))
    return str(getattr(value, "type", "duckdb"))


AnyEngineSpec = Annotated[
    Annotated[EngineSpec, Tag("duckdb")] | Annotated[SparkEngineSpec, Tag("spark")],
    Discriminator(_engine_type)]


class DefaultsSpec(Spec):
    owner: str | None = None
    contract: Literal["lenient", "strict"] = "lenient"
    on_fail: Literal["block", "quarantine_rows"] = "block"
    retention: RetentionSpec = Field(
        default_factory=lambda: RetentionSpec(keep_last=5, keep_days=30))


class EnvironmentsSpec(Spec):
    default: str = "prod"
    protected: tuple[str, ...] = ()


class PathsSpec(Spec):
    models: str = "models"
    sources: str = "sources"


class OpenLineageSpec(Spec):
    """Where each run's OpenLineage events go: a file always, an HTTP endpoint if ``url``."""

    enabled: bool = True
    url: str | None = None
    endpoint: str = "api/v1/lineage"
    namespace: str | None = None  # default: the project's name
    file: str | None = ".steward/openlineage/events.ndjson"
    timeout: float = Field(default=5.0, gt=0)
    api_key_env: str | None = None  # name of an environment variable holding a bearer token


class ProjectSpec(Spec):
    """``steward.yaml``."""

    name: str
    description: str | None = None
    engine: AnyEngineSpec = Field(default_factory=EngineSpec)
    store: str = ".steward/store"
    metastore: str | None = None
    environments: EnvironmentsSpec = Field(default_factory=EnvironmentsSpec)
    defaults: DefaultsSpec = Field(default_factory=DefaultsSpec)
    paths: PathsSpec = Field(default_factory=PathsSpec)
    parallelism: int | None = Field(default=None, ge=1)
    compliance: Literal["lenient", "strict"] = "lenient"
    openlineage: OpenLineageSpec = Field(default_factory=OpenLineageSpec)
    sources: dict[str, SourceSpec] = Field(default_factory=dict)
    vars: dict[str, Any] = Field(default_factory=dict)
    schedules: dict[str, ScheduleSpec] = Field(default_factory=dict)
    alerts: AlertsSpec = Field(default_factory=AlertsSpec)


class SourcesFile(Spec):
    """A ``sources/*.yml`` file."""

    sources: dict[str, SourceSpec]
