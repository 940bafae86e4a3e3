"""The project glossary: business terms, their synonyms, owners and related terms.

Pure data and pure checks; reading ``glossary.yaml`` lives in ``steward.project.glossary``.
"""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from steward.core.base import Spec


def _listify(v: Any) -> Any:
    return (v,) if isinstance(v, str) else v


class Term(Spec):
    """One business term. ``related`` links are directed "see also" references."""

    definition: str
    synonyms: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    related: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @field_validator("synonyms", "owners", "related", "tags", mode="before")
    @classmethod
    def _one_or_many(cls, v: Any) -> Any:
        return _listify(v)


class Glossary(Spec):
    """``glossary.yaml``: ``terms: {name: {definition, synonyms, owners, related}}``."""

    terms: dict[str, Term] = Field(default_factory=dict)

    def lookup(self, name: str) -> str | None:
        """The term a name or a synonym stands for (case-insensitive), or None."""
        low = name.lower()
        for t, term in self.terms.items():
            if t.lower() == low or any(s.lower() == low for s in term.synonyms):
                return t
        return None

    def words(self, name: str) -> list[str]:
        """A term's name, synonyms and definition: what search should match it by."""
        term = self.terms.get(name)
        if term is None:
            return [name]
        return [name, *term.synonyms, term.definition]


def related_cycles(glossary: Glossary) -> list[list[str]]:
    """Cycles of three or more terms in the directed ``related`` graph.

    A mutual pair (A relates to B and B to A) is the natural way to write a symmetric
    relation and is not reported; a longer loop usually means a hierarchy was written
    as "related" and is worth a look. Each cycle is returned once, as ``[a, b, c, a]``
    starting from its smallest term.
    """
    graph = {t: [r for r in term.related if r in glossary.terms and r != t]
             for t, term in glossary.terms.items()}
    found: set[tuple[str, ...]] = set()
    out: list[list[str]] = []

    def dfs(start: str, node: str, path: list[str]) -> None:
        for nxt in graph.get(node, ()):
            if len(out) >= 50:
                return
            if nxt == start and len(path) >= 3:
                key = tuple(path)
                if key not in found:
                    found.add(key)
                    out.append([*path, start])
            elif nxt > start and nxt not in path:
                dfs(start, nxt, [*path, nxt])

    # Bounded: glossaries are small (hundreds of terms); only cycles through their
    # smallest member are followed, so each is found once per direction.
    for t in sorted(graph):
        dfs(t, t, [t])
    return out
