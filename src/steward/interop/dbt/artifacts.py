"""dbt's artifacts written from a Steward project: ``target/manifest.json`` (schema v12)
and ``target/run_results.json`` (schema v6), so tools that read dbt projects (DataHub,
OpenMetadata, Elementary...) see Steward's products, checks, lineage and results.

Products become models (SQL or Python), sources of files become dbt sources (the part
of the name before the dot is the source's name), each check a generic test attached
to its product, and ``meta.consumers`` exposures. A run's built products are model
results (``success`` / ``error`` / ``skipped``, kept ones ``no-op``) and the checks of
the versions it built test results (``pass`` / ``fail`` / ``warn`` / ``error``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from steward.core.check_results import CheckResult
from steward.core.model import Product, Project
from steward.core.records import Run, Step, Version

MANIFEST_SCHEMA = "https://schemas.getdbt.com/dbt/manifest/v12.json"
RUN_RESULTS_SCHEMA = "https://schemas.getdbt.com/dbt/run-results/v6.json"
DBT_VERSION = "1.11.0"  # the dbt release whose artifact schemas these are
_SOURCE_KINDS = ("file", "python_source")
_EXPOSURE_TYPES = ("dashboard", "notebook", "analysis", "ml", "application")


class _Named:
    """Enough of a product to name a relationships target (kind unknown: a model)."""

    def __init__(self, name: str):
        self.name, self.kind = name, "sql"


def _split(name: str) -> tuple[str, str]:
    schema, _, short = name.rpartition(".")
    return schema or "main", short


def unique_id(project: str, product: Product | _Named) -> str:
    schema, short = _split(product.name)
    if product.kind in _SOURCE_KINDS:
        return f"source.{project}.{schema}.{short}"
    return f"model.{project}.{_node_name(product.name)}"


def _node_name(name: str) -> str:
    return name.replace(".", "__")


def _iso(ts: datetime | None) -> str:
    ts = ts or datetime.now(UTC)
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return ts.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _checksum(text: str) -> dict[str, str]:
    return {"name": "sha256", "checksum": hashlib.sha256(text.encode()).hexdigest()}


def _columns(product: Product, version: Version | None) -> dict[str, Any]:
    spec = product.spec_dump.get("columns") or {}
    out: dict[str, Any] = {}
    built = {c.name: c.type for c in (version.schema if version else ())}
    for name in [*built, *(c for c in spec if c not in built)]:
        col = spec.get(name) or {}
        out[name] = {"name": name, "description": col.get("description") or "",
                     "meta": {k: v for k, v in {"glossary": col.get("glossary"),
                                                "classification": col.get("classification")
                                                }.items() if v},
                     "data_type": col.get("type") or built.get(name),
                     "constraints": [{"type": "not_null"}] if col.get("nullable") is False
                     else [], "quote": None, "tags": list(col.get("tags") or [])}
    return out


def manifest(project: Project, current: Mapping[str, Version], generated: datetime,
             invocation: str | None = None) -> dict[str, Any]:
    """The v12 manifest of ``project``, with the column types of ``current`` versions."""
    pname = re.sub(r"\W", "_", project.name)
    nodes: dict[str, Any] = {}
    sources: dict[str, Any] = {}
    exposures: dict[str, Any] = {}
    parents: dict[str, list[str]] = {}
    ids = {n: unique_id(pname, p) for n, p in project.products.items()}
    for name, p in sorted(project.products.items()):
        spec = p.spec_dump
        schema, short = _split(name)
        file = (p.file or "").replace(os.sep, "/")
        common = {
            "database": pname, "schema": schema, "name": short,
            "package_name": pname, "path": file, "original_file_path": file,
            "unique_id": ids[name], "description": spec.get("description") or "",
            "columns": _columns(p, current.get(name)), "tags": list(spec.get("tags") or []),
            "meta": {k: v for k, v in {**(spec.get("meta") or {}), "owner": spec.get("owner"),
                                       "domain": spec.get("domain")}.items() if v},
            "relation_name": f'"{pname}"."{schema}"."{short}"', "created_at": 0.0,
        }
        if p.kind in _SOURCE_KINDS:
            fresh = spec.get("freshness") or {}
            sources[ids[name]] = {
                **common, "resource_type": "source", "fqn": [pname, schema, short],
                "source_name": schema, "source_description": "", "loader": "steward",
                "identifier": short, "loaded_at_field": fresh.get("column"),
                "freshness": _freshness(fresh),
                "source_meta": {}, "config": {"enabled": True},
            }
            parents[ids[name]] = []
            for test in _tests(pname, p, ids[name], file):
                nodes[test["unique_id"]] = test
                parents[test["unique_id"]] = [ids[name], *test["depends_on"]["nodes"][1:]]
            continue
        code = p.code or ""
        inputs = sorted(ids[i] for i in p.inputs if i in ids)
        materialize = spec.get("materialize") or "table"
        nodes[ids[name]] = {
            **common, "resource_type": "model", "name": _node_name(name), "alias": short,
            "fqn": [pname, *(file.split("/")[1:-1]), short] if file else [pname, short],
            "checksum": _checksum(code), "language": "python" if p.kind == "python" else "sql",
            "raw_code": code, "compiled": p.kind == "sql",
            "compiled_code": code if p.kind == "sql" else None,
            "depends_on": {"macros": [], "nodes": inputs},
            "refs": [{"name": _node_name(i), "package": None, "version": None}
                     for i in p.inputs if i in ids and ids[i].startswith("model.")],
            "sources": [list(_split(i)) for i in p.inputs if ids.get(i, "").startswith("source.")],
            "config": {"enabled": True, "materialized": materialize,
                       "tags": list(spec.get("tags") or []), "meta": common["meta"],
                       **({"unique_key": list((spec.get(materialize) or {})
                                              .get("unique_key") or [])}
                          if materialize != "table" else {})},
            "primary_key": list(spec.get("primary_key") or []),
        }
        parents[ids[name]] = inputs
        for test in _tests(pname, p, ids[name], file):
            nodes[test["unique_id"]] = test
            parents[test["unique_id"]] = [ids[name], *test["depends_on"]["nodes"][1:]]
        for c in (spec.get("meta") or {}).get("consumers") or []:
            if not isinstance(c, dict) or not c.get("name"):
                continue
            uid = f"exposure.{pname}.{re.sub(r'[^A-Za-z0-9_]', '_', str(c['name']))}"
            exp = exposures.setdefault(uid, {
                "name": uid.rsplit(".", 1)[1], "resource_type": "exposure",
                "package_name": pname, "path": file, "original_file_path": file,
                "unique_id": uid, "fqn": [pname, uid.rsplit(".", 1)[1]],
                "type": c.get("type") if c.get("type") in _EXPOSURE_TYPES else "application",
                "owner": {"email": c.get("owner"), "name": c.get("owner")},
                "description": c.get("description") or "", "url": c.get("url"),
                "maturity": c.get("maturity") if c.get("maturity") in ("low", "medium", "high")
                else None, "depends_on": {"macros": [], "nodes": []}})
            exp["depends_on"]["nodes"].append(ids[name])
    for uid, exp in exposures.items():
        parents[uid] = sorted(exp["depends_on"]["nodes"])
    children: dict[str, list[str]] = {k: [] for k in parents}
    for child, ps in parents.items():
        for par in ps:
            children.setdefault(par, []).append(child)
    return {
        "metadata": {"dbt_schema_version": MANIFEST_SCHEMA, "dbt_version": DBT_VERSION,
                     "generated_at": _iso(generated), "invocation_id": invocation,
                     "env": {}, "project_name": pname, "adapter_type": "duckdb"},
        "nodes": nodes, "sources": sources, "macros": {}, "docs": {}, "exposures": exposures,
        "metrics": {}, "groups": {}, "selectors": {}, "disabled": {},
        "parent_map": {k: sorted(v) for k, v in parents.items()},
        "child_map": {k: sorted(v) for k, v in children.items()},
        "group_map": {}, "saved_queries": {}, "semantic_models": {}, "unit_tests": {},
    }


def _freshness(fresh: dict[str, Any]) -> dict[str, Any] | None:
    out: dict[str, Any] = {}
    units = {"m": "minute", "h": "hour", "d": "day", "w": "day"}
    for key in ("warn_after", "error_after"):
        value = fresh.get(key)
        m = re.fullmatch(r"(\d+)([mhdw])", str(value or ""))
        if m:
            count = int(m.group(1)) * (7 if m.group(2) == "w" else 1)
            out[key] = {"count": count, "period": units[m.group(2)]}
    return out or None


def _tests(pname: str, p: Product, parent: str, file: str) -> list[dict[str, Any]]:
    """A generic test node per check of ``p`` (its own and its columns')."""
    from steward.core.checks import check_uses

    out = []
    spec = p.spec_dump
    seen: set[str] = set()
    for label, cols, where, to in (p.check_uses if p.check_uses else check_uses(p.spec)):
        check = spec
        for k in where:
            check = check[k]
        kwargs = {k: v for k, v in check.items() if k not in ("type", "name", "description",
                                                              "severity")
                  and v is not None}
        column = cols[0] if len(cols) == 1 else None
        base = f"{label}_{_node_name(p.name)}"
        name = base
        i = 2
        while name in seen:
            name, i = f"{base}_{i}", i + 1
        seen.add(name)
        uid = f"test.{pname}.{name}"
        deps = [parent] + ([unique_id(pname, _Named(to))] if to else [])
        out.append({
            "database": pname, "schema": _split(p.name)[0], "name": name,
            "resource_type": "test", "package_name": pname, "path": file,
            "original_file_path": p.meta_file or file, "unique_id": uid,
            "fqn": [pname, name], "alias": name, "checksum": _checksum(json.dumps(check)),
            "config": {"enabled": True, "severity": str(check.get("severity") or "error")
                       .upper() if check.get("severity") == "warn" else "ERROR",
                       "materialized": "test"},
            "description": check.get("description") or "", "tags": [], "meta": {},
            "test_metadata": {"name": str(check.get("type")), "kwargs": kwargs,
                              "namespace": "steward"},
            "column_name": column, "attached_node": parent, "file_key_name": f"models.{p.name}",
            "depends_on": {"macros": [], "nodes": deps},
            "raw_code": "", "language": "sql", "created_at": 0.0,
        })
    return out


def run_results(project: Project, run: Run, steps: Sequence[Step],
                results: Mapping[str, list[CheckResult]], generated: datetime,
                manifest_nodes: Mapping[str, Any]) -> dict[str, Any]:
    """The v6 run results of ``run``: its steps and the checks of the versions it built."""
    pname = re.sub(r"\W", "_", project.name)
    out: list[dict[str, Any]] = []
    status = {"built": "success", "failed": "error", "skipped": "skipped",
              "blocked": "skipped", "kept": "no-op", "reused": "no-op", "checked": "no-op"}
    tests_of: dict[str, list[dict[str, Any]]] = {}
    for node in manifest_nodes.values():
        if node.get("resource_type") == "test":
            tests_of.setdefault(node["attached_node"], []).append(node)
    for s in steps:
        product = project.products.get(s.product)
        if product is None:
            continue
        uid = unique_id(pname, product)
        started = s.started_at
        done = (started.timestamp() + (s.duration_s or 0)) if started else None
        timing = [{"name": "execute", "started_at": _iso(started) if started else None,
                   "completed_at": _iso(datetime.fromtimestamp(done, UTC)) if done else None}]
        out.append({
            "status": status.get(str(s.status), "success"), "timing": timing,
            "thread_id": "Thread-1", "execution_time": float(s.duration_s or 0.0),
            "adapter_response": {"rows_affected": s.rows} if s.rows is not None else {},
            "message": s.error or (f"{s.status} {s.version_id}" if s.version_id else s.status),
            "failures": None, "unique_id": uid, "compiled": None, "compiled_code": None,
            "relation_name": manifest_nodes.get(uid, {}).get("relation_name"),
        })
        if s.status != "built" or s.version_id is None:
            continue
        by_label = {r.name: r for r in results.get(s.version_id, [])}
        for test in tests_of.get(uid, []):
            label = test["name"][: -len(_node_name(s.product)) - 1] \
                if test["name"].endswith(_node_name(s.product)) else test["name"]
            r = by_label.get(label)
            if r is None:
                continue
            verdict = "pass" if r.status == "pass" else (
                "error" if r.status == "error" else ("warn" if r.severity == "warn" else "fail"))
            out.append({
                "status": verdict, "timing": timing, "thread_id": "Thread-1",
                "execution_time": 0.0, "adapter_response": {}, "message": r.message or None,
                "failures": int(r.failures or 0), "unique_id": test["unique_id"],
                "compiled": None, "compiled_code": None, "relation_name": None,
            })
    return {
        "metadata": {"dbt_schema_version": RUN_RESULTS_SCHEMA, "dbt_version": DBT_VERSION,
                     "generated_at": _iso(generated), "invocation_id": run.id, "env": {}},
        "results": out,
        "elapsed_time": (run.finished_at - run.started_at).total_seconds()
        if run.finished_at else 0.0,
        "args": {"which": "build", "env": run.env},
    }


def write(folder: str, name: str, data: dict[str, Any]) -> str:
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, name)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, default=str)
    os.replace(tmp, path)
    return path
