"""Parse a product's SQL once: its references, its output columns, its normal form.

The normal form is what the fingerprint hashes, so reformatting a model never rebuilds
it: the query's tokens as the parser reads them, one space apart, comments dropped,
keywords in upper case, unquoted names in lower case (DuckDB reads them without regard
to case), strings, numbers and quoted names exactly as written. It is made from the
tokens the parse reads anyway (a twentieth of the cost of generating SQL from the tree)
and is itself the same query: DuckDB runs it and sqlglot parses it to the same tree
(what ``plan`` compares).
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # sqlglot is imported only when SQL is really parsed (cache misses)
    from sqlglot import exp

DIALECT = "duckdb"


@dataclass(frozen=True)
class Reference:
    name: str  # as written: "raw.flights" or "flights"
    line: int
    # where the name is written in the text: (start, end exclusive, followed by an alias)
    spans: tuple[tuple[int, int, bool], ...] = ()


@dataclass(frozen=True)
class ParsedSql:
    normalized: str
    references: tuple[Reference, ...] = ()
    outputs: tuple[str, ...] | None = None  # None when a star hides them
    error: str | None = None
    error_line: int | None = None
    extra: dict[str, object] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "normalized": self.normalized,
            "references": [[r.name, r.line, [list(x) for x in r.spans]]
                           for r in self.references],
            "outputs": list(self.outputs) if self.outputs is not None else None,
            "error": self.error,
            "error_line": self.error_line,
        }

    @classmethod
    def from_json(cls, d: dict[str, object]) -> ParsedSql:
        refs = tuple(Reference(n, ln, tuple((a, b, bool(c)) for a, b, c in sp))
                     for n, ln, sp in d["references"])  # type: ignore[attr-defined, misc]
        outs = d["outputs"]
        return cls(
            normalized=str(d["normalized"]),
            references=refs,
            outputs=tuple(outs) if outs is not None else None,  # type: ignore[arg-type]
            error=d["error"],  # type: ignore[arg-type]
            error_line=d["error_line"],  # type: ignore[arg-type]
        )


# Trees a load parsed, kept for one later pass of the same process over the same text
# (the column lineage and facts a run computes beside its builds), so a product's SQL is
# parsed once per load: :func:`keep_trees` turns keeping on (a run, before it loads) and
# off (dropping what no pass took); :func:`take_tree` hands a tree over once. The lock:
# a run's lineage thread takes trees while a later run of the same process (the server)
# may already switch keeping on or off.
_kept: dict[str, Any] | None = None
_kept_lock = threading.Lock()


def keep_trees(on: bool) -> None:
    """Start keeping parsed trees (``on``), or stop and free those no pass took: a run's
    load keeps them with its heap frozen, where the collector never looks, so a tree
    dropped without :func:`dispose` would stay until the run ends (about 20 MB for
    1,000 models, e.g. in every run with OpenLineage off)."""
    global _kept
    with _kept_lock:
        dropped, _kept = _kept, ({} if on else None)
    for tree in (dropped or {}).values():  # (no other thread can reach them now)
        dispose(tree)


def take_tree(text: str) -> Any:
    """The tree a load parsed ``text`` into, once (None when none was kept)."""
    with _kept_lock:
        return _kept.pop(text, None) if _kept is not None else None


def _keep(text: str, tree: Any) -> bool:
    """Keep ``tree`` for :func:`take_tree` if keeping is on."""
    with _kept_lock:
        if _kept is None:
            return False
        _kept[text] = tree
        return True


def parse_sql(text: str) -> ParsedSql:
    """Parse one SELECT statement; syntax errors come back as data, never raised."""
    import sqlglot
    from sqlglot import exp

    dialect = _dialect()
    try:
        tokens = dialect.tokenize(text)
        statements = [s for s in dialect.parser().parse(tokens, text) if s is not None]
    except sqlglot.errors.ParseError as e:
        first = e.errors[0] if e.errors else {}
        desc = str(first.get("description") or e).split("\n")[0].split(" but got")[0]
        near = first.get("highlight")
        msg = f"SQL syntax error: {desc}" + (f" near '{near}'" if near else "")
        return ParsedSql("", error=msg, error_line=first.get("line"))
    except sqlglot.errors.TokenError as e:
        return ParsedSql("", error=f"cannot tokenize: {e}", error_line=None)
    if len(statements) != 1:
        return ParsedSql("", error=f"expected one SELECT statement, found {len(statements)}",
                         error_line=1)
    tree = statements[0]
    if not isinstance(tree, exp.Query):
        return ParsedSql("", error=f"a product is a query; found {tree.key.upper()}",
                         error_line=1)
    parsed = ParsedSql(
        normalized=normal_form(text, tokens),
        references=tuple(table_references(tree)),
        outputs=output_columns(tree),
    )
    if not _keep(text, tree):
        dispose(tree)
    return parsed


def dispose(tree: Any) -> None:
    """Free a parsed tree now: each node points at its parent, so a tree is a cycle that
    only the collector frees, and the trees a load keeps for the run's lineage are frozen
    with the rest of the run's heap (``Executor.execute``): never collected. With the
    parent links cut, reference counting frees it (1,000 models: about 28 MB)."""
    if tree is None:
        return
    for node in tree.walk():
        node.parent = None


@functools.cache
def _dialect() -> Any:
    from sqlglot.dialects.dialect import Dialect

    return Dialect.get_or_raise(DIALECT)


def normal_form(text: str, tokens: Any) -> str:
    """The normal form of ``text`` from its sqlglot ``tokens`` (see the module's doc)."""
    verbatim, var = _token_kinds()
    out = []
    for t in tokens:
        kind = t.token_type
        if kind in verbatim:
            out.append(text[t.start:t.end + 1])
        elif kind is var:
            out.append(text[t.start:t.end + 1].lower())
        else:  # keywords (a two-word one with any spacing), operators, punctuation
            out.append(" ".join(t.text.split()).upper())
    return " ".join(out)


@functools.cache
def _token_kinds() -> tuple[frozenset[Any], Any]:
    """The token types written exactly as in the source (strings, numbers, quoted
    names), and the type of unquoted names."""
    from sqlglot.tokens import TokenType

    names = ("STRING", "IDENTIFIER", "NUMBER", "BYTE_STRING", "HEREDOC_STRING",
             "NATIONAL_STRING", "RAW_STRING", "HEX_STRING", "BIT_STRING", "UNICODE_STRING")
    return frozenset(getattr(TokenType, n) for n in names if hasattr(TokenType, n)), \
        TokenType.VAR


def table_references(tree: exp.Expr) -> list[Reference]:
    """Tables the query reads, minus its own CTEs, each with the line it appears on."""
    from sqlglot import exp

    ctes: set[str] = set()
    tables: list[exp.Table] = []
    for node in tree.walk():  # (one walk for both kinds, in find_all's order)
        if isinstance(node, exp.Table):
            tables.append(node)
        elif isinstance(node, exp.CTE):
            ctes.add(node.alias_or_name.lower())
    seen: dict[str, Reference] = {}
    for t in tables:
        if not t.name or isinstance(t.this, exp.Func | exp.Anonymous):
            continue
        if not t.db and t.name.lower() in ctes:
            continue
        name = f"{t.db}.{t.name}" if t.db else t.name
        line = int(t.this.meta.get("line", 1)) if isinstance(t.this, exp.Expr) else 1
        spans = seen[name].spans if name in seen else ()
        span = _span(t)
        if span is not None:
            spans = (*spans, span)
        first = min(line, seen[name].line) if name in seen else line
        seen[name] = Reference(name, first, spans)
    return sorted(seen.values(), key=lambda r: (r.line, r.name))


def _span(t: exp.Table) -> tuple[int, int, bool] | None:
    """Offsets of a table name in the source text (quotes included), if sqlglot kept them."""
    parts = [t.args.get(k) for k in ("catalog", "db", "this")]
    metas = [p.meta for p in parts if p is not None and "start" in p.meta]
    if len(metas) != sum(1 for p in parts if p is not None):
        return None
    return (min(m["start"] for m in metas), max(m["end"] for m in metas) + 1, bool(t.alias))


def splice_references(text: str, spans: list[tuple[int, int, str, bool]],
                      scans: dict[str, str]) -> str:
    """Replace each referenced name at its recorded span by a scan, keeping aliases.

    Much cheaper than re-parsing at build time: the spans were recorded when the project
    was loaded (and are cached with the parse).
    """
    out = text
    for start, end, name, has_alias in sorted(spans, reverse=True):
        short = name.split(".", 1)[-1].replace('"', '""')
        repl = scans[name] + ("" if has_alias else f' AS "{short}"')
        out = out[:start] + repl + out[end:]
    return out


def output_columns(tree: exp.Expr) -> tuple[str, ...] | None:
    from sqlglot import exp

    if not isinstance(tree, exp.Query):
        return None
    selects = tree.selects
    if any(isinstance(s, exp.Star) or (isinstance(s, exp.Column) and s.is_star)
           for s in selects):
        return None
    return tuple(s.alias_or_name for s in selects)


def rewrite_references(text: str, mapping: dict[str, exp.Expr]) -> str:
    """Replace each product reference by an expression (e.g. ``read_parquet(...)``)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(text, read=DIALECT)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}

    def swap(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table) and node.name:
            if not node.db and node.name.lower() in ctes:
                return node
            name = f"{node.db}.{node.name}" if node.db else node.name
            repl = mapping.get(name)
            if repl is not None:
                alias = node.alias or node.name
                return exp.Table(this=repl.copy(),
                                 alias=exp.TableAlias(this=exp.to_identifier(alias)))
        return node

    return tree.transform(swap).sql(dialect=DIALECT)


def parquet_scan(paths: list[str]) -> exp.Expr:
    """``read_parquet([...])`` as a syntax tree."""
    from sqlglot import exp

    arg: exp.Expr
    if len(paths) == 1:
        arg = exp.Literal.string(paths[0])
    else:
        arg = exp.Array(expressions=[exp.Literal.string(p) for p in paths])
    return exp.Anonymous(this="read_parquet", expressions=[arg])
