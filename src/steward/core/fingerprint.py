"""Fingerprints: what makes a version the same version.

A product's *data* fingerprint hashes its normalised code, its data-relevant config and
its inputs' data fingerprints (a Merkle chain, so a plan needs no I/O beyond hashing
source files). Its *metadata* fingerprint hashes the documentation, ownership, checks
and contract. Only a data change rebuilds.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import xxhash

from steward.core.model import Product

# 2: the product's name is part of its identity (two products with the same code and
# inputs are two products, never one version shared between them)
FINGERPRINT_VERSION = 2

# Fields of a spec that shape the data a build produces. Everything else is metadata.
_DATA_FIELDS: dict[str, tuple[str, ...]] = {
    "file": ("format", "options", "on_error"),
    "python_source": ("callable", "params", "refresh"),
    # (the connection as written: a password read from the environment is no part of it)
    "database_source": ("connection", "table", "query", "watermark", "change_signal"),
    "sql": ("on_fail",),
    "python": ("inputs", "inputs_as", "on_fail"),
    "model": ("inputs", "table", "features", "target", "split", "metrics", "params", "seed",
              "task", "flavor", "on_fail"),
}


def digest(*parts: Any) -> str:
    h = xxhash.xxh3_128()
    for p in parts:
        h.update(p if isinstance(p, bytes) else _canon(p).encode())
        h.update(b"\x00")
    return h.hexdigest()


def _canon(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)


def data_config(product: Product) -> dict[str, Any]:
    dumped = product.spec_dump
    cfg = {k: dumped.get(k) for k in _DATA_FIELDS[product.kind]}
    if dumped.get("materialize", "table") != "table":
        # (only when set: a plain table keeps the fingerprint it always had)
        cfg.update({k: dumped.get(k) for k in _MATERIALIZE})
    if product.kind in ("file", "python_source", "database_source"):
        # declared types are casts for a source: they change the data
        cols = dumped.get("columns") or {}
        cfg["types"] = {c: s["type"] for c, s in cols.items() if s.get("type")}
    return cfg


# what trains a model: a change of version is a change of the model
ML_LIBRARIES = ("scikit-learn", "skops", "numpy", "scipy", "pandas", "lightgbm", "xgboost")
# distributions that install a library under another name (the import name is the same)
_DISTRIBUTIONS = {"xgboost": ("xgboost", "xgboost-cpu")}
_SEEN: list[Any] = []  # (the folders' stat data, the versions found there)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def ml_library_versions() -> dict[str, str | None]:
    """The installed version of each library that trains and saves models.

    Read from the names of the installed packages' metadata folders
    (``scikit_learn-1.9.1.dist-info``) along ``sys.path``, first found wins as for
    ``importlib.metadata``: nothing is imported, and the answer is kept until one of
    those folders changes (an install or upgrade changes its folder's mtime), so that
    a fingerprint sees an upgrade without paying ``importlib.metadata``'s price (tens
    of milliseconds) on every run.
    """
    import os
    import sys

    folders = []
    for d in sys.path:
        try:
            folders.append((d, os.stat(d or ".").st_mtime_ns))
        except OSError:
            continue
    if _SEEN and _SEEN[0][0] == folders:
        return dict(_SEEN[0][1])
    wanted = {_norm(dist): lib for lib in ML_LIBRARIES
              for dist in _DISTRIBUTIONS.get(lib, (lib,))}
    out: dict[str, str | None] = dict.fromkeys(ML_LIBRARIES)
    for d, _ in folders:
        try:
            entries = os.listdir(d or ".")
        except OSError:  # a zip file, a folder that went away
            continue
        for entry in entries:
            stem, dot, suffix = entry.rpartition(".")
            if not dot or suffix not in ("dist-info", "egg-info"):
                continue
            name, _, version = stem.partition("-")
            lib = wanted.get(_norm(name))
            if lib is not None and out[lib] is None and version:
                out[lib] = version.split("-")[0]  # (an egg-info's name ends in -pyX.Y)
    _SEEN[:] = [(folders, out)]
    return dict(out)


def code_fingerprint(product: Product, source_hash: str = "") -> str:
    """A product's data fingerprint without its inputs: changes only when its code does.

    What code records keep (``local_fp``) to tell a product's own change from a change
    upstream; ``source_hash`` is a source's content hash.
    """
    return digest(FINGERPRINT_VERSION, product.name, product.kind, product.normalized_code,
                  data_config(product), dict(product.params), source_hash)


def local_digest(product: Product) -> str:
    """The part of the data fingerprint that depends on the product alone."""
    return digest(FINGERPRINT_VERSION, product.name, product.kind, product.normalized_code,
                  data_config(product), dict(product.params))


def source_content(product: Product, file_hash: str | None, output_hash: str | None) -> str:
    """What a source's fingerprint hashes besides its declaration.

    A file source: its files' content hash. A Python source whose ``refresh`` is
    ``always`` (the default): its callable's file and the content hash of what the
    callable returned when it last ran (a run calls it again first; a plan assumes
    the current version's output). With ``refresh: on_change``: its callable's file only.
    A database source: the content hash of what a run read (or, when its change signal
    is unchanged, of the current version).
    """
    if product.kind == "file" or (product.kind == "python_source"
                                  and product.spec_dump.get("refresh") == "on_change"):
        return file_hash or ""
    return digest("output", file_hash or "", output_hash or "")


# Fields of a spec that say how its versions are checked (besides the checks' targets).
def check_config(product: Product, default_contract: str, default_on_fail: str) -> Any:
    dumped = product.spec_dump
    cols = {c: {k: s.get(k) for k in ("type", "nullable", "checks")}
            for c, s in (dumped.get("columns") or {}).items()}
    out = {"checks": dumped.get("checks") or [], "columns": cols,
           "contract": dumped.get("contract") or default_contract,
           "on_fail": dumped.get("on_fail") or default_on_fail}
    if dumped.get("gates"):  # a model's metric gates
        out["gates"] = dumped["gates"]
    return out


def check_fingerprint(product: Product, default_contract: str, default_on_fail: str,
                      targets: Mapping[str, str | None]) -> str:
    """What a version's checks are evaluated with: their declaration (checks, contract)
    and the data of each product a check reads (``targets``: product -> data hash).

    A version whose recorded check fingerprint differs is checked again before a run
    keeps or reuses it.
    """
    return digest(FINGERPRINT_VERSION, check_config(product, default_contract, default_on_fail),
                  sorted((k, v or "") for k, v in targets.items()))


def data_fingerprint(
    product: Product, input_fingerprints: Mapping[str, str], content_hash: str | None = None
) -> str:
    """The identity of the data a build of ``product`` would produce.

    A model's includes the installed versions of the libraries that train it, read on
    each call (not kept with the loaded project): an upgrade trains a new version.
    """
    inputs = sorted((name, input_fingerprints[name]) for name in product.inputs)
    if product.kind == "model":
        return digest(product.local_digest, pairs_json(inputs), content_hash or "",
                      ml_library_versions())
    return digest(product.local_digest, pairs_json(inputs), content_hash or "")


_PLAIN = re.compile(r"[A-Za-z0-9_.\-]*")


def pairs_json(pairs: list[tuple[str, str]]) -> str:
    """``json.dumps(pairs)``, written directly when every string needs no escaping.

    Product names and fingerprints always qualify; this is the hot loop of a plan.
    """
    if all(_PLAIN.fullmatch(a) and _PLAIN.fullmatch(b) for a, b in pairs):
        return "[" + ", ".join(f'["{a}", "{b}"]' for a, b in pairs) + "]"
    return json.dumps(pairs)


def metadata_fingerprint(product: Product) -> str:
    dumped = {k: v for k, v in product.spec_dump.items() if k not in _DATA_FIELDS[product.kind]
              and k not in _MATERIALIZE}
    return digest(FINGERPRINT_VERSION, dumped)


# how a SQL product's versions are made (data config, only when not a plain table)
_MATERIALIZE = ("materialize", "incremental", "snapshot")


def fingerprints(
    order: list[str],
    products: Mapping[str, Product],
    source_hashes: Mapping[str, str],
    pinned: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Data fingerprints for ``order`` (topological); ``pinned`` fixes some to given values."""
    out: dict[str, str] = dict(pinned or {})
    for name in order:
        if name in out:
            continue
        p = products[name]
        out[name] = data_fingerprint(p, out, source_hashes.get(name))
    return out
