"""Read ``glossary.yaml`` and check every column's glossary link against it."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from steward.core.errors import Problem
from steward.core.model import Product, SpecRef
from steward.project.files import read_text
from steward.project.validate import validate
from steward.project.yamlload import Located, load_yaml

if TYPE_CHECKING:
    from steward.core.glossary import Glossary

GLOSSARY_FILE = "glossary.yaml"


def load_glossary(root: str, products: Mapping[str, Product], problems: list[Problem],
                  memo: tuple[dict[Any, Any], dict[Any, Any]] | None = None
                  ) -> tuple[SpecRef | None, list[str]]:
    """The project's glossary (None without a file) and its warnings.

    Records as problems: a malformed file, a related term that is not defined, and a
    column linking a term that is not defined (with the sidecar's file and line). A
    cycle of related terms is only a warning: nothing follows ``related`` links
    transitively without a visited set, so a loop breaks nothing.

    ``memo`` is the loader's (last load, this load): a file with the same text as at the
    last load is neither parsed nor validated again (and pydantic is not imported).
    """
    path = os.path.join(root, GLOSSARY_FILE)
    if not os.path.exists(path):
        _check_links(root, products, None, set(), problems)
        return None, []
    text, problem = read_text(path, GLOSSARY_FILE)
    if problem is not None or text is None:
        problems.extend([problem] if problem else [])
        return None, []
    key = ("glossary", text)
    hit = memo[0].get(key) if memo else None
    if isinstance(hit, SpecRef):
        memo[1][key] = hit  # type: ignore[index]
        _check_links(root, products, hit, set(), problems)
        return hit, list(hit.facts["warnings"])
    from steward.core.glossary import Glossary, related_cycles

    before = len(problems)
    glossary = Glossary()
    broken: set[str] = set()  # terms defined with mistakes: not reported again as undefined
    doc = load_yaml(text, GLOSSARY_FILE)
    if doc.problems:
        problems.extend(doc.problems)
    elif doc.data:
        if not isinstance(doc.data, dict):
            problems.append(Problem(GLOSSARY_FILE, 1, "glossary.yaml is a mapping with "
                                    "'terms:'"))
        else:
            glossary, broken = _validate(doc, problems)
    for name, term in glossary.terms.items():
        for r in term.related:
            if r in broken:
                continue
            if r == name or r not in glossary.terms:
                why = "relates to itself" if r == name else f"relates to unknown term {r!r}"
                problems.append(Problem(
                    GLOSSARY_FILE, doc.line(("terms", name, "related")),
                    f"glossary term {name!r} {why}", _hint(r, glossary)))
    warnings = [f"{GLOSSARY_FILE}: related terms form a cycle: " + " -> ".join(c)
                for c in related_cycles(glossary)]
    ref = SpecRef(glossary)
    ref.facts.update(terms=tuple(sorted(glossary.terms)), warnings=tuple(warnings))
    if memo and len(problems) == before:
        memo[1][key] = ref
    _check_links(root, products, ref, broken, problems)
    return ref, warnings


def _check_links(root: str, products: Mapping[str, Product], glossary: SpecRef | None,
                 broken: set[str], problems: list[Problem]) -> None:
    """A problem for each column linking a term the glossary does not define."""
    terms = set(glossary.facts["terms"]) if glossary is not None else set()
    docs: dict[str, Located | None] = {}
    for p in products.values():
        for col, spec in (p.spec_dump.get("columns") or {}).items():
            term = spec.get("glossary")
            if term is None or term in terms or term in broken:
                continue
            file = p.meta_file or p.file
            line = _line_of(root, file, col, docs) or p.line
            problems.append(Problem(
                file, line,
                f"column {col!r} of {p.name} links glossary term {term!r}, "
                f"which {GLOSSARY_FILE} does not define",
                (_hint(term, glossary.value()) if glossary is not None else None)
                or f"define it under 'terms:' in {GLOSSARY_FILE}",
            ))


def _validate(doc: Located, problems: list[Problem]) -> tuple[Glossary, set[str]]:
    """Validate term by term, so one bad term does not make every column link fail."""
    from steward.core.glossary import Glossary, Term

    data = dict(doc.data)
    terms = data.pop("terms", None) or {}
    validate(Glossary, data, doc, problems)  # unknown top-level keys
    if not isinstance(terms, dict):
        problems.append(Problem(doc.file, doc.line(("terms",)), "'terms' is a mapping of "
                                "term -> {definition, synonyms, owners, related}"))
        return Glossary(), set()
    good, broken = {}, set()
    for name, raw in terms.items():
        term = validate(Term, raw, doc, problems, ("terms", name))
        if term is None:
            broken.add(str(name))
        else:
            good[str(name)] = term
    return Glossary(terms=good), broken


def _hint(word: str, glossary: Glossary) -> str | None:
    import difflib

    hit = glossary.lookup(word)
    if hit and hit != word:
        return f"{word!r} is a synonym of {hit!r}; link the term itself"
    close = difflib.get_close_matches(word, sorted(glossary.terms), n=1)
    return f"did you mean '{close[0]}'?" if close else None


def _line_of(root: str, file: str, column: str, docs: dict[str, Located | None]) -> int | None:
    """The line of ``columns.<column>.glossary`` in a YAML file (read only on error)."""
    if not file.endswith((".yml", ".yaml")):
        return None
    if file not in docs:
        try:
            with open(os.path.join(root, file), encoding="utf-8") as f:
                docs[file] = load_yaml(f.read(), file)
        except (OSError, UnicodeDecodeError):
            docs[file] = None
    doc = docs[file]
    if doc is None:
        return None
    best: Any = None
    for path, line in doc.lines.items():
        if len(path) >= 3 and path[-3:] == ("columns", column, "glossary"):
            best = line
            break
    return best
