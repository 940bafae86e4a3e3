"""Seeds and ``sources.yml`` tables as Steward file sources."""

from __future__ import annotations

import os
import re
from typing import Any

_READER = re.compile(r"^\s*(read_\w+|parquet_scan)\s*\(\s*'([^']*)'\s*(?:,(.*))?\)\s*$", re.S)
_FORMATS = {"read_csv": "csv", "read_csv_auto": "csv", "read_parquet": "parquet",
            "parquet_scan": "parquet", "read_json": "json", "read_json_auto": "json",
            "read_ndjson": "ndjson", "read_ndjson_auto": "ndjson"}
_OPTION = re.compile(r"(\w+)\s*=\s*('(?:[^']|'')*'|[^,]+)")
_PERIOD = {"minute": "m", "hour": "h", "day": "d"}


def source_product(source: str, table: str) -> str:
    return f"{_ident(source)}.{_ident(table)}"


def seeds(c: Any) -> None:
    """Each seed's CSV copied under data/seeds/ and declared as a source."""
    for node in c.p.seeds.values():
        cfg = node.config
        if cfg.get("enabled") is False:
            c.note(node.file, 1, f"seed '{node.name}' is disabled: not converted")
            continue
        product = c.names[node.name]
        rel = f"data/seeds/{node.sub}"
        c.copies[rel] = os.path.join(c.p.root, node.file)
        entry: dict[str, Any] = {"path": rel, "format": "csv", "options": {"header": True}}
        if cfg.get("delimiter"):
            entry["options"]["delim"] = cfg["delimiter"]
        side = c.sidecar(node, cfg, product)
        side.pop("meta", None) if side.get("meta") == {"dbt": {}} else None
        types = {str(k): str(v).upper() for k, v in (cfg.get("column_types") or {}).items()}
        for col, typ in types.items():
            side.setdefault("columns", {}).setdefault(col, {})["type"] = typ
        c.config_notes(node, {k: v for k, v in cfg.items()
                              if k not in ("column_types", "delimiter", "quote_columns")})
        c.products[product] = {**entry, **side}
        c.report.seeds += 1


def sources(c: Any) -> None:
    for t in c.p.sources:
        product = source_product(t.source, t.table)
        entry: dict[str, Any] = {}
        path = _location(c, t)
        if path is None:
            c.skip(t.doc.file, t.line(), f"source '{t.source}.{t.table}' has no file location "
                   "(dbt-duckdb's external_location): Steward reads sources from files",
                   f"set its path in sources/{_ident(t.source)}.yml")
            entry["path"] = f"data/{_ident(t.source)}/{_ident(t.table)}.parquet"
        else:
            entry.update(path)
        desc = t.props.get("description") or t.parent.get("description")
        if desc:
            entry["description"] = c.text(desc, t)
        meta = {**(t.parent.get("meta") or {}), **((t.parent.get("config") or {}).get("meta")
                                                    or {}),
                **(t.props.get("meta") or {}), **((t.props.get("config") or {}).get("meta")
                                                  or {})}
        for k in ("external_location", "formatter"):
            meta.pop(k, None)
        owner = meta.pop("owner", None)
        if owner:
            entry["owner"] = str(owner.get("email") if isinstance(owner, dict) else owner)
        tags = [*(t.parent.get("tags") or []), *(t.props.get("tags") or [])]
        if tags:
            entry["tags"] = list(dict.fromkeys(tags))
        fresh = _freshness(c, t)
        if fresh:
            entry["freshness"] = fresh
        cols = c.columns(t.props.get("columns") or [], t, product, ("columns",))
        if cols:
            entry["columns"] = cols
        key = "data_tests" if "data_tests" in t.props else "tests"
        checks = c.tests(t.props.get(key) or [], None, t, product, (key,))
        if checks:
            entry["checks"] = checks
        if meta:
            entry["meta"] = meta
        c.products[product] = entry
        c.report.sources += 1


def _location(c: Any, t: Any) -> dict[str, Any] | None:
    def conf(d: dict[str, Any], key: str) -> Any:
        return (d.get("config") or {}).get(key) or (d.get("meta") or {}).get(key) \
            or (d.get("config") or {}).get("meta", {}).get(key)

    template = conf(t.props, "external_location") or conf(t.parent, "external_location")
    if not template:
        return None
    fields = {"name": t.table, "identifier": t.props.get("identifier") or t.table,
              "schema": t.parent.get("schema") or t.source, "source_name": t.source}
    try:
        loc = str(template).format_map(fields)
    except (KeyError, ValueError, IndexError):
        return None
    m = _READER.match(loc)
    out: dict[str, Any] = {}
    if m:
        fmt = _FORMATS.get(m.group(1).lower())
        if fmt is None:
            return None
        path, out["format"] = m.group(2), fmt
        options = {k: _value(v) for k, v in _OPTION.findall(m.group(3) or "")}
        if options:
            out["options"] = options
    elif "(" in loc:
        return None
    else:
        path = loc.strip().strip("'")
    if "://" not in path and not os.path.isabs(path):
        path = os.path.relpath(os.path.join(c.p.root, path), c.target)
    out["path"] = path.replace(os.sep, "/")
    return {"path": out.pop("path"), **out}


def _freshness(c: Any, t: Any) -> dict[str, Any] | None:
    spec = t.props["freshness"] if "freshness" in t.props else t.parent.get("freshness")
    if spec is None:
        spec = (t.props.get("config") or {}).get("freshness",
                                                (t.parent.get("config") or {}).get("freshness"))
    if not isinstance(spec, dict):
        return None
    out: dict[str, Any] = {}
    column = t.props.get("loaded_at_field") or t.parent.get("loaded_at_field")
    if column:
        out["column"] = column
    for key in ("warn_after", "error_after"):
        after = spec.get(key)
        if isinstance(after, dict) and after.get("count") is not None:
            unit = _PERIOD.get(str(after.get("period")))
            if unit is None:
                c.skip(t.doc.file, t.line("freshness"),
                       f"freshness period '{after.get('period')}' not converted")
                continue
            out[key] = f"{after['count']}{unit}"
    if spec.get("filter"):
        c.skip(t.doc.file, t.line("freshness"), "freshness filter not converted")
    return out if len(out) > (1 if column else 0) else None


def write_sources(c: Any) -> None:
    by_file: dict[str, dict[str, Any]] = {}
    for t in c.p.sources:
        product = source_product(t.source, t.table)
        by_file.setdefault(f"sources/{_ident(t.source)}.yml", {})[product] = c.products[product]
    for node in c.p.seeds.values():
        product = c.names[node.name]
        if product in c.products:
            by_file.setdefault("sources/seeds.yml", {})[product] = c.products[product]
    from steward.interop.dbt.convert import _dump

    for rel, entries in by_file.items():
        clean = {k: {f: v for f, v in e.items() if v not in ({}, [], None)}
                 for k, e in entries.items()}
        c.files[rel] = _dump({"sources": clean})


def _value(text: str) -> Any:
    s = text.strip()
    if s.lower() in ("true", "false"):
        return s.lower() == "true"
    if re.fullmatch(r"-?\d+", s):
        return int(s)
    if s.startswith("'") and s.endswith("'"):
        return s[1:-1].replace("''", "'")
    return s


def _ident(name: str) -> str:
    s = re.sub(r"\W", "_", name)
    return s if re.match(r"[A-Za-z_]", s) else f"_{s}"
