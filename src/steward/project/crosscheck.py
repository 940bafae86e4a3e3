"""Checks over the whole project once every file is read: cycles, columns, references.

They run on every load, memoised files included, since a change in one product can
break another (a removed column, a deleted product). They read only plain facts
(``spec_dump``, ``check_uses``), so a load that reuses specs never rebuilds one.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable, Mapping

from steward.core.errors import Problem
from steward.core.graph import Dag
from steward.core.model import Product


def check_graph(products: Mapping[str, Product], problems: list[Problem]) -> None:
    """A dependency cycle, reported at its first product; then a cycle through checks."""
    cycle = Dag.build({n: p.inputs for n, p in products.items()}).find_cycle()
    if cycle:
        first = products[cycle[0]]
        problems.append(Problem(
            first.file, first.line, "dependency cycle: " + " -> ".join(cycle),
            "a product cannot depend on itself, directly or through others",
        ))
        return
    if not any(p.check_inputs for p in products.values()):
        return
    cycle = Dag.build({n: (*p.inputs, *p.check_inputs)
                       for n, p in products.items()}).find_cycle()
    if cycle:
        # the product whose check reads a product built from it
        # (each product of the path is read by the next one)
        at = next((b for a, b in zip(cycle, cycle[1:], strict=False)
                   if a in products[b].check_inputs and a not in products[b].inputs), cycle[0])
        first = products[at]
        problems.append(Problem(
            first.meta_file or first.file, first.line,
            "a check of " + at + " reads a product built from it: " + " -> ".join(cycle),
            "a check can only read products built before the product it checks; "
            "move the check to the downstream product",
        ))


def check_columns(products: Mapping[str, Product], problems: list[Problem],
                  declared_at: Mapping[str, tuple[str, int]],
                  line_of: Callable[..., int | None]) -> None:
    """Checks, primary keys and declared columns naming columns a product lacks, and
    relationships checks naming products the project lacks.

    ``declared_at`` maps a product to its (file, line); ``line_of(name, *path)`` finds
    the line of a key inside its declaration.
    """
    for p in products.values():
        dump = p.spec_dump
        declared = set(dump.get("columns") or ())
        known = declared | set(p.outputs or ())
        if not known or (p.outputs is None and not declared):
            continue
        if p.outputs is None and p.kind == "sql":
            continue  # a star hides the real columns; the contract check runs at build
        file = p.meta_file or p.file
        for label, columns, where, _ in p.check_uses:
            for col in columns:
                if col not in known:
                    problems.append(Problem(
                        file, line_of(p.name, *where) or declared_at[p.name][1],
                        f"check '{label}' of {p.name} names column {col!r}, "
                        "which the product does not have",
                        close_hint(col, known),
                    ))
        for col in dump.get("primary_key") or ():
            if col not in known:
                problems.append(Problem(file, line_of(p.name, "primary_key"),
                                        f"primary_key of {p.name} names unknown column "
                                        f"{col!r}", close_hint(col, known)))
        if p.outputs is not None and p.kind == "sql":
            for col in sorted(declared - set(p.outputs)):
                problems.append(Problem(
                    file, line_of(p.name, "columns", col),
                    f"{p.name} declares column {col!r} but its SQL does not produce it",
                    close_hint(col, set(p.outputs)),
                ))
    for p in products.values():
        for label, _, where, to in p.check_uses:
            if to is not None and to not in products:
                problems.append(Problem(
                    p.meta_file or p.file, line_of(p.name, *where),
                    f"check '{label}' of {p.name} refers to unknown product {to!r}",
                    close_hint(to, set(products)),
                ))


def close_hint(word: str, options: Iterable[str]) -> str | None:
    """"did you mean ...?" for the closest of ``options``, if one is close."""
    close = difflib.get_close_matches(word, sorted(options), n=1)
    return f"did you mean '{close[0]}'?" if close else None


def check_spark(products: Mapping[str, Product], problems: list[Problem]) -> None:
    """With ``engine: {type: spark}``: each SQL product's constructs Spark cannot run as
    written (sqlglot cannot transpile them faithfully), at their line, before anything
    runs."""
    for name, p in sorted(products.items()):
        if p.kind != "sql" or not p.code:
            continue
        for line, what in _spark_memo(p.code):
            problems.append(Problem(
                p.file, p.line + line - 1, f"{name}: {what}",
                "write it in SQL both engines share, or use engine: {type: duckdb}"))


_SPARK_SEEN: dict[str, list[tuple[int, str]]] = {}


def _spark_memo(code: str) -> list[tuple[int, str]]:
    from steward.sql.spark import spark_problems

    if code not in _SPARK_SEEN:
        _SPARK_SEEN[code] = spark_problems(code)
    return _SPARK_SEEN[code]
