"""The parts of an ODCS contract beyond columns and rules: glossary links, freshness as
``slaProperties``, a ``servers`` block for the store, and the contract's version, bumped
from the previous export by the plan's category.

Versioning: the first export is ``1.0.0``. Exporting again over a previous contract
keeps its version when nothing in the contract changed, and otherwise bumps it by the
change's category: ``breaking`` -> major, ``non-breaking`` -> minor, ``metadata-only``
-> patch. The category is the plan's for the product (what ``steward plan`` says of its
code and declaration against the environment) when the plan has one; otherwise it is
read from the two contracts (a property removed, retyped or made required, or the
primary key changed: breaking; a property added: non-breaking; anything else: patch).
"""

from __future__ import annotations

import os
import re
from typing import Any

GLOSSARY_URL = "glossary.yaml#/terms/"
_VOLATILE = ("version", "contractCreatedTs")


def glossary_link(term: str, definition: str | None) -> dict[str, Any]:
    link = {"type": "businessDefinition", "url": GLOSSARY_URL + term}
    if definition:
        link["description"] = definition
    return link


def glossary_term(prop: dict[str, Any]) -> str | None:
    """The glossary term an imported property links to, if any."""
    for d in prop.get("authoritativeDefinitions") or ():
        url = str(d.get("url") or "")
        if d.get("type") == "businessDefinition" and url.startswith(GLOSSARY_URL):
            return url[len(GLOSSARY_URL):]
    return None


def sla_properties(product: Any) -> list[dict[str, Any]]:
    """The product's freshness SLO as ODCS ``slaProperties`` (error and warning ages)."""
    slo = product.spec.freshness
    if slo is None:
        return []
    element = f"{product.name}.{slo.column}" if slo.column else product.name
    out = []
    for after, driver in ((slo.error_after, "operational"), (slo.warn_after, "analytics")):
        if after is None:
            continue
        m = re.match(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$", after)
        if not m:
            continue
        value = float(m.group(1))
        unit = {"s": "s", "m": "min", "h": "h", "d": "d", "w": "w"}[m.group(2)]
        out.append({"property": "freshness", "value": int(value) if value.is_integer() else value,
                    "unit": unit, "element": element, "driver": driver,
                    "description": ("stale: an error" if driver == "operational"
                                    else "stale: a warning") + f" after {after.strip()}"})
    return out


def freshness_of(doc: dict[str, Any]) -> dict[str, Any] | None:
    """An imported contract's freshness ``slaProperties`` as a Steward ``freshness`` SLO."""
    out: dict[str, Any] = {}
    for sla in doc.get("slaProperties") or ():
        if sla.get("property") not in ("freshness", "latency") or sla.get("value") is None:
            continue
        unit = {"min": "m", "m": "m", "s": "s", "h": "h", "hour": "h", "hours": "h",
                "d": "d", "day": "d", "days": "d", "w": "w"}.get(str(sla.get("unit", "d")))
        if unit is None:
            continue
        v = sla["value"]
        after = f"{int(v) if float(v).is_integer() else v}{unit}"
        key = "warn_after" if sla.get("driver") == "analytics" else "error_after"
        out.setdefault(key, after)
        element = str(sla.get("element") or "")
        if element.count(".") >= 2:  # domain.product.column
            out.setdefault("column", element.rsplit(".", 1)[1])
    return out or None


def servers(project: Any, version: Any, env: str | None) -> list[dict[str, Any]]:
    """Where the version's Parquet files are: a ``local`` server for a folder store, an
    ``s3`` one for ``s3://`` (none when no version was built)."""
    if version is None or not version.path:
        return []
    store = str(project.spec.store)
    name = env or "prod"
    if store.startswith("s3://"):
        location = f"{store.rstrip('/')}/{version.path}/data/*.parquet"
        return [{"server": name, "type": "s3", "environment": name, "location": location,
                 "format": "parquet"}]
    if "://" in store:
        return []
    base = store if os.path.isabs(store) else os.path.join(project.root, store)
    folder = version.path if os.path.isabs(version.path) else os.path.join(
        base, *version.path.split("/"))
    return [{"server": name, "type": "local", "environment": name,
             "path": os.path.join(folder, "data", "*.parquet"), "format": "parquet"}]


def _stable(doc: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in doc.items() if k not in _VOLATILE}
    out["customProperties"] = [c for c in doc.get("customProperties") or ()
                               if c.get("property") != "stewardVersion"]
    out.pop("servers", None)
    return out


def contract_category(previous: dict[str, Any], doc: dict[str, Any]) -> str:
    """breaking / non-breaking / metadata-only, read from two contracts."""
    def props(d: dict[str, Any]) -> dict[str, dict[str, Any]]:
        objs = d.get("schema") or []
        return {p["name"]: p for o in objs for p in o.get("properties") or ()
                if isinstance(p, dict) and "name" in p}

    old, new = props(previous), props(doc)
    for name, p in old.items():
        q = new.get(name)
        if q is None:
            return "breaking"
        for k in ("logicalType", "physicalType", "primaryKey", "primaryKeyPosition"):
            if p.get(k) != q.get(k):
                return "breaking"
        if q.get("required") and not p.get("required"):
            return "breaking"
    if set(new) - set(old):
        return "non-breaking"
    return "metadata-only"


def next_version(previous: dict[str, Any] | None, doc: dict[str, Any],
                 category: str | None = None) -> str:
    """The version ``doc`` is exported with, after ``previous`` (see the module)."""
    if not previous:
        return "1.0.0"
    m = re.match(r"^\s*(\d+)\.(\d+)\.(\d+)", str(previous.get("version") or ""))
    if not m:
        return "1.0.0"
    major, minor, patch = (int(x) for x in m.groups())
    if _stable(previous) == _stable(doc):
        return f"{major}.{minor}.{patch}"
    category = category or contract_category(previous, doc)
    if category == "breaking":
        return f"{major + 1}.0.0"
    if category == "non-breaking":
        return f"{major}.{minor + 1}.0"
    return f"{major}.{minor}.{patch + 1}"
