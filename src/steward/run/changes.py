"""Plan categorisation: what building the project's code into an environment would change.

Each directly modified product is categorised from syntax trees:

- **breaking**: a column removed or recomputed, a filter / join / grouping changed, a
  contract changed (declared type, nullability, primary key, strictness), source data
  changed, or code that cannot be analysed (Python) changed;
- **non-breaking**: columns added with everything else unchanged, or a new product;
- **metadata-only**: documentation, owner, tags, checks.

Downstream impact comes from column-level references: a downstream SQL product that does
not use any column added by a non-breaking upstream change keeps its data. It gets an
*alias version* (new fingerprint, same files), so the next plan sees it as up to date and
nothing downstream of it rebuilds either.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from steward.core.fingerprint import code_fingerprint, digest, ml_library_versions
from steward.core.ids import new_id
from steward.core.model import Product, Project
from steward.core.records import Version
from steward.run.planner import (  # noqa: F401  (Category, ProductChange re-exported)
    BuildPlan,
    Category,
    PlannedStep,
    ProductChange,
    dag_of,
    plan_build,
)
from steward.sql.parse import DIALECT

if TYPE_CHECKING:  # sqlglot loads only when a change has to be categorised
    from sqlglot import exp

    from steward.meta.reads import Reads
    from steward.meta.store import Metastore

PLAN_SCHEMA_VERSION = 1
_RANK = {"metadata-only": 0, "non-breaking": 1, "breaking": 2}
_CONTRACT_KEYS = ("contract", "primary_key")
_COLUMN_CONTRACT_KEYS = ("type", "nullable")


# -- fingerprints of a product's own code ---------------------------------------------------
def local_fingerprint(product: Product, project: Project) -> str:
    """A product's data fingerprint without its inputs: changes only when its code does
    (a model's, also when a library that trains it changes version: read each time, as
    the loaded project's cache keeps ``code_fp``)."""
    content = project.source_hashes.get(product.name)
    if product.kind == "model":
        return digest(product.code_fp, ml_library_versions())
    return code_fingerprint(product, content) if content else product.code_fp


def code_row(product: Product, project: Project, fingerprint: str) -> dict[str, Any]:
    return {"fingerprint": fingerprint, "product": product.name,
            "local_fp": local_fingerprint(product, project), "kind": product.kind,
            "code": product.normalized_code,
            "outputs_json": json.dumps(list(product.outputs)) if product.outputs else None}


# -- syntax-tree comparison -----------------------------------------------------------------
@dataclass
class SqlChange:
    category: Category
    reasons: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    modified: list[str] = field(default_factory=list)


def _parse(sql: str) -> exp.Expr | None:
    import sqlglot

    try:
        return sqlglot.parse_one(sql, read=DIALECT)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError):
        return None


def _projection_map(select: exp.Query) -> dict[str, str] | None:
    from sqlglot import exp

    out: dict[str, str] = {}
    for s in select.selects:
        if isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star):
            return None
        body = s.this if isinstance(s, exp.Alias) else s
        out[s.alias_or_name] = body.sql(dialect=DIALECT)
    return out


def compare_sql(old_sql: str, new_sql: str) -> SqlChange:
    """Categorise the change from ``old_sql`` to ``new_sql`` (both one SELECT)."""
    from sqlglot import exp

    old, new = _parse(old_sql), _parse(new_sql)
    if old is None or new is None:
        return SqlChange("breaking", ["the SQL could not be compared"])
    if old == new:
        return SqlChange("metadata-only", ["formatting only"])
    if not isinstance(old, exp.Select) or not isinstance(new, exp.Select):
        return SqlChange("breaking", ["the query's shape changed (set operation or subquery)"])
    po, pn = _projection_map(old), _projection_map(new)
    if po is None or pn is None:
        return SqlChange("breaking", ["a SELECT * hides which columns changed"])
    rest_old, rest_new = old.copy(), new.copy()
    rest_old.set("expressions", [exp.Literal.number(1)])
    rest_new.set("expressions", [exp.Literal.number(1)])
    change = SqlChange("non-breaking")
    change.added = [c for c in pn if c not in po]
    change.removed = [c for c in po if c not in pn]
    change.modified = [c for c in pn if c in po and pn[c] != po[c]]
    if rest_old != rest_new:
        parts = []
        for key, label in (("where", "filter (WHERE)"), ("joins", "joins"), ("from", "FROM"),
                           ("group", "GROUP BY"), ("having", "HAVING"), ("qualify", "QUALIFY"),
                           ("distinct", "DISTINCT"), ("with", "CTEs"), ("limit", "LIMIT"),
                           ("order", "ORDER BY")):
            a, b = rest_old.args.get(key), rest_new.args.get(key)
            if a != b:
                parts.append(label)
        change.reasons.append("changed " + (", ".join(parts) or "the query outside its columns"))
        if parts == ["ORDER BY"]:
            change.reasons[-1] += " (row order only)"
        else:
            change.category = "breaking"
    if change.removed:
        change.category = "breaking"
        change.reasons.append("removed column(s) " + ", ".join(change.removed))
    if change.modified:
        change.category = "breaking"
        change.reasons.append("recomputed column(s) " + ", ".join(change.modified))
    if change.added:
        change.reasons.append("added column(s) " + ", ".join(change.added))
    if not change.reasons:
        change.reasons.append("columns reordered")
    return change


def columns_used(child_sql: str, parent: Product) -> set[str] | None:
    """Columns of ``parent`` that ``child_sql`` references; None when unknowable (``*``)."""
    from sqlglot import exp

    tree = _parse(child_sql)
    if tree is None:
        return None
    aliases: set[str] = set()
    for t in tree.find_all(exp.Table):
        full = f"{t.db}.{t.name}" if t.db else t.name
        if full == parent.name or (not t.db and t.name == parent.short_name):
            aliases.add((t.alias or t.name).lower())
    if not aliases:
        return set()
    used: set[str] = set()
    for col in tree.find_all(exp.Column):
        if col.is_star:
            if not col.table or col.table.lower() in aliases:
                return None
            continue
        # an unqualified column may come from the parent: count it (conservative)
        if not col.table or col.table.lower() in aliases:
            used.add(col.name.lower())
    if any(isinstance(s, exp.Star) for s in tree.find_all(exp.Star)
           if not isinstance(s.parent, exp.Count | exp.Column)):
        return None
    return used


# -- metadata comparison --------------------------------------------------------------------
def compare_metadata(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[Category, list[str]]:
    reasons: list[str] = []
    breaking = False
    for k in _CONTRACT_KEYS:
        if old.get(k) != new.get(k):
            breaking = True
            reasons.append(f"contract: {k} changed")
    oc, nc = old.get("columns") or {}, new.get("columns") or {}
    for col in sorted(set(oc) | set(nc)):
        a, b = oc.get(col) or {}, nc.get(col) or {}
        for k in _COLUMN_CONTRACT_KEYS:
            if a.get(k) != b.get(k):
                breaking = True
                reasons.append(f"contract: column {col} {k} {a.get(k)!r} -> {b.get(k)!r}")
    others = sorted(k for k in set(old) | set(new)
                    if k not in (*_CONTRACT_KEYS, "columns") and old.get(k) != new.get(k))
    doc_cols = sorted(c for c in set(oc) | set(nc)
                      if {k: v for k, v in (oc.get(c) or {}).items() if k not in
                          _COLUMN_CONTRACT_KEYS}
                      != {k: v for k, v in (nc.get(c) or {}).items() if k not in
                          _COLUMN_CONTRACT_KEYS})
    if others:
        reasons.append("metadata: " + ", ".join(others))
    if doc_cols:
        reasons.append("column metadata: " + ", ".join(doc_cols))
    return ("breaking" if breaking else "metadata-only"), reasons


def _spec_dict(product: Product) -> dict[str, Any]:
    return json.loads(product.spec_json)


# -- the plan -------------------------------------------------------------------------------
@dataclass
class ChangePlan:
    env: str
    compared_with: str
    env_exists: bool
    build: BuildPlan
    products: dict[str, ProductChange]
    removed: list[ProductChange]
    stale: dict[str, list[str]] = field(default_factory=dict)  # unselected, behind inputs

    def direct_changes(self) -> list[ProductChange]:
        return [c for c in self.products.values() if c.direct] + self.removed

    def to_json(self) -> dict[str, Any]:
        """The documented, stable ``steward plan --json`` document (docs/change-management.md)."""
        counts: dict[str, int] = {"build": 0, "reuse": 0, "keep": 0, "blocked": 0}
        for c in self.products.values():
            counts[c.action] = counts.get(c.action, 0) + 1
        counts["remove"] = len(self.removed)
        counts["recheck"] = sum(1 for c in self.products.values() if c.recheck is not False)
        cats = {"breaking": 0, "non-breaking": 0, "metadata-only": 0}
        for c in self.direct_changes():
            if c.category:
                cats[c.category] += 1
        changes = []
        for c in self.direct_changes():
            downstream = [self.products[d] for d in c.downstream if d in self.products]
            changes.append({
                "product": c.product, "category": c.category, "action": c.action,
                "owner": c.owner, "reasons": c.reasons,
                "columns": {"added": c.added, "removed": c.removed, "modified": c.modified},
                "downstream": [{"product": d.product, "action": d.action, "owner": d.owner,
                                "uses": d.uses.get(c.product)} for d in downstream],
                "affected_owners": sorted({d.owner for d in downstream
                                           if d.owner and d.action == "build"}),
            })
        return {
            "schema_version": PLAN_SCHEMA_VERSION,
            "env": self.env, "env_exists": self.env_exists, "compared_with": self.compared_with,
            "summary": {**counts, **cats},
            "changes": changes,
            "products": [{"product": c.product, "action": c.action, "direct": c.direct,
                          "category": c.category, "reasons": c.reasons, "owner": c.owner,
                          "current_version": c.current_version,
                          "fingerprint": c.fingerprint, "recheck": c.recheck,
                          "behind": c.behind}
                         for c in self.products.values()],
            # unselected products whose version was built from older input versions
            "stale": [{"product": n, "behind": b} for n, b in sorted(self.stale.items())],
            # products whose current version's files are missing or altered
            "damaged": [{"product": n, "problem": p}
                        for n, p in sorted(self.build.damaged.items())],
        }


def plan_changes(project: Project, reads: Reads, env: str, chosen: set[str],
                 base_env: str | None = None, full_refresh: bool = False,
                 damaged: Mapping[str, str] | None = None) -> ChangePlan:
    """Compare the project's code with ``env`` (or ``base_env`` while ``env`` is new).

    Reads only (``reads``: :class:`steward.meta.reads.Reads`), so a plan never writes.
    """
    exists = reads.env_exists(env)
    compared = env if exists or not base_env or not reads.env_exists(base_env) else base_env
    current = reads.pointers(compared) if reads.env_exists(compared) else {}
    specs = reads.env_spec_map(compared) or reads.global_spec_map()
    tracker = ChangeTracker(project, reads, current, specs, full_refresh)
    plan = plan_build(project, env, current, None, chosen, full_refresh,
                      lookup=reads.published_by_fingerprint, hashes=reads.data_hashes,
                      damaged=damaged, changes=tracker)
    return tracker.report(plan, compared, exists)


class ChangeTracker:
    """Categorises each product as the planner decides it (one pass: see
    :func:`steward.run.planner.plan_build`'s ``changes``).

    A product whose own code is unchanged and whose inputs changed without changing the
    data it reads (a non-breaking upstream change it does not use) gets an alias version
    instead of a build. ``specs``: the declarations the environment last ran with, for
    metadata categories (empty when only the build plan is wanted).
    """

    def __init__(self, project: Project, reads: Reads, current: Mapping[str, Version],
                 specs: Mapping[str, tuple[str, str]], full_refresh: bool = False):
        self.project, self.reads, self.current = project, reads, current
        self.specs, self.full_refresh = specs, full_refresh
        self.products: dict[str, ProductChange] = {}
        self.aliases: list[Version] = []
        self.effects: dict[str, tuple[str, set[str]]] = {}  # -> (same|added|breaking, cols)
        self.records: dict[str, dict[str, Any]] = {}
        self.damaged: Mapping[str, str] = {}
        self.same: Any = None

    def begin(self, todo: Sequence[str], fingerprints: Mapping[str, str],
              damaged: Mapping[str, str], same: Callable[[str | None, Version], bool]) -> None:
        """Before the first step: the code on record for every current version a step
        cannot keep (its fingerprint changed), in one read."""
        self.damaged, self.same = damaged, same
        wanted = [v.fingerprint for n in todo if (v := self.current.get(n)) is not None
                  and v.fingerprint != fingerprints[n]]
        self.records = dict(self.reads.code_records(wanted)) if wanted else {}

    def _record(self, fingerprint: str) -> dict[str, Any] | None:
        if fingerprint not in self.records:
            self.records.update(self.reads.code_records([fingerprint]))
        return self.records.get(fingerprint)

    def decide(self, name: str, st: PlannedStep, steps: Mapping[str, PlannedStep]
               ) -> PlannedStep:
        project, current = self.project, self.current
        p = project.products[name]
        cur = current.get(name)
        pc = ProductChange(name, st.action, None, False, owner=p.owner,
                           current_version=cur.id if cur else None,
                           fingerprint=st.fingerprint, recheck=st.recheck)
        self.products[name] = pc
        effects = self.effects
        if st.action == "keep":
            effects[name] = ("same", set())
            if st.recheck is not False:
                pc.reasons.append(st.reason)
        elif st.action == "blocked" or name in self.damaged:
            # (a damaged version is never aliased: its files are what is wrong)
            effects[name] = ("breaking", set())
            pc.reasons.append(st.reason)
        elif cur is None:
            pc.direct, pc.category = True, "non-breaking"
            pc.reasons.append("new product")
            effects[name] = ("breaking", set())
        else:
            rec = self._record(cur.fingerprint)
            # a source that builds changed by itself (its data): it is never an alias
            own = (rec is None or p.is_source
                   or rec["local_fp"] != local_fingerprint(p, project))
            if self.full_refresh and not own:
                pc.reasons.append("full refresh")
                effects[name] = ("breaking", set())
            elif own:
                pc.direct = True
                _direct(pc, p, project, rec)
                effects[name] = (("added", set(pc.added)) if pc.category == "non-breaking"
                                 else ("breaking", set()))
            else:
                effect = _indirect(pc, p, project, effects, cur, steps, current, self.same)
                effects[name] = effect
                if effect[0] == "same" and st.action == "build":
                    alias = _alias(cur, p, st.fingerprint)
                    self.aliases.append(alias)
                    step = PlannedStep(name, "reuse", st.fingerprint, alias,
                                       "keeps its data: " + "; ".join(pc.reasons))
                    st = _alias_recheck(step, p, project, steps, current)
                    pc.action = st.action
                    pc.recheck = st.recheck
                elif effect[0] == "same" and st.action == "reuse":
                    pc.reasons.append(st.reason)
        # metadata, compared with the declaration the environment last ran with
        old = self.specs.get(name)
        if old is not None and old[1] != p.spec_json \
                and old[0] != p.metadata_fp:
            cat, why = compare_metadata(json.loads(old[1]), _spec_dict(p))
            pc.reasons.extend(why)
            if pc.category is None or _RANK[cat] > _RANK[pc.category]:
                pc.category = cat
            pc.direct = True
        return st

    def report(self, plan: BuildPlan, compared: str, exists: bool) -> ChangePlan:
        """The plan as ``steward plan`` shows it: downstream of each direct change, and
        the products no longer in the project."""
        out = self.products
        dag = dag_of(self.project)
        rank = {n: i for i, n in enumerate(plan.order)}  # plan.order is topological
        for name, pc in out.items():
            if pc.direct:
                pc.downstream = sorted((d for d in dag.downstream(name) if d in out),
                                       key=rank.__getitem__)
        removed = [ProductChange(n, "remove", "breaking", True, ["no longer in the project"],
                                 current_version=v.id)
                   for n, v in sorted(self.current.items()) if n not in self.project.products]
        return ChangePlan(plan.env, compared, exists, plan, out, removed, dict(plan.stale))


def _alias_recheck(step: PlannedStep, p: Product, project: Project,
                   steps: Mapping[str, PlannedStep], current: Mapping[str, Version]
                   ) -> PlannedStep:
    from steward.run.planner import _with_recheck

    planned: dict[str, Version | None] = dict(current)
    for n, s in steps.items():
        planned[n] = s.version if s.action in ("keep", "reuse") else None
    d = project.spec_dump.get("defaults") or {}
    return _with_recheck(step, p, planned, d.get("contract") or "lenient",
                         d.get("on_fail") or "block")


def _direct(pc: ProductChange, p: Product, project: Project, rec: dict[str, Any] | None) -> None:
    if rec is None:
        pc.category = "breaking"
        pc.reasons.append("code changed (the previous code is not on record)")
    elif p.is_source:
        pc.category = "breaking"
        same_code = rec["code"] == p.normalized_code
        pc.reasons.append("source data changed" if same_code else "source definition changed")
    elif p.kind == "sql" and rec["kind"] == "sql" and rec["code"] is not None:
        ch = compare_sql(rec["code"], p.normalized_code)
        if ch.category == "metadata-only":  # same tree: config (e.g. on_fail) changed
            ch = SqlChange("breaking", ["build settings changed"] if rec["code"] ==
                           p.normalized_code else
                           ["the same query, recorded in an older normal form (a Steward "
                            "upgrade): built once again"])
        pc.category, pc.added, pc.removed, pc.modified = (ch.category, ch.added, ch.removed,
                                                           ch.modified)
        pc.reasons.extend(ch.reasons)
    elif p.kind == "model":
        pc.category = "breaking"
        pc.reasons.append("model code changed" if rec["code"] != p.normalized_code else
                          "model declaration changed (features, split, params, seed or "
                          "libraries): retrained")
    else:
        pc.category = "breaking"
        pc.reasons.append("Python code changed (not analysed: treated as breaking)")


def _indirect(pc: ProductChange, p: Product, project: Project,
              effects: Mapping[str, tuple[str, set[str]]], cur: Version,
              steps: Mapping[str, PlannedStep], current: Mapping[str, Version],
              same: Any) -> tuple[str, set[str]]:
    """The effect on ``p`` of its inputs' changes; fills ``pc.uses`` and reasons.

    Decided edge by edge from the input version ``cur`` (p's version now) was **built
    from**, never from what the environment records: an input whose version after this
    run holds the same data changes nothing; an input whose change this plan
    categorised counts only if ``cur`` was built from the input's current version;
    anything else (``cur`` is behind its input) is a rebuild.
    """
    changed: dict[str, tuple[str, set[str]]] = {}
    for i in p.inputs:
        built_from = cur.inputs.get(i)
        st = steps.get(i)
        after = (st.version if st is not None and st.action in ("keep", "reuse")
                 else None if st is not None else current.get(i))
        if after is not None and same(built_from, after):
            continue
        now = current.get(i)
        if st is not None and now is not None and same(built_from, now) and i in effects:
            if effects[i][0] != "same":
                changed[i] = effects[i]
            continue
        pc.reasons.append(f"built from an older version of {i}")
        pc.behind.append(i)
        return ("breaking", set())
    if not changed:
        pc.reasons.append("inputs changed without changing the data it reads")
        return ("same", set())
    passthrough: set[str] = set()
    for i, (kind, cols) in changed.items():
        if kind == "breaking":
            pc.reasons.append(f"input {i} changed (breaking)")
            return ("breaking", set())
        used = columns_used(p.code, project.products[i]) if p.kind == "sql" else None
        pc.uses[i] = sorted(used) if used is not None else None
        if used is None:
            if p.kind != "sql":
                pc.reasons.append(f"input {i} gained columns; Python code not analysed")
                return ("breaking", set())
            pc.reasons.append(f"selects * from {i}, which gained {', '.join(sorted(cols))}")
            passthrough |= cols
        elif used & {c.lower() for c in cols}:
            pc.reasons.append(f"uses new column(s) {', '.join(sorted(used & cols))} of {i}")
            return ("breaking", set())
        else:
            pc.reasons.append(f"does not use the column(s) {i} added")
    return ("added", passthrough) if passthrough else ("same", set())


def _alias(cur: Version, p: Product, fingerprint: str) -> Version:
    """A new version of ``p`` with ``cur``'s files: its inputs are set when the run has
    built them (see :class:`steward.run.executor.Executor`)."""
    return Version(
        id=new_id("v"), product=p.name, fingerprint=fingerprint,
        metadata_fp=p.metadata_fp, status="published", path=cur.path,
        schema=cur.schema, row_count=cur.row_count, bytes=cur.bytes, data_hash=cur.data_hash,
        created_at=datetime.now(UTC), run_id=None, check_status=cur.check_status,
        inputs=dict(cur.inputs), files=cur.files, check_fp=cur.check_fp,
    )


def prepare_run(ms: Metastore, project: Project, plan: BuildPlan) -> None:
    """Before executing ``plan``: record its code and note its specs.

    (Alias versions are inserted by the executor, with the inputs they stand for, in the
    transaction that moves the run's pointers.)
    """
    from steward.meta import envs as menvs

    rows = [code_row(project.products[n], project, plan.steps[n].fingerprint)
            for n in plan.order if plan.steps[n].action in ("build", "reuse")]
    if rows:
        menvs.record_code(ms, rows)
    known = menvs.env_spec_map(ms, plan.env)
    specs: dict[str, tuple[str, str]] = {}
    for n in plan.order:
        if plan.steps[n].action == "blocked":
            continue
        text = project.products[n].spec_json
        if n not in known or known[n][1] != text:
            specs[n] = (project.products[n].metadata_fp, text)
    menvs.save_env_specs(ms, plan.env, specs)


def upstream_closure(project: Project, names: Iterable[str]) -> set[str]:
    dag = dag_of(project)
    out: set[str] = set()
    for n in names:
        out.add(n)
        if n in project.products:
            out |= dag.upstream(n)
    return out
