"""Open Data Contract Standard (ODCS v3.1): export a product's contract, import one back.

Export writes columns as schema properties and checks as quality rules, each kind's as
its module in ``steward.core.checkkinds`` says (``Kind.to_odcs`` / ``from_odcs``): the
standard's own metrics where one fits (``nullValues``, ``duplicateValues``,
``invalidValues``, ``rowCount``), a SQL rule counting failing rows for other row-level
checks, and a ``custom`` rule for the rest. Every rule also carries the Steward check itself in a
``customProperties`` entry, so a round trip loses nothing.
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import yaml
from pydantic import TypeAdapter, ValidationError

from steward.core.checkkinds import ALL, KINDS
from steward.core.checks import Check
from steward.core.errors import ConfigError, NotFound, Problem
from steward.quality.compile import failing_predicate, to_sql

API_VERSION = "v3.1.0"
STEWARD_PROP = "stewardCheck"
_LOGICAL = [  # DuckDB type prefix -> ODCS logical type
    (("TINYINT", "SMALLINT", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINT",
      "UBIGINT", "UHUGEINT"), "integer"),
    (("DOUBLE", "FLOAT", "REAL", "DECIMAL", "NUMERIC"), "number"),
    (("BOOL",), "boolean"),
    (("TIMESTAMP", "DATETIME"), "timestamp"),
    (("DATE",), "date"),
    (("TIME",), "time"),
    (("VARCHAR", "TEXT", "STRING", "CHAR", "UUID", "ENUM", "BLOB"), "string"),
    (("STRUCT", "MAP", "JSON"), "object"),
]
_PHYSICAL = {"integer": "BIGINT", "number": "DOUBLE", "boolean": "BOOLEAN",
             "timestamp": "TIMESTAMP", "date": "DATE", "time": "TIME", "string": "VARCHAR"}


def logical_type(physical: str | None) -> str | None:
    if not physical:
        return None
    t = physical.strip().upper()
    if t.endswith("]"):
        return "array"
    for prefixes, logical in _LOGICAL:
        if t.startswith(prefixes):
            return logical
    return None


# -- export ----------------------------------------------------------------------------
def export_contract(product: Any, project: Any, version: Any = None, *,
                    env: str | None = None, previous: dict[str, Any] | None = None,
                    category: str | None = None) -> dict[str, Any]:
    """A product's contract as an ODCS v3.1 document (a plain dict).

    ``previous``: the contract exported before (its version is kept or bumped by
    ``category``, see :mod:`steward.quality.odcs_extra`); ``env``: the environment
    ``version`` is current in (the ``servers`` block).
    """
    from steward.quality import odcs_extra as extra

    spec = product.spec
    actual = {c.name: c.type for c in version.schema} if version is not None else {}
    pk = list(spec.primary_key)
    # checks declared on the table with one column are that column's rules
    by_column: dict[str, list[Any]] = {}
    table_checks = []
    for ch in spec.checks:
        col = getattr(ch, "column", None)
        if isinstance(col, str) and col in spec.columns | actual:
            by_column.setdefault(col, []).append(ch)
        else:
            table_checks.append(ch)
    glossary = getattr(project, "glossary", None)
    props = []
    names = list(spec.columns) + [c for c in actual if c not in spec.columns]
    for name in names:
        c = spec.columns.get(name)
        physical = (c.type if c and c.type else None) or actual.get(name)
        prop: dict[str, Any] = {"name": name}
        if logical_type(physical):
            prop["logicalType"] = logical_type(physical)
        if physical:
            prop["physicalType"] = physical
        if c is not None:
            prop["required"] = not c.nullable
            if c.description:
                prop["description"] = c.description
            if c.classification:
                prop["classification"] = ", ".join(c.classification)
            if c.tags:
                prop["tags"] = list(c.tags)
            if c.glossary:
                term = glossary.terms.get(c.glossary) if glossary is not None else None
                prop["authoritativeDefinitions"] = [extra.glossary_link(
                    c.glossary, term.definition if term is not None else None)]
        quality = [_rule(ch, name) for ch in (*(c.checks if c else ()), *by_column.get(name, ()))
                   if KINDS[ch.type].compiled]
        if quality:
            prop["quality"] = quality
        if name in pk:
            prop["primaryKey"] = True
            prop["primaryKeyPosition"] = pk.index(name) + 1
        props.append(prop)
    # the object is the table its server holds (the version's files, read as a table
    # named after it): name and physicalName are the short name, the product is a
    # custom property (what import maps it back to)
    obj: dict[str, Any] = {"name": product.short_name, "physicalName": product.short_name,
                           "businessName": product.name, "logicalType": "object",
                           "physicalType": "view" if product.kind in ("sql", "python")
                           else "table", "properties": props}
    if spec.description:
        obj["description"] = spec.description.strip()
    if spec.tags:
        obj["tags"] = list(spec.tags)
    obj["customProperties"] = [{"property": "stewardProduct", "value": product.name}]
    table_rules = [_rule(ch, None) for ch in table_checks if KINDS[ch.type].compiled]
    if table_rules:
        obj["quality"] = table_rules
    doc: dict[str, Any] = {
        "apiVersion": API_VERSION, "kind": "DataContract",
        "id": re.sub(r"[^A-Za-z0-9_-]", "-", f"{project.name}-{product.name}"),
        "name": product.name, "version": "1.0.0", "status": "active",
        "domain": product.domain,
    }
    if (srv := extra.servers(project, version, env)):
        doc["servers"] = srv
    if spec.description:
        doc["description"] = {"purpose": spec.description.strip()}
    if spec.tags:
        doc["tags"] = list(spec.tags)
    if spec.owner:
        doc["team"] = {"name": product.domain, "members": [
            {"username": spec.owner, "role": "owner"}]}
    doc["schema"] = [obj]
    if (sla := extra.sla_properties(product)):
        doc["slaProperties"] = sla
    custom = [{"property": "stewardContract",
               "value": spec.contract or project.spec.defaults.contract}]
    if version is not None:
        custom.append({"property": "stewardVersion", "value": version.id})
    doc["customProperties"] = custom
    doc["version"] = extra.next_version(previous, doc, category)
    return doc


def export_yaml(product: Any, project: Any, version: Any = None, **kwargs: Any) -> str:
    return yaml.safe_dump(export_contract(product, project, version, **kwargs),
                          sort_keys=False, allow_unicode=True, width=100)


class _Scope:
    """What a kind's ``to_odcs`` may ask of the quality layer."""

    @staticmethod
    def failing_sql(check: Any) -> str:
        return to_sql(failing_predicate(check))  # type: ignore[arg-type]


def _rule(check: Any, column: str | None) -> dict[str, Any]:
    """One Steward check as an ODCS quality rule: its kind's mapping
    (``Kind.to_odcs``), else a ``custom`` rule carrying the check."""
    rule: dict[str, Any] = {"name": check.label()}
    if check.description:
        rule["description"] = check.description
    to_odcs = KINDS[check.type].to_odcs
    if to_odcs is not None:
        rule.update(to_odcs(check, column, _Scope()))
    else:
        rule.update({"type": "custom", "engine": "steward", "implementation": _dump(check)})
    if "mustBe" not in rule and not any(k.startswith("must") for k in rule) \
            and rule["type"] != "custom":
        rule["mustBe"] = 0
    rule["severity"] = "warning" if check.severity == "warn" else "error"
    rule["customProperties"] = [{"property": STEWARD_PROP,
                                 "value": _dump(check)}]
    return rule


def _dump(check: Any) -> dict[str, Any]:
    return check.model_dump(mode="json", exclude_none=True, exclude_defaults=True)  # type: ignore[no-any-return]


def validate_odcs(doc: dict[str, Any]) -> list[str]:
    """Problems found by the standard's JSON Schema (empty when valid)."""
    import importlib.resources

    import jsonschema

    schema = json.loads(importlib.resources.files("open_data_contract_standard")
                        .joinpath("schema.json").read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(top)'}: {e.message}"
            for e in validator.iter_errors(doc)]


# -- import ----------------------------------------------------------------------------
_ADAPTER: Any = None


def _check(data: dict[str, Any]) -> Any:
    global _ADAPTER
    if _ADAPTER is None:
        _ADAPTER = TypeAdapter(Check)
    return _ADAPTER.validate_python(data)


def rule_to_check(rule: dict[str, Any], column: str | None) -> dict[str, Any] | None:
    """An ODCS quality rule as a Steward check (a YAML-ready dict), or None if not mappable:
    the check it carries, else the first kind that recognises it (``Kind.from_odcs``)."""
    for cp in rule.get("customProperties") or ():
        if cp.get("property") == STEWARD_PROP and isinstance(cp.get("value"), dict):
            return dict(cp["value"])
    severity = "warn" if str(rule.get("severity", "error")).lower() in (
        "warn", "warning", "info") else "error"
    out: dict[str, Any] = {"severity": severity}
    if rule.get("name"):
        out["name"] = re.sub(r"[^A-Za-z0-9_]+", "_", str(rule["name"]))
    if rule.get("description"):
        out["description"] = rule["description"]
    for kind in ALL:
        found = kind.from_odcs(rule, column) if kind.from_odcs is not None else None
        if found is not None:
            return {**out, **found}
    return None


def contract_to_spec(obj: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """One ODCS schema object as a product spec fragment (columns, checks, primary key)."""
    skipped: list[str] = []
    columns: dict[str, Any] = {}
    pk: list[tuple[int, str]] = []
    for prop in obj.get("properties") or ():
        name = prop["name"]
        col: dict[str, Any] = {}
        physical = prop.get("physicalType") or _PHYSICAL.get(prop.get("logicalType") or "")
        if physical:
            col["type"] = physical
        if prop.get("required"):
            col["nullable"] = False
        if prop.get("description"):
            col["description"] = prop["description"]
        if prop.get("classification"):
            col["classification"] = [c.strip() for c in str(prop["classification"]).split(",")]
        if prop.get("tags"):
            col["tags"] = [str(t) for t in prop["tags"]]
        from steward.quality.odcs_extra import glossary_term

        if (term := glossary_term(prop)) is not None:
            col["glossary"] = term
        checks = []
        if prop.get("unique"):
            checks.append({"type": "unique", "column": name})
        for rule in prop.get("quality") or ():
            c = rule_to_check(rule, name)
            if c is None:
                skipped.append(f"{name}: {rule.get('name') or rule.get('metric') or 'rule'}")
            else:
                checks.append(c)
        if checks:
            col["checks"] = checks
        columns[name] = col
        if prop.get("primaryKey"):
            pk.append((prop.get("primaryKeyPosition") or len(pk) + 1, name))
    table_checks = []
    for rule in obj.get("quality") or ():
        c = rule_to_check(rule, None)
        if c is None:
            skipped.append(f"{obj.get('name')}: {rule.get('name') or rule.get('metric') or 'rule'}")
        else:
            table_checks.append(c)
    frag: dict[str, Any] = {}
    if obj.get("description"):
        frag["description"] = obj["description"]
    if obj.get("tags"):
        frag["tags"] = [str(t) for t in obj["tags"]]
    if columns:
        frag["columns"] = columns
    if table_checks:
        frag["checks"] = table_checks
    if pk:
        frag["primary_key"] = [n for _, n in sorted(pk)]
    return frag, skipped


def import_file(project: Any, path: str, product: str | None = None
                ) -> list[tuple[str, str, int, int]]:
    """Write an ODCS file's schema objects into the matching products' YAML.

    Returns ``(product, file written, columns, checks)`` per schema object.
    """
    try:
        with open(path, encoding="utf-8") as f:
            doc = yaml.safe_load(f)
    except OSError as e:
        raise ConfigError(Problem(path, None, f"cannot read the contract: {e.strerror}")) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        raise ConfigError(Problem(path, mark.line + 1 if mark else None,
                                  f"invalid YAML: {getattr(e, 'problem', e)}")) from None
    if not isinstance(doc, dict) or not isinstance(doc.get("schema"), list):
        raise ConfigError(Problem(path, 1, "not an ODCS contract: no 'schema' list"))
    problems = validate_odcs(doc)
    if problems:
        raise ConfigError([Problem(path, None, f"ODCS: {p}") for p in problems[:10]])
    written = []
    mode = next((cp.get("value") for cp in doc.get("customProperties") or ()
                 if cp.get("property") == "stewardContract"), None)
    for obj in doc["schema"]:
        named = next((cp.get("value") for cp in obj.get("customProperties") or ()
                      if cp.get("property") == "stewardProduct"), None)
        target = _find_product(project, product or named or obj.get("physicalName")
                               or obj["name"])
        frag, skipped = contract_to_spec(obj)
        if mode in ("strict", "lenient"):
            frag["contract"] = mode
        from steward.quality.odcs_extra import freshness_of

        if (fresh := freshness_of(doc)) is not None:
            frag["freshness"] = fresh
        if doc.get("team") and isinstance(doc["team"], dict):
            owners = [m["username"] for m in doc["team"].get("members") or ()
                      if m.get("role") == "owner"]
            if owners:
                frag["owner"] = owners[0]
        _validate_checks(frag, path)
        file = _write_spec(project, target, frag)
        n_checks = len(frag.get("checks", ())) + sum(
            len(c.get("checks", ())) for c in frag.get("columns", {}).values())
        written.append((target.name, file, len(frag.get("columns", {})), n_checks))
        if skipped:
            written.append((target.name, "(not mapped: " + "; ".join(skipped) + ")", 0, 0))
    return written


def _find_product(project: Any, name: str) -> Any:
    if name in project.products:
        return project.products[name]
    hits = [p for n, p in project.products.items() if n.split(".", 1)[-1] == name]
    if len(hits) == 1:
        return hits[0]
    raise NotFound(f"the contract describes {name!r}, which is not a product of this "
                   "project; pass --product NAME")


def _validate_checks(frag: dict[str, Any], path: str) -> None:
    problems = []
    all_checks = list(frag.get("checks", ()))
    for c in frag.get("columns", {}).values():
        all_checks += c.get("checks", [])
    for c in all_checks:
        try:
            _check(c)
        except ValidationError as e:
            problems.append(Problem(path, None, f"quality rule {c.get('name') or c['type']}: "
                                                f"{e.errors()[0]['msg']}"))
    if problems:
        raise ConfigError(problems)


def _write_spec(project: Any, product: Any, frag: dict[str, Any]) -> str:
    """Merge ``frag`` into the product's sidecar (models) or its source entry (sources),
    keeping the file's comments, order and layout (round-trip YAML)."""
    from ruamel.yaml import YAML

    rt = YAML()
    rt.preserve_quotes = True
    rt.width = 100
    root = project.root
    if product.is_source:
        file = os.path.join(root, product.meta_file or product.file)
        with open(file, encoding="utf-8") as f:
            data = rt.load(f) or {}
        if "sources" in data and not data["sources"]:
            data["sources"] = {}
        holder: Any = data.get("sources", data)
        key = next((k for k in holder if k in (product.name, product.short_name)),
                   product.name)
        if holder.get(key) is None:
            holder[key] = {}
        _merge(holder[key], frag)
    else:
        if product.meta_file:
            file = os.path.join(root, product.meta_file)
        else:
            file = os.path.join(root, os.path.splitext(product.file)[0] + ".yml")
        data = {}
        if os.path.exists(file):
            with open(file, encoding="utf-8") as f:
                data = rt.load(f) or {}
        _merge(data, frag)
    with open(file, "w", encoding="utf-8") as f:
        rt.dump(data, f)
    return os.path.relpath(file, root)


_COLUMN_KEYS = ("type", "nullable", "description", "classification", "tags", "glossary",
                "checks")


def _merge(target: Any, frag: dict[str, Any]) -> None:
    """``frag``'s keys into ``target`` in place. The contract decides the columns and
    what it maps of each (type, nullability, docs, glossary, tags, checks); a column's
    other keys, and every comment on what the contract leaves alone, stay."""
    for k, v in frag.items():
        if k == "columns" and isinstance(target.get(k), dict) and isinstance(v, dict):
            cols = target[k]
            for name in [n for n in cols if n not in v]:
                del cols[name]
            for name, spec in v.items():
                if isinstance(cols.get(name), dict) and isinstance(spec, dict):
                    for ck in [ck for ck in cols[name] if ck in _COLUMN_KEYS
                               and ck not in spec]:
                        del cols[name][ck]
                    for ck, cv in spec.items():
                        if cols[name].get(ck) != cv:
                            cols[name][ck] = cv
                else:
                    cols[name] = spec
        elif target.get(k) != v:
            target[k] = v
