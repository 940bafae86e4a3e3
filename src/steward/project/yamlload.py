"""YAML that remembers where each value came from, and refuses duplicate keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from steward.core.errors import Problem

if TYPE_CHECKING:  # yaml loads with the first document parsed (the load memo keeps many)
    import yaml

Path_ = tuple[Any, ...]


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
