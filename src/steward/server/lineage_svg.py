"""The lineage graph as one SVG: products as boxes listing their columns, in layers.

Products are placed in columns by their depth from the graph's sources (longest path),
so every edge points right. An edge joins two column rows where column lineage is known,
else the two products' headers. The focused product or column, and everything it comes
from or goes to, are highlighted; personal columns and the edges carrying them are red.
Every box and row is a link: a click opens that product's (or column's) lineage.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

BOX_W, HEAD_H, ROW_H, GAP_X, GAP_Y, MAX_ROWS = 230, 26, 18, 90, 26, 24


@dataclass
class Graph:
    products: list[str]
    columns: dict[str, list[str]]
    edges: list[tuple[str, str | None, str, str | None]]  # from product/col -> to product/col
    focus: set[str] = field(default_factory=set)  # "product" or "product.column" nodes
    pii: set[tuple[str, str]] = field(default_factory=set)


def neighbourhood(project: Any, graph: Any, classes: Any, product: str, column: str | None,
                  depth: int | None) -> Graph:
    """The products around ``product`` (``depth`` hops both ways) with their columns."""
    from steward.catalog.lineage_view import walk
    from steward.server.masking import is_pii

    around = walk(project, graph, product, None, "both", depth, None)
    names = [n for n in around.nodes() if n in project.products]
    chosen = set(names)
    cols: dict[str, list[str]] = {}
    for n in names:
        known = list(graph.columns.get(n) or ())
        known += [c for c in project.products[n].spec.columns
                  if c.lower() not in {k.lower() for k in known}]
        cols[n] = known
    edges: list[tuple[str, str | None, str, str | None]] = []
    for n in names:
        pl = graph.products.get(n)
        linked: set[str] = set()
        if pl is not None:
            for c, ups in pl.columns.items():
                for up, upc, _how in ups:
                    if up in chosen:
                        edges.append((up, upc, n, c))
                        linked.add(up)
        for i in project.products[n].inputs:
            if i in chosen and i not in linked:
                edges.append((i, None, n, None))
    focus = {product}
    if column is not None:
        col_view = walk(project, graph, product, column, "both", None, None)
        focus = set(col_view.nodes())
    else:
        focus |= set(names) if depth == 1 else {product}
    pii = {(p, c) for (p, c), (labels, _) in classes.items() if p in chosen and is_pii(labels)}
    return Graph(names, cols, edges, focus, pii)


def layers(g: Graph) -> dict[str, int]:
    ins: dict[str, set[str]] = {n: set() for n in g.products}
    for a, _, b, _ in g.edges:
        if a != b:
            ins[b].add(a)
    level: dict[str, int] = {}

    def depth(n: str, seen: frozenset[str] = frozenset()) -> int:
        if n in level:
            return level[n]
        if n in seen:
            return 0
        d = 1 + max((depth(i, seen | {n}) for i in ins[n]), default=-1)
        level[n] = d
        return d

    for n in g.products:
        depth(n)
    return level


def render(g: Graph, root: str, column: str | None) -> str:
    level = layers(g)
    by_level: dict[int, list[str]] = {}
    for n in sorted(g.products):
        by_level.setdefault(level[n], []).append(n)
    pos: dict[str, tuple[float, float]] = {}
    row_y: dict[tuple[str, str], float] = {}
    height = 0.0
    for lv, names in sorted(by_level.items()):
        y = 10.0
        x = 10.0 + lv * (BOX_W + GAP_X)
        for n in names:
            pos[n] = (x, y)
            shown = g.columns.get(n, [])[:MAX_ROWS]
            for i, c in enumerate(shown):
                row_y[(n, c.lower())] = y + HEAD_H + i * ROW_H + ROW_H / 2
            y += HEAD_H + ROW_H * (len(shown) + (1 if len(g.columns.get(n, [])) > MAX_ROWS
                                                 else 0)) + 6 + GAP_Y
        height = max(height, y)
    width = 20 + (max(by_level, default=0) + 1) * (BOX_W + GAP_X) - GAP_X
    e = html.escape
    out = [f'<svg id="lineage" class="lineage" xmlns="http://www.w3.org/2000/svg" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" data-width="{width:.0f}" '
           f'data-height="{height:.0f}" data-nodes="{len(g.products)}" '
           f'data-edges="{len(g.edges)}" role="img" aria-label="lineage of {e(root)}">',
           '<g class="viewport">']
    for a, ac, b, bc in g.edges:
        if a not in pos or b not in pos:
            continue
        xa = pos[a][0] + BOX_W
        ya = row_y.get((a, ac.lower()), pos[a][1] + HEAD_H / 2) if ac else pos[a][1] + HEAD_H / 2
        xb = pos[b][0]
        yb = row_y.get((b, bc.lower()), pos[b][1] + HEAD_H / 2) if bc else pos[b][1] + HEAD_H / 2
        mid = (xa + xb) / 2
        hot = (f"{a}.{ac}" in g.focus and f"{b}.{bc}" in g.focus) if column else \
            (a in g.focus or b in g.focus)
        pii = ac is not None and (a, ac) in g.pii and bc is not None and (b, bc) in g.pii
        cls = "edge" + (" hot" if hot else "") + (" pii" if pii else "")
        out.append(f'<path class="{cls}" data-from="{e(a)}.{e(ac or "")}" '
                   f'data-to="{e(b)}.{e(bc or "")}" d="M{xa:.1f},{ya:.1f} C{mid:.1f},{ya:.1f} '
                   f'{mid:.1f},{yb:.1f} {xb:.1f},{yb:.1f}"/>')
    for n in g.products:
        x, y = pos[n]
        cols = g.columns.get(n, [])
        shown = cols[:MAX_ROWS]
        h = HEAD_H + ROW_H * (len(shown) + (1 if len(cols) > MAX_ROWS else 0)) + 6
        cls = "node" + (" root" if n == root else "") + (" hot" if n in g.focus else "")
        out.append(f'<g class="{cls}" data-product="{e(n)}">'
                   f'<rect x="{x:.0f}" y="{y:.0f}" width="{BOX_W}" height="{h:.0f}" rx="6"/>'
                   f'<a href="/lineage/{quote(n)}"><text class="head" x="{x + 8:.0f}" '
                   f'y="{y + 17:.0f}">{e(n)}</text></a>')
        for i, c in enumerate(shown):
            cy = y + HEAD_H + i * ROW_H
            rcls = "col" + (" pii" if (n, c) in g.pii or any(
                p == n and k.lower() == c.lower() for p, k in g.pii) else "") + (
                " hot" if f"{n}.{c}" in g.focus else "")
            out.append(f'<a href="/lineage/{quote(n)}?column={quote(c)}">'
                       f'<g class="{rcls}" data-column="{e(n)}.{e(c)}">'
                       f'<rect x="{x + 3:.0f}" y="{cy:.0f}" width="{BOX_W - 6}" '
                       f'height="{ROW_H - 2}" rx="3"/>'
                       f'<text x="{x + 10:.0f}" y="{cy + 12:.0f}">{e(c)}</text></g></a>')
        if len(cols) > MAX_ROWS:
            out.append(f'<text class="more" x="{x + 10:.0f}" '
                       f'y="{y + HEAD_H + len(shown) * ROW_H + 12:.0f}">'
                       f'+{len(cols) - MAX_ROWS} more</text>')
        out.append("</g>")
    out.append("</g></svg>")
    return "".join(out)
