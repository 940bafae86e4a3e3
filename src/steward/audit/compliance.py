"""``steward compliance``: where personal data lives, who answers for it, and every gap.

The report joins four sources: the project's declarations (column classifications,
owners, retention, descriptions), the classifier's detections per current version, the
classifications inherited through column lineage (passed in by the context, from the
catalog area), and the audit trail (who changed each PII product recently). A *gap* is a
difference between what the project declares and what its policy asks for.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from steward.audit.pii import declared_state, is_pii_label
from steward.audit.trail import AuditTrail, now_iso
from steward.core.model import Product, Project
from steward.core.records import Version
from steward.meta import audit as q
from steward.meta.store import Metastore

Propagated = Mapping[tuple[str, str], tuple[Sequence[str], str | None]]

# gap kind -> (severity when lenient, severity under compliance: strict)
GAP_SEVERITY = {
    "undeclared_pii": ("warn", "error"),
    "missing_owner": ("warn", "error"),
    "pii_without_retention": ("warn", "error"),
    "pii_without_description": ("warn", "warn"),
    "pii_column_undocumented": ("warn", "warn"),
    "not_scanned": ("info", "warn"),
}


@dataclass
class Gap:
    kind: str
    product: str
    message: str
    severity: str
    column: str | None = None


@dataclass
class ProductEntry:
    name: str
    owner: str | None
    owner_inherited: bool
    description: str | None
    retention: dict[str, Any] | None
    retention_inherited: bool
    version: str | None
    declared: dict[str, list[str]] = field(default_factory=dict)  # column -> labels
    detected: dict[str, dict[str, Any]] = field(default_factory=dict)  # column -> detection
    propagated: dict[str, dict[str, Any]] = field(default_factory=dict)  # column -> via
    scanned: bool = False
    recent_changes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def pii_columns(self) -> list[str]:
        return sorted(set(self.declared) | set(self.detected) | set(self.propagated))

    @property
    def holds_pii(self) -> bool:
        return bool(self.pii_columns)


@dataclass
class Report:
    project: str
    env: str
    mode: str
    generated_at: str
    products: list[ProductEntry]
    gaps: list[Gap]

    @property
    def pii_products(self) -> list[ProductEntry]:
        return [p for p in self.products if p.holds_pii]

    @property
    def errors(self) -> list[Gap]:
        return [g for g in self.gaps if g.severity == "error"]

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project, "env": self.env, "compliance": self.mode,
            "generated_at": self.generated_at,
            "summary": {"products": len(self.products), "pii_products": len(self.pii_products),
                        "gaps": len(self.gaps), "errors": len(self.errors)},
            "pii_products": [{**asdict(p), "pii_columns": p.pii_columns}
                             for p in self.pii_products],
            "products_without_pii": [p.name for p in self.products if not p.holds_pii],
            "gaps": [asdict(g) for g in self.gaps],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=str)


def _effective_owner(project: Project, p: Product) -> tuple[str | None, bool]:
    if p.spec.owner:
        return p.spec.owner, False
    return project.spec.defaults.owner, project.spec.defaults.owner is not None


def _effective_retention(project: Project, p: Product) -> tuple[dict[str, Any] | None, bool]:
    r = p.spec.retention
    inherited = r is None
    r = r or project.spec.defaults.retention
    if r is None or (r.keep_days is None and r.keep_last is None):
        return None, inherited
    return {"keep_last": r.keep_last, "keep_days": r.keep_days}, inherited


def build_report(project: Project, metastore: Metastore, env: str,
                 current: Mapping[str, Version], propagated: Propagated | None = None,
                 changes: int = 5) -> Report:
    """Assemble the compliance report of ``env``."""
    strict = project.spec.compliance == "strict"
    vids = [v.id for v in current.values()]
    found = q.detections(metastore, vids)
    scanned = q.scanned(metastore, vids)
    prop: dict[str, dict[str, dict[str, Any]]] = {}
    for (prod, col), (classes, via) in (propagated or {}).items():
        if via is not None and any(is_pii_label(c) for c in classes):
            prop.setdefault(prod, {})[col] = {"classification": list(classes), "via": via}
    trail = AuditTrail(metastore)
    entries: list[ProductEntry] = []
    gaps: list[Gap] = []

    def gap(kind: str, product: str, message: str, column: str | None = None) -> None:
        lenient, strict_sev = GAP_SEVERITY[kind]
        gaps.append(Gap(kind, product, message, strict_sev if strict else lenient, column))

    for name, p in sorted(project.products.items()):
        owner, owner_inh = _effective_owner(project, p)
        retention, ret_inh = _effective_retention(project, p)
        v = current.get(name)
        e = ProductEntry(name, owner, owner_inh, p.spec.description, retention, ret_inh,
                         v.id if v else None, scanned=bool(v and v.id in scanned))
        for col, spec in p.spec.columns.items():
            if declared_state(spec.classification) == "pii":
                e.declared[col] = list(spec.classification)
        not_pii = {c.lower() for c, s in p.spec.columns.items()
                   if declared_state(s.classification) == "not_pii"}
        for col, info in prop.get(name, {}).items():
            if col not in e.declared and col.lower() not in not_pii:
                e.propagated[col] = info
        for d in found.get(v.id, []) if v else []:
            e.detected[d["column"]] = {k: d[k] for k in ("kind", "fraction", "sampled")}
        entries.append(e)

        if owner is None:
            gap("missing_owner", name, f"{name} has no owner (and no defaults.owner)")
        if v is not None and not e.scanned:
            gap("not_scanned", name, f"the current version of {name} was never scanned for "
                "PII; run `steward pii scan " + name + "`")
        declared_low = {c.lower() for c in e.declared} | {c.lower() for c in e.propagated}
        for col, d in sorted(e.detected.items()):
            if col.lower() not in declared_low and col.lower() not in not_pii:
                gap("undeclared_pii", name,
                    f"{name}.{col} looks like {d['kind'].replace('_', ' ')} "
                    f"({d['fraction']:.0%} of {d['sampled']} sampled) but is not classified",
                    col)
        if not e.holds_pii:
            continue
        if retention is None or retention.get("keep_days") is None:
            gap("pii_without_retention", name,
                f"{name} holds personal data but sets no time limit (retention.keep_days)")
        if not p.spec.description:
            gap("pii_without_description", name,
                f"{name} holds personal data but has no description")
        for col in e.pii_columns:
            doc = p.spec.columns.get(col)
            if doc is None or not doc.description:
                gap("pii_column_undocumented", name,
                    f"{name}.{col} holds personal data but has no column description", col)
        e.recent_changes = [
            {"seq": ev.seq, "ts": ev.ts, "actor": ev.actor, "action": ev.action,
             "reason": ev.reason}
            for ev in trail.log(target=name, limit=changes)]
    return Report(project.name, env, project.spec.compliance, now_iso(), entries, gaps)


def render_markdown(r: Report) -> str:
    """The report as Markdown (what ``steward compliance --format md`` writes)."""
    out = [f"# Compliance report — {r.project}", "",
           f"Environment `{r.env}`, policy `compliance: {r.mode}`, generated {r.generated_at}.",
           "", f"- products: {len(r.products)}", f"- holding personal data: "
           f"{len(r.pii_products)}", f"- gaps: {len(r.gaps)} ({len(r.errors)} errors)", ""]
    out += ["## Products holding personal data", ""]
    if not r.pii_products:
        out += ["None declared, inherited or detected.", ""]
    for p in r.pii_products:
        owner = (p.owner or "**none**") + (" (project default)" if p.owner_inherited else "")
        ret = ("**none**" if p.retention is None else
               ", ".join(f"{k}={v}" for k, v in p.retention.items() if v is not None)
               + (" (project default)" if p.retention_inherited else ""))
        out += [f"### {p.name}", "", f"- owner: {owner}", f"- retention: {ret}",
                f"- current version: `{p.version or 'not built'}`", "",
                "| column | declared | inherited | detected |", "| --- | --- | --- | --- |"]
        for col in p.pii_columns:
            dec = ", ".join(p.declared.get(col, [])) or ""
            inh = p.propagated.get(col)
            det = p.detected.get(col)
            out.append(f"| {col} | {dec} | {('from ' + inh['via']) if inh else ''} | "
                       + (f"{det['kind']} ({det['fraction']:.0%})" if det else "") + " |")
        out.append("")
        if p.recent_changes:
            out += ["Recent changes:", ""]
            out += [f"- #{c['seq']} {c['ts'][:19]} **{c['actor']}** {c['action']}"
                    + (f" — {c['reason']}" if c["reason"] else "") for c in p.recent_changes]
            out.append("")
    out += ["## Gaps against the policy", ""]
    if not r.gaps:
        out += ["None.", ""]
    else:
        out += ["| severity | kind | product | detail |", "| --- | --- | --- | --- |"]
        out += [f"| {g.severity} | {g.kind} | {g.product} | {g.message} |" for g in r.gaps]
        out.append("")
    return "\n".join(out)
