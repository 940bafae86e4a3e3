"""Catalog search: products and columns ranked by full-text relevance, with facets.

The index is SQLite FTS5 in its own file, ``.steward/catalog.db``: it is derived data
(rebuilt from the project at any time), so it stays local and embedded whatever
metastore the team uses. Each product's entries carry a fingerprint of what was
indexed; an update rewrites only the products whose fingerprint changed.
"""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from steward.core.fingerprint import digest
from steward.core.glossary import Glossary
from steward.core.model import Project

INDEX_FILE = os.path.join(".steward", "catalog.db")
INDEX_VERSION = "2"
# bm25 weights of the FTS columns: a hit in a name counts most, then glossary terms.
_WEIGHTS = (10.0, 3.0, 4.0, 5.0, 2.0, 2.0)
_FIELDS = ("name", "description", "tags", "terms", "owner", "domain")


@dataclass(frozen=True)
class Entry:
    """One searchable thing: a product (``column`` None) or one of its columns."""

    product: str
    column: str | None
    kind: str
    description: str = ""
    tags: tuple[str, ...] = ()
    terms: str = ""  # glossary term names, synonyms and definitions
    owner: str = ""
    domain: str = ""
    classes: tuple[str, ...] = ()

    @property
    def name_words(self) -> str:
        # "flights.dep_delay" must match "dep_delay", "dep" and "delay"
        base = self.column if self.column else self.product
        return f"{base} {base.replace('_', ' ').replace('.', ' ')}"


@dataclass(frozen=True)
class Hit:
    product: str
    column: str | None
    score: float
    description: str
    owner: str
    domain: str
    classes: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"{self.product}.{self.column}" if self.column else self.product


@dataclass(frozen=True)
class SyncStats:
    touched: int  # products (re)indexed
    removed: int
    total: int


def project_entries(project: Project, columns: Mapping[str, Sequence[str] | None] | None = None,
                    classes: Mapping[tuple[str, str], tuple[tuple[str, ...], str | None]]
                    | None = None) -> dict[str, list[Entry]]:
    """The entries of every product: itself and each known column.

    Args:
        project: the loaded project (with its glossary).
        columns: product -> known columns (from lineage); declared columns otherwise.
        classes: propagated classifications, ``(product, column) -> (classes, via)``.
    """
    glossary: Glossary = project.glossary
    default_owner = project.spec.defaults.owner or ""
    out: dict[str, list[Entry]] = {}
    for name, p in project.products.items():
        owner = p.spec.owner or default_owner
        cols = list((columns or {}).get(name) or ())
        lower = {c.lower() for c in cols}
        cols += [c for c in p.spec.columns if c.lower() not in lower]
        entries: list[Entry] = []
        all_classes: set[str] = set()
        all_terms: list[str] = []
        for c in cols:
            spec = p.spec.columns.get(c)
            cls = (classes or {}).get((name, c), ((), None))[0] if classes is not None else (
                tuple(spec.classification) if spec else ())
            all_classes.update(cls)
            terms = ""
            if spec is not None and spec.glossary:
                terms = " ".join(glossary.words(spec.glossary))
                all_terms.append(spec.glossary)
            entries.append(Entry(
                name, c, "column", (spec.description or "") if spec else "",
                tuple(spec.tags) if spec else (), terms, owner, p.domain, tuple(sorted(cls))))
        entries.insert(0, Entry(name, None, p.kind, p.spec.description or "", tuple(p.tags),
                                " ".join(sorted(set(all_terms))), owner, p.domain,
                                tuple(sorted(all_classes))))
        out[name] = entries
    return out


class CatalogIndex:
    """The FTS5 index in ``path`` (created on first use)."""

    def __init__(self, path: str):
        self.path = path
        if path != ":memory:":
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self.conn = sqlite3.connect(path)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        self._schema()

    @classmethod
    def for_project(cls, root: str) -> CatalogIndex:
        return cls(os.path.join(root, INDEX_FILE))

    def close(self) -> None:
        self.conn.close()

    def _schema(self) -> None:
        c = self.conn
        version = None
        with contextlib.suppress(sqlite3.OperationalError):  # a new file has no table yet
            version = c.execute("SELECT value FROM catalog_meta WHERE key='version'").fetchone()
        if version and version[0] == INDEX_VERSION:
            return
        with c:
            for t in ("catalog_meta", "entries", "fps", "fts"):
                c.execute(f"DROP TABLE IF EXISTS {t}")
            c.execute("CREATE TABLE catalog_meta (key TEXT PRIMARY KEY, value TEXT)")
            c.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, product TEXT NOT NULL, "
                      "col TEXT, kind TEXT, owner TEXT, domain TEXT, tags TEXT, classes TEXT, "
                      "description TEXT)")
            c.execute("CREATE INDEX entries_product ON entries(product)")
            c.execute("CREATE TABLE fps (product TEXT PRIMARY KEY, fp TEXT NOT NULL)")
            # porter: "delays" finds "delay"; '_' and '.' split names into words
            c.execute("CREATE VIRTUAL TABLE fts USING fts5(" + ", ".join(_FIELDS)
                      + ", tokenize = \"porter unicode61 separators '_.'\")")
            c.execute("INSERT INTO catalog_meta VALUES ('version', ?)", (INDEX_VERSION,))

    # -- writing ---------------------------------------------------------------------
    def sync(self, entries: Mapping[str, list[Entry]]) -> SyncStats:
        """Bring the index in line with ``entries``; only changed products are rewritten."""
        known = dict(self.conn.execute("SELECT product, fp FROM fps"))
        changed: dict[str, str] = {}
        for name, es in entries.items():
            fp = digest(INDEX_VERSION, repr(es))  # repr of frozen dataclasses: cheap, exact
            if known.get(name) != fp:
                changed[name] = fp
        removed = [n for n in known if n not in entries]
        with self.conn:
            self._delete([*changed, *removed])
            rows, fts = [], []
            rowid = (self.conn.execute("SELECT max(id) FROM entries").fetchone()[0] or 0)
            for name in changed:
                for e in entries[name]:
                    rowid += 1
                    rows.append((rowid, e.product, e.column, e.kind, e.owner.lower(),
                                 e.domain.lower(), _bag(e.tags), _bag(e.classes), e.description))
                    # owner and domain are words of the product only: on each of its
                    # columns they would match every column of a team (facets cover that)
                    top = e.column is None
                    fts.append((rowid, e.name_words, e.description, " ".join(e.tags), e.terms,
                                e.owner if top else "", e.domain if top else ""))
            self.conn.executemany("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?)", rows)
            self.conn.executemany("INSERT INTO fts (rowid, " + ", ".join(_FIELDS)
                                  + ") VALUES (?,?,?,?,?,?,?)", fts)
            self.conn.executemany("INSERT OR REPLACE INTO fps VALUES (?, ?)",
                                  list(changed.items()))
        return SyncStats(len(changed), len(removed), len(entries))

    def _delete(self, products: Sequence[str]) -> None:
        for i in range(0, len(products), 500):
            chunk = list(products[i:i + 500])
            marks = ",".join("?" * len(chunk))
            ids = f"SELECT id FROM entries WHERE product IN ({marks})"
            self.conn.execute(f"DELETE FROM fts WHERE rowid IN ({ids})", chunk)
            self.conn.execute(f"DELETE FROM entries WHERE product IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM fps WHERE product IN ({marks})", chunk)

    # -- reading ---------------------------------------------------------------------
    def search(self, text: str, *, owner: str | None = None, domain: str | None = None,
               tag: str | None = None, classification: str | None = None,
               limit: int = 20) -> list[Hit]:
        """Products and columns matching any word of ``text``, best first.

        Each word also matches as a prefix; a product or column matching more of the
        words, or matching in its name or glossary term, ranks higher (BM25).
        """
        where, args = [], []
        if owner:
            where.append("e.owner = ?")
            args.append(owner.lower())
        if domain:
            where.append("e.domain = ?")
            args.append(domain.lower())
        if tag:
            where.append("e.tags LIKE ?")
            args.append(f"% {tag} %")
        if classification:
            where.append("e.classes LIKE ?")
            args.append(f"% {classification} %")
        cols = "e.product, e.col, {score}, e.description, e.owner, e.domain, e.classes"
        words = _words(text)
        if not words:
            if not where:
                return []
            sql = (f"SELECT {cols.format(score='0.0')} FROM entries e WHERE "
                   + " AND ".join(where) + " ORDER BY e.col IS NOT NULL, e.product, e.col LIMIT ?")
            return self._hits(sql, [*args, limit])
        weights = ", ".join(str(w) for w in _WEIGHTS)
        ranked = (f"SELECT {cols.format(score=f'bm25(fts, {weights})')} FROM fts "
                  "JOIN entries e ON e.id = fts.rowid WHERE fts MATCH ?"
                  + "".join(f" AND {w}" for w in where) + " ORDER BY 3 LIMIT ?")
        unranked = ranked.replace(f"bm25(fts, {weights})", "0.0").replace(" ORDER BY 3", "")
        # BM25 costs time for every matching row, so relevance is found in tiers, each
        # ranked by BM25 and only tried when the ones before it leave the page unfilled:
        # entries matching every word; any word in a name, glossary term or tag; and
        # last, unranked, any word anywhere (a description, the owner).
        any_word = " OR ".join(f'"{w}"*' for w in words)
        tiers = [(ranked, " AND ".join(f'"{w}"*' for w in words))] if len(words) > 1 else []
        tiers += [(ranked, f"{{name terms tags}}: ({any_word})"), (unranked, any_word)]
        hits: dict[tuple[str, str | None], Hit] = {}
        for sql, match in tiers:
            for h in self._hits(sql, [match, *args, limit]):
                hits.setdefault((h.product, h.column), h)
            if len(hits) >= limit:
                break
        return list(hits.values())[:limit]

    def _hits(self, sql: str, params: list[object]) -> list[Hit]:
        return [Hit(p, c, -float(s), d or "", o or "", dm or "", tuple((cl or "").split()))
                for p, c, s, d, o, dm, cl in self.conn.execute(sql, params)]

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM entries").fetchone()[0])


def _bag(words: Iterable[str]) -> str:
    return " " + " ".join(words) + " "


def _words(text: str) -> list[str]:
    return list(dict.fromkeys(w for w in re.split(r"[^\w]+", text.lower()) if w))
