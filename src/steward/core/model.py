"""The loaded project: products with their code, inputs and metadata, as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from steward.core.spec import (
    FileSource,
    ProjectSpec,
    PythonProductSpec,
    PythonSource,
    SqlProductSpec,
)

Kind = Literal["file", "python_source", "sql", "python"]
AnySpec = FileSource | PythonSource | SqlProductSpec | PythonProductSpec


@dataclass(frozen=True)
class Product:
    """One node of the DAG: a source or a transform, with everything it declares."""

    name: str
    kind: Kind
    spec: AnySpec
    file: str  # where the code (or the source declaration) lives, relative to the root
    line: int = 1
    code: str = ""  # SQL text, or the Python function's source
    normalized_code: str = ""  # what the fingerprint hashes
    inputs: tuple[str, ...] = ()  # upstream product names, resolved
    params: Mapping[str, str] = field(default_factory=dict)  # python: parameter -> product
    outputs: tuple[str, ...] | None = None  # output column names when the code tells them
    meta_file: str | None = None  # sidecar YAML
    function: str | None = None  # python: function name
    # sql: where each input is named in ``code``: (start, end, product, has_alias)
    ref_spans: tuple[tuple[int, int, str, bool], ...] = ()

    @cached_property
    def local_digest(self) -> str:
        """Hash of this product's own code and data-relevant config (not its inputs)."""
        from steward.core.fingerprint import local_digest

        return local_digest(self)

    @cached_property
    def metadata_fp(self) -> str:
        from steward.core.fingerprint import metadata_fingerprint

        return metadata_fingerprint(self)

    @cached_property
    def spec_dump(self) -> dict[str, Any]:
        """The declaration as JSON-ready data (``model_dump(mode="json")``); read only."""
        return self.spec.model_dump(mode="json")

    @cached_property
    def spec_json(self) -> str:
        """The declaration as JSON, defaults left out (what environments record)."""
        return self.spec.model_dump_json(exclude_defaults=True)

    @property
    def is_source(self) -> bool:
        return self.kind in ("file", "python_source")

    @property
    def domain(self) -> str:
        return self.name.split(".", 1)[0] if "." in self.name else "main"

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[-1]

    @property
    def owner(self) -> str | None:
        return self.spec.owner

    @property
    def tags(self) -> tuple[str, ...]:
        return self.spec.tags


@dataclass(frozen=True)
class Project:
    """A loaded, validated project."""

    root: str
    spec: ProjectSpec
    products: Mapping[str, Product]
    source_hashes: Mapping[str, str] = field(default_factory=dict)
    extra: Mapping[str, Any] = field(default_factory=dict)
    # digest of the project files' stat data taken before they were read (see
    # steward.project.cache): what the no-op fast path compares with
    load_key: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    def __getitem__(self, name: str) -> Product:
        return self.products[name]
