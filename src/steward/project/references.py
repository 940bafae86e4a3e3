"""References resolved once every product is known: ``FROM`` and ``ref()`` names (short
names where unambiguous), Python and model parameters, and the tables custom SQL checks
read; unknown and ambiguous names reported at their file and line. A part of the project
loader (:class:`steward.project.loader._Loader` mixes it in)."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING, Any

from steward.core.errors import Problem
from steward.core.model import Product
from steward.project.parsecache import ParseCache

THIS_TABLE = "__steward_this__"  # what ``{{ this }}`` becomes in a custom check's query
_THIS = __import__("re").compile(r"\{\{\s*this\s*\}\}")


def _at(data: Any, where: tuple[Any, ...]) -> Any:
    for k in where:
        try:
            data = data[k]
        except (KeyError, IndexError, TypeError):
            return None
    return data


class ReferenceResolving:
    products: dict[str, Product]
    refs: dict[str, list[tuple[str, str, int]]]
    spans: dict[str, list[tuple[int, int, str, bool]]]
    _params: dict[str, list[str]]
    problems: list[Problem]
    broken: set[str]
    unparsed_project_text: str | None
    parse_cache: ParseCache

    if TYPE_CHECKING:
        def line_of(self, name: str, *loc: Any) -> int | None: ...

    def resolve_references(self) -> None:
        short: dict[str, list[str]] = {}
        for n in self.products:
            short.setdefault(n.split(".", 1)[-1], []).append(n)
        for name, refs in self.refs.items():
            product = self.products.get(name)
            if product is None:
                continue
            resolved: list[str] = []
            targets: dict[str, str] = {}
            for ref, file, line in refs:
                target = self.resolve(ref, short, file, line, name)
                if target:
                    resolved.append(target)
                    targets[ref] = target
            params: dict[str, str] = {}
            if product.kind in ("python", "model"):
                params = dict(zip(self._params.get(name, []), resolved, strict=False))
            spans = tuple((a, b, targets[r], c) for a, b, r, c in self.spans.get(name, ())
                          if r in targets)
            self.products[name] = product.evolve(inputs=tuple(sorted(set(resolved))),
                                                 params=params, ref_spans=spans)
        for name, product in list(self.products.items()):
            reads = self.check_reads(product, short)
            if reads:
                self.products[name] = product.evolve(check_inputs=reads)

    def check_reads(self, product: Product, short: dict[str, list[str]]) -> tuple[str, ...]:
        """The products ``product``'s checks read: relationships targets and the tables of
        custom SQL checks, resolved like references in SQL (unknown ones are reported by
        the project checks, or here for SQL checks)."""
        out: set[str] = set()
        file = product.meta_file or product.file
        for label, _, where, to in product.check_uses:
            if to is not None:
                if to in self.products:
                    out.add(to)
                continue
            check = _at(product.spec_dump, where)
            if not isinstance(check, dict) or check.get("type") != "sql":
                continue
            text = _THIS.sub(THIS_TABLE, str(check.get("query") or ""))
            parsed = self.parse_cache.parse(text)
            if parsed.error:
                continue  # reported with the check's arguments (project/checkargs.py)
            for ref in parsed.references:
                if ref.name == THIS_TABLE:
                    continue
                target = self.resolve(ref.name, short, file,
                                      self.line_of(product.name, *where) or product.line,
                                      f"{product.name} (check '{label}')")
                if target:
                    out.add(target)
        out.discard(product.name)
        return tuple(sorted(out))

    def resolve(self, ref: str, short: dict[str, list[str]], file: str, line: int,
                owner: str) -> str | None:
        if ref in self.products:
            return ref
        if ref in self.broken or any(b.split(".", 1)[-1] == ref for b in self.broken):
            return None  # already reported where it is declared
        if self.unparsed_project_text and ref.split(".")[-1] in self.unparsed_project_text:
            return None  # it may be a source declared in the steward.yaml reported broken
        cands = short.get(ref, []) if "." not in ref else []
        if len(cands) == 1:
            return cands[0]
        if len(cands) > 1:
            self.problems.append(Problem(file, line, f"{ref!r} is ambiguous in {owner}",
                                         f"write one of: {', '.join(sorted(cands))}"))
            return None
        close = difflib.get_close_matches(ref, list(self.products), n=1)
        self.problems.append(Problem(
            file, line, f"{owner} references unknown product {ref!r}",
            f"did you mean '{close[0]}'?" if close else
            "declare it as a source in sources/*.yml or add a model for it",
        ))
        return None
