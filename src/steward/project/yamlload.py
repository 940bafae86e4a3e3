"""YAML that remembers where each value came from, and refuses duplicate keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from steward.core.errors import Problem

if TYPE_CHECKING:  # yaml loads with the first document parsed (the load memo keeps many)
    import yaml

Path_ = tuple[Any, ...]

# How many values YAML aliases may add to a document by repeating what an anchor names.
# Nested aliases multiply (nine lists of nine aliases of ... : the "billion laughs"), and
# every value is built, validated and hashed; sharing a definition a few times needs far
# less than this.
ALIAS_LIMIT = 10_000


@dataclass
class Located:
    """A parsed YAML document and the line of every mapping key and list item in it."""

    file: str
    data: Any
    lines: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def line(self, loc: Path_) -> int:
        """The line of the deepest part of ``loc`` that exists in the document."""
        path: Path_ = ()
        for part in loc:
            if (*path, part) in self.lines:
                path = (*path, part)
        return self.lines.get(path, 1)


def load_yaml(text: str, file: str) -> Located:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # (without libyaml: pure Python)
    out = Located(file, None)
    try:
        if "*" in text and "&" in text:  # (aliases need an anchor)
            refused = _alias_problem(text, file, loader)
            if refused is not None:
                out.problems.append(refused)
                return out
        node = yaml.compose(text, Loader=loader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else None
        problem = getattr(e, "problem", None) or str(e)
        out.problems.append(Problem(file, line, f"invalid YAML: {problem}",
                                    "check indentation and quoting"))
        return out
    if node is None:
        out.data = {}
        return out
    constructor = yaml.SafeLoader("")
    out.data = _build(node, (), out, constructor)
    return out


def _alias_problem(text: str, file: str, loader: Any) -> Problem | None:
    """A problem at the alias where the values aliases repeat pass :data:`ALIAS_LIMIT`.

    Counted on the parser's events, where an alias is one event whatever it names, so a
    document built to explode is refused before anything is expanded.
    """
    import yaml

    sizes: dict[str, int] = {}  # anchor -> values the node it names holds
    stack: list[list[Any]] = []  # open collections: [anchor, values so far]
    added = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.AliasEvent):
            size = sizes.get(event.anchor or "", 1)
            added += size
            if added > ALIAS_LIMIT:
                return Problem(
                    file, event.start_mark.line + 1 if event.start_mark else None,
                    f"YAML aliases expand to more than {ALIAS_LIMIT:,} values "
                    f"(*{event.anchor} repeats {size:,})",
                    "write the values out, or use fewer and less nested anchors (&) and "
                    "aliases (*)",
                )
            if stack:
                stack[-1][1] += size
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor:
                sizes[event.anchor] = 1
            if stack:
                stack[-1][1] += 1
        elif isinstance(event, yaml.CollectionStartEvent):
            stack.append([event.anchor, 1])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, size = stack.pop()
            if anchor:
                sizes[anchor] = size
            if stack:
                stack[-1][1] += size
    return None


def _build(node: yaml.Node, path: Path_, out: Located, c: yaml.SafeLoader) -> Any:
    import yaml

    out.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        result: dict[Any, Any] = {}
        for knode, vnode in node.value:
            key = c.construct_object(knode, deep=True)
            if isinstance(key, list | dict):
                out.problems.append(Problem(
                    out.file, knode.start_mark.line + 1, "a key must be a plain value",
                    "a '{' right after a key's colon starts a mapping; quote it if meant as text",
                ))
                continue
            if key in result:
                out.problems.append(Problem(
                    out.file, knode.start_mark.line + 1, f"duplicate key {key!r}",
                    f"{key!r} is already defined on line {out.lines.get((*path, key))}",
                ))
                continue
            out.lines[(*path, key)] = knode.start_mark.line + 1
            result[key] = _build(vnode, (*path, key), out, c)
        return result
    if isinstance(node, yaml.SequenceNode):
        items = []
        for i, item in enumerate(node.value):
            out.lines[(*path, i)] = item.start_mark.line + 1
            items.append(_build(item, (*path, i), out, c))
        return items
    return c.construct_object(node, deep=True)
