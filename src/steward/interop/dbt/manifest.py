"""A dbt ``target/manifest.json``: the compiled SQL of models and tests, every macro
(and package macro) already resolved by dbt."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from steward.core.errors import ConfigError, Problem

# manifest schema versions whose nodes carry what the import reads (dbt 1.5 to 1.11)
SUPPORTED = ("v9", "v10", "v11", "v12")
_VERSION = re.compile(r"/manifest/(v\d+)\.json$")


@dataclass
class Manifest:
    file: str
    version: str
    # model / snapshot / singular test name -> compiled SQL, relations still dbt's
    compiled: dict[tuple[str, str], str] = field(default_factory=dict)
    # dbt relation as it appears in compiled SQL -> (resource type, dbt name or (src, tbl))
    relations: dict[str, tuple[str, Any]] = field(default_factory=dict)


def read_manifest(path: str, project_name: str) -> Manifest:
    """The compiled SQL of ``project_name``'s nodes in the manifest at ``path``."""
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise ConfigError(Problem(path, None, f"cannot read the dbt manifest: {e}",
                                  "remove it to render the project's Jinja instead")) from None
    url = str((data.get("metadata") or {}).get("dbt_schema_version") or "")
    m = _VERSION.search(url)
    version = m.group(1) if m else "unknown"
    if version not in SUPPORTED:
        raise ConfigError(Problem(
            path, None, f"dbt manifest schema {version} ({url or 'no dbt_schema_version'}) is "
            f"not supported; Steward reads {', '.join(SUPPORTED)} (dbt 1.5 to 1.11)",
            "compile the project with dbt 1.5 or later, or pass --no-manifest to render "
            "its Jinja instead"))
    out = Manifest(path, version)
    for node in (data.get("nodes") or {}).values():
        rtype = node.get("resource_type")
        relation = node.get("relation_name")
        if relation:
            out.relations[str(relation)] = (rtype, node.get("name"))
        if node.get("package_name") != project_name:
            continue
        code = node.get("compiled_code") or node.get("compiled_sql")
        if code and rtype in ("model", "snapshot"):
            out.compiled[(rtype, str(node["name"]))] = str(code)
        elif code and rtype == "test" and not node.get("test_metadata"):
            out.compiled[("test", str(node["name"]))] = str(code)
    for src in (data.get("sources") or {}).values():
        relation = src.get("relation_name")
        if relation:
            out.relations[str(relation)] = ("source", (src.get("source_name"), src.get("name")))
    return out


def rewrite_relations(sql: str, manifest: Manifest, name_of: Any) -> tuple[str, list[str]]:
    """``sql`` with dbt's relation names replaced by Steward product names, and those
    products. ``name_of(resource type, dbt name)`` gives the product (None: unknown)."""
    used: list[str] = []
    for relation in sorted(manifest.relations, key=len, reverse=True):
        if relation not in sql:
            continue
        product = name_of(*manifest.relations[relation])
        if product is None:
            continue
        sql = sql.replace(relation, product)
        used.append(product)
    return sql, used


def find_manifest(root: str) -> str | None:
    path = os.path.join(root, "target", "manifest.json")
    return path if os.path.isfile(path) else None
