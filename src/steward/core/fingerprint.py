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

FINGERPRINT_VERSION = 1

# Fields of a spec that shape the data a build produces. Everything else is metadata.
_DATA_FIELDS: dict[str, tuple[str, ...]] = {
    "file": ("format", "options", "on_error"),
    "python_source": ("callable", "params"),
    "sql": ("on_fail",),
    "python": ("inputs", "inputs_as", "on_fail"),
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
    if product.kind in ("file", "python_source"):
        # declared types are casts for a source: they change the data
        cols = dumped.get("columns") or {}
        cfg["types"] = {c: s["type"] for c, s in cols.items() if s.get("type")}
    return cfg


def code_fingerprint(product: Product, source_hash: str = "") -> str:
    """A product's data fingerprint without its inputs: changes only when its code does.

    What code records keep (``local_fp``) to tell a product's own change from a change
    upstream; ``source_hash`` is a source's content hash.
    """
    return digest(FINGERPRINT_VERSION, product.kind, product.normalized_code,
                  data_config(product), dict(product.params), source_hash)


def local_digest(product: Product) -> str:
    """The part of the data fingerprint that depends on the product alone."""
    return digest(FINGERPRINT_VERSION, product.kind, product.normalized_code,
                  data_config(product), dict(product.params))


def data_fingerprint(
    product: Product, input_fingerprints: Mapping[str, str], content_hash: str | None = None
) -> str:
    """The identity of the data a build of ``product`` would produce."""
    inputs = sorted((name, input_fingerprints[name]) for name in product.inputs)
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
    dumped = {k: v for k, v in product.spec_dump.items() if k not in _DATA_FIELDS[product.kind]}
    return digest(FINGERPRINT_VERSION, dumped)


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
