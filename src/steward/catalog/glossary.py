"""``steward glossary``: every term, what it means, and which columns use it."""

from __future__ import annotations

from typing import Any

from steward.core.glossary import Glossary, related_cycles
from steward.core.model import Project


def glossary_listing(project: Project, term: str | None = None) -> list[dict[str, Any]]:
    """Each term (or the one named; a synonym finds it) with the columns linking it."""
    glossary: Glossary = project.glossary
    used: dict[str, list[str]] = {}
    for name, p in project.products.items():
        for col, spec in p.spec.columns.items():
            if spec.glossary:
                used.setdefault(spec.glossary, []).append(f"{name}.{col}")
    wanted = glossary.lookup(term) if term else None
    out = []
    for t, entry in sorted(glossary.terms.items()):
        if term and t != wanted:
            continue
        out.append({"term": t, "definition": entry.definition,
                    "synonyms": list(entry.synonyms),
                    "owners": list(entry.owners), "related": list(entry.related),
                    "used_by": sorted(used.get(t, []))})
    return out


def glossary_warnings(project: Project) -> list[str]:
    """Cycles among related terms (warnings, see ``related_cycles``)."""
    glossary: Glossary = project.glossary
    return [" -> ".join(c) for c in related_cycles(glossary)]
