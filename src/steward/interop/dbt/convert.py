"""``steward import dbt PATH``: a dbt project converted into a Steward project folder.

Models become SQL products (Jinja rendered, or dbt's compiled SQL when a
``target/manifest.json`` holds it), seeds and ``sources.yml`` tables become file
sources, tests become checks, exposures become the ``consumers`` of the products they
read. Everything that is not converted is listed with its file and line, never dropped
in silence: :class:`ImportReport` carries the list, and ``IMPORTED_FROM_DBT.md`` in the
new folder keeps it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
from dataclasses import dataclass, field
from typing import Any

import yaml

from steward.core.errors import Problem, StewardError
from steward.interop.dbt import sources as srcs
from steward.interop.dbt.manifest import Manifest, find_manifest, read_manifest, rewrite_relations
from steward.interop.dbt.project import DbtProject, Node, read_project
from steward.interop.dbt.render import Relation, Renderer, RenderError, docs_blocks
from steward.interop.dbt.tests import THIS, NotConverted, parse_entry, to_check

# model configs the import carries over; any other is listed as not converted
_HANDLED = frozenset({"materialized", "tags", "meta", "enabled", "docs", "unique_key",
                      "incremental_strategy", "on_schema_change", "contract", "column_types",
                      "quote_columns", "delimiter", "strategy", "updated_at", "check_cols",
                      "target_schema", "target_database", "schema", "database", "alias",
                      "persist_docs", "grants", "access", "group", "full_refresh", "packages"})
# configs that only name where dbt writes a table: Steward names products by folder
_NAMING = frozenset({"schema", "database", "alias", "target_schema", "target_database"})


@dataclass
class ImportReport:
    target: str
    models: int = 0
    sources: int = 0
    seeds: int = 0
    snapshots: int = 0
    checks: int = 0
    consumers: int = 0
    used_manifest: str | None = None
    not_converted: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def import_dbt(path: str, into: str | None = None, *, manifest: str | None = None,
               use_manifest: bool = True) -> ImportReport:
    """Convert the dbt project at ``path`` into a Steward project in ``into``."""
    root = os.path.abspath(path)
    p = read_project(root)
    target = os.path.abspath(into or os.path.join(os.path.dirname(root),
                                                  f"{os.path.basename(root)}_steward"))
    if os.path.exists(os.path.join(target, "steward.yaml")):
        raise StewardError(f"{target}/steward.yaml already exists; nothing was changed "
                           "(import into a new folder)")
    mpath = manifest or (find_manifest(root) if use_manifest else None)
    return _Converter(p, target, read_manifest(mpath, p.name) if mpath else None).run()


class _Converter:
    def __init__(self, p: DbtProject, target: str, manifest: Manifest | None):
        self.p, self.target, self.manifest = p, target, manifest
        self.report = ImportReport(target, used_manifest=manifest.file if manifest else None)
        self.files: dict[str, str] = {}  # relative path -> text
        self.copies: dict[str, str] = {}  # relative path -> absolute file to copy
        self.products: dict[str, dict[str, Any]] = {}  # product -> sidecar / source entry
        self.names: dict[str, str] = {}  # dbt model / seed / snapshot name -> product
        for name, node in p.models.items():
            self.names[name] = _model_product(node)
        for name in p.seeds:
            self.names[name] = f"seeds.{_ident(name)}"
        for name in p.snapshots:
            self.names[name] = f"snapshots.{_ident(name)}"
        docs: dict[str, str] = {}
        for _, text in p.docs_files:
            docs.update(docs_blocks(text))
        self.renderer = Renderer(p.name, p.vars, self.ref, srcs.source_product,
                                 p.macro_files, docs)
        for e in self.renderer.problems:
            self.skip(e.file, e.line, e.message, "models calling this macro are listed too")

    # -- names --
    def ref(self, name: str) -> str:
        if name not in self.names:
            raise RenderError("", None, f"ref('{name}'): no model, seed or snapshot of that name")
        return self.names[name]

    def ref_or_none(self, rtype: str, name: Any) -> str | None:
        if rtype == "source":
            return srcs.source_product(*name)
        return self.names.get(str(name))

    def skip(self, file: str, line: int | None, what: str, hint: str | None = None) -> None:
        self.report.not_converted.append(Problem(file, line, what, hint))

    def note(self, file: str, line: int | None, what: str) -> None:
        self.report.notes.append(Problem(file, line, what))

    # -- the conversion --
    def run(self) -> ImportReport:
        self.report.not_converted.extend(self.p.problems)
        for node in self.p.models.values():
            self.model(node)
        for node in self.p.snapshots.values():
            self.snapshot(node)
        srcs.seeds(self)
        srcs.sources(self)
        for node in self.p.tests:
            self.singular_test(node)
        self.exposures()
        self.write()
        return self.report

    def model(self, node: Node) -> None:
        cfg = node.config
        if cfg.get("enabled") is False:
            self.note(node.file, 1, f"model '{node.name}' is disabled: not converted")
            return
        product = self.names[node.name]
        rendered = self.sql_of("model", node, product)
        if rendered is None:
            return
        sql, called = rendered
        cfg = {**cfg, **called}
        materialized = str(cfg.get("materialized") or "view")
        incremental = self.incremental(node, cfg) if materialized == "incremental" else None
        if materialized not in ("view", "table", "ephemeral", "incremental"):
            self.skip(node.file, _line_of(node.text, "materialized") or 1,
                      f"materialization '{materialized}' of '{node.name}' converted as a table")
        self.config_notes(node, cfg)
        side = self.sidecar(node, cfg, product)
        if incremental:
            side = {"materialize": "incremental", "incremental": incremental, **side}
        self.add_product(product, _model_file(node), sql, side)
        self.report.models += 1

    def incremental(self, node: Node, cfg: dict[str, Any]) -> dict[str, Any] | None:
        """An incremental model's ``incremental:`` spec: its unique_key and the filter its
        ``is_incremental()`` branch adds, as a predicate on the model's output."""
        line = _line_of(node.text, "is_incremental") or _line_of(node.text, "incremental") or 1
        key = cfg.get("unique_key")
        keys = [key] if isinstance(key, str) else list(key or [])
        strategy = str(cfg.get("incremental_strategy") or ("merge" if keys else "append"))
        if strategy not in ("merge", "delete+insert", "append"):
            self.note(node.file, line, f"incremental strategy '{strategy}' of '{node.name}' "
                      "converted as a full rebuild")
            return None
        spec: dict[str, Any] = {}
        if keys and strategy != "append":
            spec["unique_key"] = keys
        else:
            spec["strategy"] = "append"
        try:
            full, _, _ = self.renderer.render(node.file, node.text, config=node.config,
                                              this=self.names[node.name])
            more, _, _ = self.renderer.render(node.file, node.text, config=node.config,
                                              this=THIS, incremental=True)
        except RenderError:
            full = more = ""
        a, b = " ".join(full.split()), " ".join(more.split())
        tail = b[len(a):].strip() if b.startswith(a) else ""
        if tail[:6].lower() == "where ":
            spec["where"] = tail[6:].strip()
            self.note(node.file, line, f"incremental model '{node.name}': its is_incremental() "
                      f"filter is applied to the model's output (incremental.where)")
        elif a != b:
            self.note(node.file, line, f"incremental model '{node.name}': its is_incremental() "
                      "branch is not a trailing 'where': every build reads all rows and "
                      + ("merges them on the unique_key" if keys else "appends them"))
        return spec

    def sql_of(self, kind: str, node: Node, product: str) -> tuple[str, dict[str, Any]] | None:
        """The model's SQL: dbt's compiled SQL when the manifest has it, else rendered."""
        compiled = self.manifest.compiled.get((kind, node.name)) if self.manifest else None
        config: dict[str, Any] = {}
        if compiled is not None:
            sql, _ = rewrite_relations(compiled, self.manifest, self.ref_or_none)  # type: ignore[arg-type]
            # config() calls are still read from the source
            with contextlib.suppress(RenderError):
                _, config, _ = self.renderer.render(node.file, node.text, config=node.config,
                                                    this=product)
            return sql, config
        try:
            sql, config, _ = self.renderer.render(node.file, node.text, config=node.config,
                                                  this=product)
        except RenderError as e:
            self.skip(e.file or node.file, e.line, f"{kind} '{node.name}' not converted: "
                      f"{e.message}", "compile the project with dbt (target/manifest.json) "
                      "or rewrite this part")
            return None
        return sql, config

    def config_notes(self, node: Node, cfg: dict[str, Any]) -> None:
        line = node.props_line("config")[1] if node.props_doc else 1
        where = node.props_doc.file if node.props_doc else node.file
        for key in sorted(cfg):
            if key in ("pre-hook", "post-hook", "pre_hook", "post_hook", "sql_header"):
                if cfg[key]:
                    self.skip(node.file, _line_of(node.text, key.replace("-", "_")) or line,
                              f"{key} of '{node.name}' not converted",
                              "Steward products are queries; run side effects elsewhere")
            elif key in _NAMING:
                self.note(where, line, f"{key} '{cfg[key]}' of '{node.name}' not converted: "
                          "Steward names products by their folder")
            elif key not in _HANDLED:
                self.skip(where, line, f"config '{key}' of '{node.name}' not converted")

    def sidecar(self, node: Node, cfg: dict[str, Any], product: str) -> dict[str, Any]:
        props = node.props
        side: dict[str, Any] = {}
        if props.get("description"):
            side["description"] = self.text(props["description"], node)
        meta = dict(cfg.get("meta") or {})
        owner = meta.pop("owner", None)
        if owner:
            side["owner"] = _owner(owner)
        tags = cfg.get("tags") or []
        if tags:
            side["tags"] = [tags] if isinstance(tags, str) else list(tags)
        contract = cfg.get("contract") or {}
        if isinstance(contract, dict) and contract.get("enforced"):
            side["contract"] = "strict"
        dbt = {k: cfg[k] for k in ("materialized",) if k in cfg}
        if dbt:
            meta["dbt"] = dbt
        side["columns"] = self.columns(node.props.get("columns") or [], node, product,
                                       ("columns",))
        checks = self.tests(props.get("data_tests") or props.get("tests") or [], None, node,
                            product, ("data_tests" if "data_tests" in props else "tests",))
        if checks:
            side["checks"] = checks
        if meta:
            side["meta"] = meta
        return side

    def columns(self, cols: list[Any], node: Any, product: str, loc: tuple[Any, ...]
                ) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for i, col in enumerate(cols):
            if not isinstance(col, dict) or "name" not in col:
                continue
            name = str(col["name"])
            spec: dict[str, Any] = {}
            if col.get("data_type"):
                spec["type"] = str(col["data_type"]).upper()
            if col.get("description"):
                spec["description"] = self.text(col["description"], node)
            tags = col.get("tags") or (col.get("config") or {}).get("tags")
            if tags:
                spec["tags"] = [tags] if isinstance(tags, str) else list(tags)
            for c in col.get("constraints") or []:
                if isinstance(c, dict) and c.get("type") == "not_null":
                    spec["nullable"] = False
            key = "data_tests" if "data_tests" in col else "tests"
            checks = self.tests(col.get(key) or [], name, node, product, (*loc, i, key))
            if checks:
                spec["checks"] = checks
            out[name] = spec
        return out

    def tests(self, entries: list[Any], column: str | None, node: Any, product: str,
              loc: tuple[Any, ...]) -> list[Any]:
        out = []
        for i, entry in enumerate(entries):
            file, line = _where(node, (*loc, i))
            try:
                test = parse_entry(entry)
                check, notes = to_check(test, column, self.renderer, file, self.ref,
                                        srcs.source_product)
            except (NotConverted, RenderError) as e:
                msg = e.message if isinstance(e, RenderError) else str(e)
                self.skip(file, line, f"test on {product}{'.' + column if column else ''}: {msg}")
                continue
            for n in notes:
                self.note(file, line, f"test '{test.name}' on {product}: {n}")
            if check is not None:
                out.append(_short(check, column))
                self.report.checks += 1
        return out

    def snapshot(self, node: Node) -> None:
        product = self.names[node.name]
        rendered = self.sql_of("snapshot", node, product)
        if rendered is None:
            return
        body, called = rendered
        cfg = {**node.config, **called}
        key, strategy = cfg.get("unique_key"), cfg.get("strategy")
        keys = [key] if isinstance(key, str) else list(key or [])
        if not keys or strategy not in ("timestamp", "check"):
            self.skip(node.file, 1, f"snapshot '{node.name}' needs unique_key and a timestamp "
                      "or check strategy")
            return
        snap: dict[str, Any] = {"unique_key": keys, "strategy": strategy}
        if strategy == "timestamp":
            snap["updated_at"] = str(cfg.get("updated_at"))
        else:
            cols = cfg.get("check_cols") or "all"
            snap["check_cols"] = cols if cols == "all" else list(cols)
        snap["columns"] = "dbt"  # dbt_scd_id, dbt_valid_from...: as dbt named them
        for key in ("hard_deletes", "invalidate_hard_deletes", "dbt_valid_to_current",
                    "snapshot_meta_column_names"):
            if cfg.get(key) not in (None, False, "ignore"):
                self.skip(node.file, 1, f"snapshot '{node.name}': {key} not converted "
                          "(rows that disappear keep their open record)")
        side = {"materialize": "snapshot", "snapshot": snap,
                **self.sidecar(node, cfg, product)}
        self.add_product(product, f"models/snapshots/{_ident(node.name)}.sql", body, side)
        self.report.snapshots += 1

    def singular_test(self, node: Node) -> None:
        try:
            sql, called, refs = self.renderer.render(node.file, node.text)
        except RenderError as e:
            compiled = self.manifest.compiled.get(("test", node.name)) if self.manifest else None
            if compiled is None:
                self.skip(e.file or node.file, e.line, f"test '{node.name}' not converted: "
                          f"{e.message}")
                return
            sql, refs = rewrite_relations(compiled, self.manifest, self.ref_or_none)  # type: ignore[arg-type]
            called = {}
        owners = [r for r in refs if r in self.products]
        if not owners:
            self.skip(node.file, 1, f"test '{node.name}' reads no converted model")
            return
        owner = owners[0]
        query = re.sub(rf"(?<![\w.]){re.escape(owner)}(?![\w.])", THIS, sql)
        check: dict[str, Any] = {"type": "sql", "name": node.name, "query": _tidy(query)}
        if str(called.get("severity", "error")).lower() == "warn":
            check["severity"] = "warn"
        self.products[owner].setdefault("checks", []).append(
            {"sql": {k: v for k, v in check.items() if k != "type"}})
        self.report.checks += 1

    def exposures(self) -> None:
        for exposure, doc, loc in self.p.exposures:
            owner = exposure.get("owner") or {}
            consumer = {k: v for k, v in {
                "name": exposure.get("name"), "type": exposure.get("type"),
                "owner": owner.get("email") or owner.get("name"),
                "url": exposure.get("url"), "maturity": exposure.get("maturity"),
                "description": exposure.get("description")}.items() if v}
            found = False
            for dep in exposure.get("depends_on") or []:
                from steward.interop.dbt.tests import relation_of

                try:
                    product = relation_of(dep, self.ref, srcs.source_product)
                except (NotConverted, RenderError):
                    product = None
                if product not in self.products:
                    self.skip(doc.file, doc.line((*loc, "depends_on")),
                              f"exposure '{exposure.get('name')}': {dep} is not converted")
                    continue
                meta = self.products[product].setdefault("meta", {})
                meta.setdefault("consumers", []).append(consumer)
                found = True
            self.report.consumers += found

    # -- output --
    def text(self, value: Any, node: Any) -> str:
        s = str(value)
        if "{{" not in s:
            return s.strip()
        try:
            return self.renderer.render_string(s, getattr(node, "file", "")).strip()
        except RenderError as e:
            self.note(getattr(node, "file", ""), None, f"description kept as written: {e}")
            return s.strip()

    def add_product(self, product: str, rel: str, sql: str, side: dict[str, Any]) -> None:
        self.files[rel] = _tidy(sql)
        self.products[product] = side
        self.files[rel[:-4] + ".yml"] = ""  # filled in write(): checks may still be added
        self._sidecars = getattr(self, "_sidecars", {})
        self._sidecars[rel[:-4] + ".yml"] = product

    def write(self) -> None:
        for rel, product in getattr(self, "_sidecars", {}).items():
            side = {k: v for k, v in self.products[product].items() if v not in ({}, [], None)}
            self.files[rel] = _dump(side)
        srcs.write_sources(self)
        name = _ident(self.p.name)
        settings: dict[str, Any] = {"name": name,
                                    "description": f"Imported from the dbt project "
                                                   f"'{self.p.name}'."}
        if self.p.vars:
            settings["vars"] = self.p.vars
        self.files["steward.yaml"] = _dump(settings)
        self.files[".gitignore"] = ".steward/\n"
        self.files["IMPORTED_FROM_DBT.md"] = _report_text(self.report, self.p)
        os.makedirs(self.target, exist_ok=True)
        for rel, text in self.files.items():
            out = os.path.join(self.target, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            with open(out, "w", encoding="utf-8") as f:
                f.write(text)
        for rel, src in self.copies.items():
            out = os.path.join(self.target, rel)
            os.makedirs(os.path.dirname(out), exist_ok=True)
            shutil.copyfile(src, out)


def _model_product(node: Node) -> str:
    parts = node.sub.split("/")
    return f"{_ident(parts[0])}.{_ident(node.name)}" if len(parts) > 1 else _ident(node.name)


def _model_file(node: Node) -> str:
    parts = node.sub.split("/")
    if len(parts) > 1:
        parts[0] = _ident(parts[0])
    return "models/" + "/".join(parts)


def _ident(name: str) -> str:
    s = re.sub(r"\W", "_", name)
    return s if re.match(r"[A-Za-z_]", s) else f"_{s}"


def _owner(owner: Any) -> str:
    if isinstance(owner, dict):
        return str(owner.get("email") or owner.get("name"))
    return str(owner)


def _where(node: Any, loc: tuple[Any, ...]) -> tuple[str, int]:
    if isinstance(node, Node):
        return node.props_line(*loc)
    return node.doc.file, node.line(*loc)  # a SourceTable


def _short(check: dict[str, Any], column: str | None) -> Any:
    """A check in the short YAML form Steward users write."""
    kind = check["type"]
    args = {k: v for k, v in check.items() if k != "type"
            and not (k == "column" and v == column)}
    return kind if not args else {kind: args}


def _line_of(text: str, word: str) -> int | None:
    i = text.find(word)
    return text.count("\n", 0, i) + 1 if i >= 0 else None


def _tidy(sql: str) -> str:
    lines = [ln.rstrip() for ln in sql.strip("\n").splitlines()]
    out: list[str] = []
    for ln in lines:
        if ln.strip() or (out and out[-1].strip()):
            out.append(ln)
    return "\n".join(out).strip() + "\n"


class _Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    pass  # (libyaml when present: a 500-model import writes a thousand files)


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    if "\n" in value:  # SQL reads as written: a literal block
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_str(value)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(Relation, lambda d, v: _str(d, str(v)))


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100,
                     default_flow_style=False)


def _report_text(report: ImportReport, p: DbtProject) -> str:
    lines = [f"# Imported from the dbt project '{p.name}'", "",
             f"{report.models} models, {report.snapshots} snapshots, {report.seeds} seeds, "
             f"{report.sources} sources, {report.checks} checks, {report.consumers} "
             "exposures (as consumers)"
             + (f"; SQL compiled by dbt, read from {report.used_manifest}"
                if report.used_manifest else "; SQL rendered from the project's Jinja") + ".",
             "", "## Not converted", ""]
    lines += [f"- {x.render()}" for x in report.not_converted] or ["- nothing"]
    lines += ["", "## Converted with a difference", ""]
    lines += [f"- {x.render()}" for x in report.notes] or ["- nothing"]
    return "\n".join(lines) + "\n"
