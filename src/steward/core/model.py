"""The loaded project: products with their code, inputs and metadata, as plain data."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from steward.core.spec import (
        FileSource,
        ProjectSpec,
        PythonProductSpec,
        PythonSource,
        SqlProductSpec,
    )

    AnySpec = FileSource | PythonSource | SqlProductSpec | PythonProductSpec

Kind = Literal["file", "python_source", "database_source", "sql", "python", "model"]
# what a check of a product needs from the project: (label, columns it names, where it
# is declared in the spec, the product a relationships check refers to or None)
CheckUse = tuple[str, tuple[str, ...], tuple[Any, ...], str | None]


# The spec models a cache may rebuild (``spec_type`` of the facts): by name, so reading a
# cache never imports what its data names
SPEC_TYPES: dict[str, str] = {
    "FileSource": "steward.core.spec", "PythonSource": "steward.core.spec",
    "DatabaseSource": "steward.core.spec", "SqlProductSpec": "steward.core.spec",
    "PythonProductSpec": "steward.core.spec", "ProjectSpec": "steward.core.spec",
    "ModelProductSpec": "steward.core.mlspec", "Glossary": "steward.core.glossary",
}


def spec_facts(spec: Any) -> dict[str, Any]:
    """What a loaded object keeps of its pydantic ``spec`` as plain data (see SpecRef):
    taken once per spec, and shared by every object made from it."""
    from steward.core.plain import pack

    dump = spec.model_dump(mode="json")
    facts = {"spec_type": type(spec).__name__, "spec_dump": dump,
             "spec_json": spec.model_dump_json(exclude_defaults=True)}
    if hasattr(spec, "checks"):
        from steward.core.checks import check_uses

        facts["check_uses"] = check_uses(spec)
    if facts["spec_type"] in SPEC_TYPES:
        try:  # (what a cache keeps; a spec that is not plain data is not cached)
            facts["spec_data"] = spec_data(spec)
            facts["spec_dump_data"] = pack(dump)
        except TypeError:
            pass
    return facts


def spec_data(spec: Any) -> bytes:
    """``spec`` as the plain data it is rebuilt from (:func:`rebuild_spec`): the fields
    it was given (``model_dump(exclude_unset=True)``: the same fields are set again, as
    a column's explicit ``classification: []`` tells; dates stay dates, a range's bounds
    keep their type)."""
    from steward.core.plain import pack

    return pack(spec.model_dump(exclude_unset=True))


def rebuild_spec(spec_type: str, data: bytes) -> Any:
    """The spec model ``spec_data`` made ``data`` from, validated again.

    Validation is a pure function of the fields: the model is equal to the one the
    data was taken from (tests/project/test_cache.py checks it for every kind).
    """
    import importlib

    from steward.core.plain import unpack

    module = SPEC_TYPES[spec_type]  # (a cache names only these: see project/cache.py)
    cls = getattr(importlib.import_module(module), spec_type)
    return cls.model_validate(unpack(data))


class SpecRef:
    """A validated spec as the loader keeps it between loads.

    Importing the spec models (and pydantic) costs about 0.2 s before any work. So the
    load memo and the project cache hold each spec as plain facts: its type, its dump,
    its JSON, what its checks name, and its fields as plain data (``spec_data``), from
    which the model is validated again on first use of :meth:`value` (see
    :class:`_DeferredSpec`). ``live`` is the model when this process has it.
    """

    __slots__ = ("live", "_facts")

    def __init__(self, live: Any = None, facts: dict[str, Any] | None = None):
        self.live = live
        self._facts = facts

    @property
    def facts(self) -> dict[str, Any]:
        if self._facts is None:
            self._facts = spec_facts(self.live)
        return self._facts

    @property
    def dump(self) -> dict[str, Any]:
        facts = self.facts
        if "spec_dump" not in facts:
            facts["spec_dump"] = _unpack_dump(facts)
        return facts["spec_dump"]  # type: ignore[no-any-return]

    def value(self) -> Any:
        """The model itself (validated again from its plain data on first use)."""
        if self.live is None:
            self.live = rebuild_spec(self.facts["spec_type"], self.facts["spec_data"])
        return self.live

    def plain_facts(self) -> dict[str, Any]:
        """Its facts as a cache keeps them: the model's fields and its dump as plain
        data (bytes), the rest as it is."""
        facts = self.facts
        if "spec_data" not in facts:
            if facts["spec_type"] not in SPEC_TYPES:
                raise TypeError(f"a cache does not keep a {facts['spec_type']}")
            facts["spec_data"] = spec_data(self.live)
        out = {k: v for k, v in facts.items() if k != "spec_dump"}
        out["spec_dump_data"] = _pack_dump(facts)
        return out


def _unpack_dump(facts: Mapping[str, Any]) -> dict[str, Any]:
    from steward.core.plain import unpack

    return unpack(facts["spec_dump_data"])  # type: ignore[no-any-return]


def _pack_dump(facts: Mapping[str, Any]) -> bytes:
    """The spec's dump as a cache keeps it: packed apart from the rest, read on first use
    and with lists (the rest of a cache file is read with tuples)."""
    raw = facts.get("spec_dump_data")
    if raw is None:
        from steward.core.plain import pack

        raw = pack(facts["spec_dump"])
    return raw  # type: ignore[no-any-return]


class _DeferredSpec:
    """``spec`` kept as plain data and validated again on first read; the rest is
    plain data too (see SpecRef)."""

    _FACTS: tuple[str, ...] = ("spec_dump", "spec_json")  # kept with the spec's data
    _DERIVED: tuple[str, ...] = ()  # cached values computed from fields other than spec

    @classmethod
    def with_spec(cls, ref: SpecRef, **fields: Any) -> Any:
        """An instance whose spec comes from ``ref`` (rebuilt only when read)."""
        obj = cls(spec=ref.live, **fields)  # type: ignore[call-arg]
        if ref.live is None:
            del obj.__dict__["spec"]
        obj.__dict__.update(ref.facts)
        return obj

    def evolve(self, **changes: Any) -> Any:
        """``dataclasses.replace`` that leaves the spec unread (it cannot change here).

        Values cached from the changed fields are dropped; a subclass may carry them over.
        """
        if "spec" in changes:
            raise TypeError("evolve() keeps the spec; build a new object to change it")
        new = object.__new__(type(self))
        new.__dict__.update({k: v for k, v in self.__dict__.items() if k not in self._DERIVED},
                            **changes)
        return new

    def __getattr__(self, name: str) -> Any:
        if name == "spec":
            data = self.__dict__.get("spec_data")
            if data is not None:
                spec = rebuild_spec(self.__dict__["spec_type"], data)
                self.__dict__["spec"] = spec
                return spec
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def plain_facts(self) -> dict[str, Any]:
        """The spec's facts and plain data, computed while the model is at hand (what
        ``steward.project.cache`` writes): ``spec_type``, ``spec_data``,
        ``spec_dump_data`` and the other facts (``_FACTS``)."""
        d = self.__dict__
        if "spec_data" not in d:
            spec = d["spec"]
            if type(spec).__name__ not in SPEC_TYPES:
                raise TypeError(f"a cache does not keep a {type(spec).__name__}")
            d.setdefault("spec_type", type(spec).__name__)
            d["spec_data"] = spec_data(spec)
        if "spec_dump_data" not in d:
            d["spec_dump_data"] = _pack_dump({"spec_dump": self.spec_dump})  # type: ignore[attr-defined]
        others = [k for k in self._FACTS if k != "spec_dump"]
        for name in others:
            getattr(self, name)
        return {"spec_type": d["spec_type"], "spec_data": d["spec_data"],
                "spec_dump_data": d["spec_dump_data"],
                **{k: d[k] for k in others}}


@dataclass(frozen=True)
class Product(_DeferredSpec):
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
    # products its checks read (relationships targets, custom SQL): built before it, and
    # part of its check fingerprint, never of its data fingerprint
    check_inputs: tuple[str, ...] = ()

    _FACTS = ("spec_dump", "spec_json", "check_uses")
    _DERIVED = ("local_digest", "metadata_fp", "code_fp")

    def evolve(self, **changes: Any) -> Product:
        new: Product = super().evolve(**changes)
        carry_digests(self, new)
        return new

    @cached_property
    def local_digest(self) -> str:
        """Hash of this product's own code and data-relevant config (not its inputs)."""
        from steward.core.fingerprint import local_digest

        return local_digest(self)

    @cached_property
    def code_fp(self) -> str:
        """:func:`steward.core.fingerprint.code_fingerprint` with no source content."""
        from steward.core.fingerprint import code_fingerprint

        return code_fingerprint(self)

    @cached_property
    def metadata_fp(self) -> str:
        from steward.core.fingerprint import metadata_fingerprint

        return metadata_fingerprint(self)

    @cached_property
    def check_uses(self) -> tuple[CheckUse, ...]:
        """What each declared check names (see :func:`steward.core.checks.check_uses`)."""
        from steward.core.checks import check_uses

        return check_uses(self.spec)

    @cached_property
    def spec_dump(self) -> dict[str, Any]:
        """The declaration as JSON-ready data (``model_dump(mode="json")``); read only."""
        if "spec_dump_data" in self.__dict__:
            return _unpack_dump(self.__dict__)
        return self.spec.model_dump(mode="json")

    @cached_property
    def spec_json(self) -> str:
        """The declaration as JSON, defaults left out (what environments record)."""
        return self.spec.model_dump_json(exclude_defaults=True)

    @property
    def is_source(self) -> bool:
        return self.kind in ("file", "python_source", "database_source")

    @property
    def domain(self) -> str:
        return self.name.split(".", 1)[0] if "." in self.name else "main"

    @property
    def short_name(self) -> str:
        return self.name.split(".", 1)[-1]

    @property
    def owner(self) -> str | None:
        return self.spec_dump.get("owner")  # type: ignore[no-any-return]

    @property
    def tags(self) -> tuple[str, ...]:
        return tuple(self.spec_dump.get("tags") or ())


# the fields (besides the spec) Product's derived digests hash
_DIGEST_FIELDS = ("kind", "normalized_code", "params")


def carry_digests(src: Product, dst: Product) -> None:
    """Give ``dst`` the digests ``src`` computed, when what they hash is equal."""
    if src.spec_json == dst.spec_json and all(getattr(src, k) == getattr(dst, k)
                                              for k in _DIGEST_FIELDS):
        dst.__dict__.update({k: src.__dict__[k] for k in Product._DERIVED if k in src.__dict__})


@dataclass(frozen=True)
class Project(_DeferredSpec):
    """A loaded, validated project."""

    root: str
    spec: ProjectSpec
    products: Mapping[str, Product]
    source_hashes: Mapping[str, str] = field(default_factory=dict)
    # problems that do not stop a load (a YAML file no model reads, glossary cycles)
    warnings: tuple[str, ...] = ()
    # the validated glossary (a SpecRef), None without a glossary file
    glossary_ref: Any = None
    # digest of the project files' stat data taken before they were read (see
    # steward.project.cache): what the no-op fast path compares with
    load_key: str | None = None

    _FACTS = ("spec_dump",)

    @cached_property
    def spec_dump(self) -> dict[str, Any]:
        """``steward.yaml`` as JSON-ready data (with defaults); read only."""
        if "spec_dump_data" in self.__dict__:
            return _unpack_dump(self.__dict__)
        return self.spec.model_dump(mode="json")

    @property
    def name(self) -> str:
        return self.spec_dump["name"]  # type: ignore[no-any-return]

    @property
    def glossary(self) -> Any:
        """The project's :class:`steward.core.glossary.Glossary` (empty without a file)."""
        ref = self.glossary_ref
        if ref is None:
            from steward.core.glossary import Glossary

            return Glossary()
        return ref.value()

    def __getitem__(self, name: str) -> Product:
        return self.products[name]
