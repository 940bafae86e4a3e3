"""Walk the lineage graph from one product or column, and print it as a tree, DOT,
JSON or Mermaid."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from steward.catalog.lineage import Classified, LineageGraph
from steward.core.model import Project

Direction = Literal["upstream", "downstream", "both"]
FORMATS = ("tree", "dot", "json", "mermaid")


@dataclass
class View:
    """A walked part of the graph: nodes ``product`` or ``product.column``, and edges
    pointing downstream (``source -> target``)."""

    root: str
    column: str | None
    direction: Direction
    depth: int | None
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, how)
    notes: dict[str, str] = field(default_factory=dict)  # node -> lineage level note
    labels: dict[str, str] = field(default_factory=dict)  # node -> classification text

    def nodes(self) -> list[str]:
        seen = {self.root: None}
        for a, b, _ in self.edges:
            seen.setdefault(a, None)
            seen.setdefault(b, None)
        return list(seen)


def walk(project: Project, graph: LineageGraph, product: str, column: str | None,
         direction: Direction = "both", depth: int | None = None,
         classes: Classified | None = None) -> View:
    """Breadth-first walk from ``product`` (or ``product.column``) up to ``depth`` hops."""
    root = f"{product}.{column}" if column else product
    view = View(root, column, direction, depth)
    kids: dict[str, list[str]] = {}
    for n, p in project.products.items():
        for i in p.inputs:
            kids.setdefault(i, []).append(n)

    def up(node: tuple[str, str | None]) -> list[tuple[tuple[str, str | None], str]]:
        p, c = node
        if c is None:
            return [((i, None), "input") for i in project.products[p].inputs]
        return [((u, uc), how) for u, uc, how in graph.upstream(p, c)]

    def down(node: tuple[str, str | None]) -> list[tuple[tuple[str, str | None], str]]:
        p, c = node
        if c is None:
            return [((k, None), "input") for k in sorted(kids.get(p, []))]
        return [((d, dc), how) for d, dc, how in graph.downstream(p, c)]

    def bfs(step: Callable[..., Any], upward: bool) -> None:
        frontier = [(product, column)]
        seen = {(product, column)}
        level = 0
        while frontier and (depth is None or level < depth):
            nxt = []
            for node in frontier:
                for other, how in step(node):
                    a, b = (_name(other), _name(node)) if upward else (_name(node), _name(other))
                    view.edges.append((a, b, how))
                    if other not in seen:
                        seen.add(other)
                        nxt.append(other)
            frontier = nxt
            level += 1

    if direction in ("upstream", "both"):
        bfs(up, True)
    if direction in ("downstream", "both"):
        bfs(down, False)
    for node in view.nodes():
        prod, col = _split(node, project)
        pl = graph.products.get(prod)
        if pl is not None and pl.level == "table":
            view.notes[prod] = f"table-level lineage: {pl.reason}"
        if col is not None and classes:
            hit = classes.get((prod, col))
            if hit:
                cls, via = hit
                view.labels[node] = ",".join(cls) + (f" via {via}" if via else "")
    return view


def _name(node: tuple[str, str | None]) -> str:
    return f"{node[0]}.{node[1]}" if node[1] is not None else node[0]


def _split(node: str, project: Project) -> tuple[str, str | None]:
    if node in project.products:
        return node, None
    prod, _, col = node.rpartition(".")
    return prod, col


# -- formats --------------------------------------------------------------------------
def render(view: View, fmt: str) -> str:
    if fmt == "json":
        return to_json(view)
    if fmt == "dot":
        return to_dot(view)
    if fmt == "mermaid":
        return to_mermaid(view)
    return to_tree(view)


def to_json(view: View) -> str:
    return json.dumps({
        "root": view.root, "direction": view.direction, "depth": view.depth,
        "nodes": [{"id": n, **({"classification": view.labels[n]} if n in view.labels else {})}
                  for n in view.nodes()],
        "edges": [{"from": a, "to": b, "how": h} for a, b, h in _unique(view.edges)],
        "notes": view.notes,
    }, indent=2)


def to_dot(view: View) -> str:
    lines = ["digraph lineage {", "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"]
    for n in view.nodes():
        label = n + (f"\\n[{view.labels[n]}]" if n in view.labels else "")
        style = ", style=bold" if n == view.root else ""
        lines.append(f'  "{n}" [label="{label}"{style}];')
    for a, b, how in _unique(view.edges):
        attr = f' [label="{how}"]' if how not in ("input", "identity") else ""
        lines.append(f'  "{a}" -> "{b}"{attr};')
    lines.append("}")
    return "\n".join(lines) + "\n"


def to_mermaid(view: View) -> str:
    ids = {n: f"n{i}" for i, n in enumerate(view.nodes())}
    lines = ["graph LR"]
    for n, i in ids.items():
        label = n + (f" [{view.labels[n]}]" if n in view.labels else "")
        lines.append(f'  {i}["{label.replace(chr(34), chr(39))}"]')
    for a, b, how in _unique(view.edges):
        arrow = "-->" if how in ("input", "identity") else f"-- {how} -->"
        lines.append(f"  {ids[a]} {arrow} {ids[b]}")
    return "\n".join(lines) + "\n"


def to_tree(view: View) -> str:
    """Upstream as a tree under the root (what it comes from), then downstream."""
    ups: dict[str, list[tuple[str, str]]] = {}
    downs: dict[str, list[tuple[str, str]]] = {}
    for a, b, how in _unique(view.edges):
        ups.setdefault(b, []).append((a, how))
        downs.setdefault(a, []).append((b, how))
    out = [view.root + (f"  [{view.labels[view.root]}]" if view.root in view.labels else "")]
    for prod, note in sorted(view.notes.items()):
        if view.root == prod or view.root.startswith(prod + "."):
            out.append(f"  ({note})")

    def branch(node: str, tree: dict[str, list[tuple[str, str]]], prefix: str,
               seen: set[str]) -> None:
        children = sorted(tree.get(node, []))
        for i, (child, how) in enumerate(children):
            last = i == len(children) - 1
            tag = "" if how in ("input", "identity") else f" ({how})"
            lab = f"  [{view.labels[child]}]" if child in view.labels else ""
            again = child in seen
            out.append(f"{prefix}{'└── ' if last else '├── '}{child}{tag}{lab}"
                       + ("  ..." if again and tree.get(child) else ""))
            if not again:
                seen.add(child)
                branch(child, tree, prefix + ("    " if last else "│   "), seen)

    if view.direction in ("upstream", "both"):
        out.append("upstream:" if ups.get(view.root) else "upstream: (none)")
        branch(view.root, ups, "", {view.root})
    if view.direction in ("downstream", "both"):
        out.append("downstream:" if downs.get(view.root) else "downstream: (none)")
        branch(view.root, downs, "", {view.root})
    others = {p: n for p, n in view.notes.items()
              if not (view.root == p or view.root.startswith(p + "."))}
    for prod, note in sorted(others.items()):
        out.append(f"note: {prod}: {note}")
    return "\n".join(out) + "\n"


def _unique(edges: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return list(dict.fromkeys(edges))
