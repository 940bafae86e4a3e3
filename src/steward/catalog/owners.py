"""Ownership: who owns what, what nobody owns, and whose products failed lately."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from steward.core.errors import ConfigError, Problem
from steward.core.model import Product, Project
from steward.core.words import counted


def owner_of(project: Project, product: Product) -> tuple[str | None, bool]:
    """A product's owner and whether it comes from ``defaults.owner`` in steward.yaml."""
    if product.owner:  # (from the stored data: no spec is validated to answer)
        return product.owner, False
    default = (project.spec_dump.get("defaults") or {}).get("owner")
    return default, default is not None


def unowned(project: Project) -> list[Product]:
    """Products with neither an owner of their own nor a project default."""
    return [p for p in project.products.values() if owner_of(project, p)[0] is None]


def check_owners(project: Project) -> list[str]:
    """Warnings for products without an owner; a ConfigError under ``compliance: strict``.

    Raises:
        ConfigError: when ``compliance: strict`` and some product has no owner, with the
            file and line of each.
    """
    missing = unowned(project)
    if not missing:
        return []
    if project.spec.compliance == "strict":
        raise ConfigError([Problem(
            p.meta_file or p.file, p.line, f"{p.name} has no owner (compliance: strict)",
            "add 'owner:' to its YAML, or 'defaults: {owner: ...}' to steward.yaml",
        ) for p in missing])
    names = ", ".join(p.name for p in missing[:10]) + ("..." if len(missing) > 10 else "")
    have = "has" if len(missing) == 1 else "have"
    return [f"{counted(len(missing), 'product')} {have} no owner: {names}"]


@dataclass
class OwnersReport:
    """``steward owners``: products per owner, orphans, and recent failures per owner."""

    owned: dict[str, list[str]] = field(default_factory=dict)
    unowned: list[str] = field(default_factory=list)
    failures: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    last_runs: int = 10

    def to_json(self) -> dict[str, Any]:
        return {"owners": self.owned, "unowned": self.unowned, "failures": self.failures,
                "last_runs": self.last_runs}


def owners_report(project: Project, metastore: Any | None = None,
                  last_runs: int = 10) -> OwnersReport:
    """Who owns what; with a metastore, also the products that failed in the last runs.

    A failed step (a refused quality gate or a broken build) counts once per run.
    """
    report = OwnersReport(last_runs=last_runs)
    owner_by_product: dict[str, str | None] = {}
    for p in project.products.values():
        owner, _ = owner_of(project, p)
        owner_by_product[p.name] = owner
        if owner is None:
            report.unowned.append(p.name)
        else:
            report.owned.setdefault(owner, []).append(p.name)
    if metastore is not None:
        from steward.meta.catalog import recent_failures

        for f in recent_failures(metastore, last_runs):
            owner = owner_by_product.get(f.product) or "(no owner)"
            report.failures.setdefault(owner, []).append({
                "product": f.product, "run": f.run_id, "at": f.started_at,
                "error": (f.error or "").splitlines()[0] if f.error else "",
            })
    report.owned = dict(sorted(report.owned.items()))
    return report
