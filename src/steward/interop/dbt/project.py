"""A dbt project folder read as plain data: its settings, files, properties and configs.

Nothing here renders Jinja or writes anything; :mod:`steward.interop.dbt.convert` does.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from steward.core.errors import ConfigError, Problem
from steward.project.yamlload import Located, load_yaml

# configs a model, seed or snapshot may set in dbt_project.yml without the `+` prefix
_CONFIG_KEYS = frozenset({
    "materialized", "tags", "meta", "enabled", "schema", "alias", "database", "docs",
    "persist_docs", "pre-hook", "post-hook", "pre_hook", "post_hook", "full_refresh",
    "unique_key", "incremental_strategy", "on_schema_change", "column_types", "quote_columns",
    "delimiter", "contract", "grants", "group", "access", "strategy", "updated_at",
    "check_cols", "target_schema", "target_database", "packages", "sql_header",
    "incremental_predicates", "batch_size", "event_time", "lookback", "begin", "concurrent_batches",
    "snapshot_meta_column_names", "hard_deletes", "invalidate_hard_deletes", "dbt_valid_to_current",
    "severity", "store_failures", "where", "limit", "warn_if", "error_if", "fail_calc",
})


_SNAPSHOT = re.compile(r"\{%-?\s*snapshot\s+(\w+)\s*-?%\}(.*?)\{%-?\s*endsnapshot\s*-?%\}",
                       re.S)


@dataclass
class Node:
    """A model, seed, snapshot file or singular test of the dbt project."""

    kind: str  # model | seed | snapshot | test
    name: str
    file: str  # relative to the dbt project
    sub: str  # relative to its resource folder (models/, seeds/...)
    text: str = ""
    config: dict[str, Any] = field(default_factory=dict)
    props: dict[str, Any] = field(default_factory=dict)
    props_doc: Located | None = None
    props_loc: tuple[Any, ...] = ()

    def props_line(self, *loc: Any) -> tuple[str, int]:
        if self.props_doc is None:
            return self.file, 1
        return self.props_doc.file, self.props_doc.line((*self.props_loc, *loc))


@dataclass
class SourceTable:
    source: str
    table: str
    props: dict[str, Any]  # the table's entry
    parent: dict[str, Any]  # the source's entry
    doc: Located
    loc: tuple[Any, ...]

    def line(self, *loc: Any) -> int:
        return self.doc.line((*self.loc, *loc))


@dataclass
class DbtProject:
    root: str
    name: str
    settings: dict[str, Any]
    settings_doc: Located
    vars: dict[str, Any]
    models: dict[str, Node] = field(default_factory=dict)
    seeds: dict[str, Node] = field(default_factory=dict)
    snapshots: dict[str, Node] = field(default_factory=dict)
    tests: list[Node] = field(default_factory=list)
    macro_files: list[tuple[str, str, str | None]] = field(default_factory=list)
    docs_files: list[tuple[str, str]] = field(default_factory=list)
    sources: list[SourceTable] = field(default_factory=list)
    exposures: list[tuple[dict[str, Any], Located, tuple[Any, ...]]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)  # what is not converted

    def paths(self, key: str, default: str) -> list[str]:
        value = self.settings.get(key) or [default]
        return [value] if isinstance(value, str) else [str(v) for v in value]

    def skip(self, file: str, line: int | None, what: str, hint: str | None = None) -> None:
        self.problems.append(Problem(file, line, what, hint))


def read_project(root: str) -> DbtProject:
    """Read the dbt project at ``root``: files, properties, configs (no rendering)."""
    path = os.path.join(root, "dbt_project.yml")
    if not os.path.isfile(path):
        raise ConfigError(Problem(path, None, "no dbt_project.yml here",
                                  "pass the folder of a dbt project"))
    doc = _yaml(root, "dbt_project.yml")
    if doc.problems:
        raise ConfigError(doc.problems)
    settings = doc.data if isinstance(doc.data, dict) else {}
    name = str(settings.get("name") or os.path.basename(os.path.abspath(root)))
    raw_vars = settings.get("vars") or {}
    vars_: dict[str, Any] = {k: v for k, v in raw_vars.items() if not isinstance(v, dict)
                             or k != name}
    if isinstance(raw_vars.get(name), dict):  # vars scoped to the project
        vars_.update(raw_vars[name])
    p = DbtProject(root, name, settings, doc, vars_)
    for folder in p.paths("model-paths", "models"):
        for rel, sub in _files(root, folder, (".sql", ".py")):
            stem = os.path.splitext(os.path.basename(rel))[0]
            if rel.endswith(".py"):
                p.skip(rel, 1, f"Python model '{stem}' is not converted",
                       "write it as a Steward Python product (models/*.py with @product)")
                continue
            p.models[stem] = Node("model", stem, rel, sub, _read(root, rel))
    for folder in p.paths("seed-paths", "seeds"):
        for rel, sub in _files(root, folder, (".csv",)):
            stem = os.path.splitext(os.path.basename(rel))[0]
            p.seeds[stem] = Node("seed", stem, rel, sub)
    for folder in p.paths("snapshot-paths", "snapshots"):
        for rel, sub in _files(root, folder, (".sql",)):
            text = _read(root, rel)
            for m in _SNAPSHOT.finditer(text):
                line = text.count("\n", 0, m.start(2)) + 1
                # the body keeps its lines: errors point into the file
                body = "\n" * (line - 1) + m.group(2)
                p.snapshots[m.group(1)] = Node("snapshot", m.group(1), rel, sub, body)
    for folder in p.paths("test-paths", "tests"):
        for rel, sub in _files(root, folder, (".sql",)):
            if sub.split("/")[0] == "generic":
                p.macro_files.append((rel, _read(root, rel), None))
                continue
            stem = os.path.splitext(os.path.basename(rel))[0]
            p.tests.append(Node("test", stem, rel, sub, _read(root, rel)))
    for folder in p.paths("macro-paths", "macros"):
        for rel, _ in _files(root, folder, (".sql",)):
            p.macro_files.append((rel, _read(root, rel), None))
    for folder in {*p.paths("model-paths", "models"), *p.paths("macro-paths", "macros"),
                   *p.paths("docs-paths", "models")}:
        for rel, _ in _files(root, folder, (".md",)):
            p.docs_files.append((rel, _read(root, rel)))
    _read_packages(p)
    for folder in {*p.paths("model-paths", "models"), *p.paths("seed-paths", "seeds"),
                   *p.paths("snapshot-paths", "snapshots")}:
        for rel, _ in _files(root, folder, (".yml", ".yaml")):
            _read_properties(p, rel)
    for kind, nodes in (("models", p.models), ("seeds", p.seeds), ("snapshots", p.snapshots)):
        for node in nodes.values():
            node.config = _merge(project_config(p, kind, node), node.props.get("config") or {})
            for key in ("tags", "meta", "docs"):  # older property files set these directly
                if key in node.props:
                    node.config = _merge(node.config, {key: node.props[key]})
    return p


def project_config(p: DbtProject, kind: str, node: Node) -> dict[str, Any]:
    """The configs dbt_project.yml gives ``node`` (folder by folder, then its name)."""
    tree = p.settings.get(kind) or {}
    out: dict[str, Any] = _configs(tree)
    level = tree.get(p.name) if isinstance(tree.get(p.name), dict) else None
    parts = [*node.sub.split("/")[:-1], node.name]
    while isinstance(level, dict):
        out = _merge(out, _configs(level))
        if not parts:
            break
        level = level.get(parts.pop(0))
    return out


def _configs(level: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in level.items():
        if k.startswith("+"):
            out[k[1:]] = v
        elif k in _CONFIG_KEYS and (not isinstance(v, dict) or k in {"meta", "column_types",
                                                                   "docs", "contract"}):
            out[k] = v
    return out


def _merge(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for k, v in b.items():
        if k == "tags":
            old = out.get("tags") or []
            new = [v] if isinstance(v, str) else list(v or [])
            out["tags"] = [*([old] if isinstance(old, str) else old),
                           *[t for t in new if t not in old]]
        elif k == "meta" and isinstance(v, dict):
            out["meta"] = {**(out.get("meta") or {}), **v}
        else:
            out[k] = v
    return out


def _read_properties(p: DbtProject, rel: str) -> None:
    doc = _yaml(p.root, rel)
    if doc.problems:
        p.problems.extend(doc.problems)
        return
    data = doc.data if isinstance(doc.data, dict) else {}
    for kind, nodes in (("models", p.models), ("seeds", p.seeds), ("snapshots", p.snapshots)):
        for i, entry in enumerate(data.get(kind) or []):
            if not isinstance(entry, dict) or "name" not in entry:
                continue
            node = nodes.get(str(entry["name"]))
            if node is None:
                if kind == "snapshots" and "relation" in entry:
                    p.skip(rel, doc.line((kind, i)), f"snapshot '{entry['name']}' declared in "
                           "YAML is not converted", "declare it as a snapshots/*.sql block")
                else:
                    p.skip(rel, doc.line((kind, i)),
                           f"properties of {kind[:-1]} '{entry['name']}', which has no file")
                continue
            node.props, node.props_doc, node.props_loc = entry, doc, (kind, i)
            for key in ("versions", "latest_version"):
                if key in entry:
                    p.skip(rel, doc.line((kind, i, key)),
                           f"model versions of '{entry['name']}' are not converted",
                           "Steward keeps every built version of a product; one file each")
    for i, src in enumerate(data.get("sources") or []):
        if not isinstance(src, dict):
            continue
        for j, table in enumerate(src.get("tables") or []):
            if isinstance(table, dict) and "name" in table:
                p.sources.append(SourceTable(str(src["name"]), str(table["name"]), table, src,
                                             doc, ("sources", i, "tables", j)))
    for i, exposure in enumerate(data.get("exposures") or []):
        if isinstance(exposure, dict):
            p.exposures.append((exposure, doc, ("exposures", i)))
    for key in ("metrics", "semantic_models", "saved_queries", "unit_tests", "groups"):
        for i, entry in enumerate(data.get(key) or []):
            name = entry.get("name") if isinstance(entry, dict) else None
            p.skip(rel, doc.line((key, i)), f"{key.replace('_', ' ')[:-1]} '{name}' is not "
                   "converted", "Steward has no equivalent yet")


def _read_packages(p: DbtProject) -> None:
    """Macros of installed packages (dbt_packages/*/macros), under their package name."""
    base = os.path.join(p.root, str(p.settings.get("packages-install-path") or "dbt_packages"))
    if not os.path.isdir(base):
        return
    for pkg in sorted(os.listdir(base)):
        pdoc = os.path.join(base, pkg, "dbt_project.yml")
        if not os.path.isfile(pdoc):
            continue
        import yaml

        try:
            with open(pdoc, encoding="utf-8") as f:
                name = str((yaml.safe_load(f) or {}).get("name") or pkg)
        except (OSError, yaml.YAMLError):
            continue
        prefix = os.path.relpath(os.path.join(base, pkg), p.root)
        for rel, _ in _files(p.root, os.path.join(prefix, "macros"), (".sql",)):
            p.macro_files.append((rel, _read(p.root, rel), name))


def _files(root: str, folder: str, exts: tuple[str, ...]) -> list[tuple[str, str]]:
    """(path relative to root, path relative to folder) of files under ``folder``."""
    base = os.path.join(root, folder)
    out = []
    for d, dirs, files in os.walk(base):
        dirs[:] = sorted(x for x in dirs if not x.startswith("."))
        for f in sorted(files):
            if f.endswith(exts):
                full = os.path.join(d, f)
                out.append((os.path.relpath(full, root).replace(os.sep, "/"),
                            os.path.relpath(full, base).replace(os.sep, "/")))
    return out


def _read(root: str, rel: str) -> str:
    with open(os.path.join(root, rel), encoding="utf-8") as f:
        return f.read()


def _yaml(root: str, rel: str) -> Located:
    return load_yaml(_read(root, rel), rel)
