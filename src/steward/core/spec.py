"""Spec models: what a project says in ``steward.yaml``, source files and sidecars.

Every model is strict (``extra="forbid"``) and frozen. Kinds of source and product are
discriminated unions on ``kind``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator

from steward.core.base import Spec
from steward.core.checks import Check
from steward.core.durations import parse_duration


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
    warn_after: str | None = None
    error_after: str | None = None

    @field_validator("warn_after", "error_after")
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


SourceSpec = Annotated[FileSource | PythonSource, Field(discriminator="kind")]


class SqlProductSpec(_Common):
    """Metadata of a SQL product; the SQL itself lives in its ``.sql`` file."""

    kind: Literal["sql"] = "sql"


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


class SourcesFile(Spec):
    """A ``sources/*.yml`` file."""

    sources: dict[str, SourceSpec]
