"""Compare two versions of a product inside the engine: schema, row counts, keyed row diff.

With a primary key, one FULL OUTER JOIN pass counts added, removed and changed rows,
changes per column, and keeps a small deterministic sample of each (``arg_min(..., n)``
over a hash of the key), so neither side is ever pulled into Python. Without a usable
key, rows are compared whole (multiset difference both ways) and the result says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp

from steward.core.records import Column, Version
from steward.sql.parse import DIALECT, parquet_scan


@dataclass
class DiffResult:
    product: str
    a: str
    b: str
    mode: str  # "keyed" | "full-row"
    key: list[str]
    rows_a: int
    rows_b: int
    schema: dict[str, Any]
    added: int = 0
    removed: int = 0
    changed: int = 0
    unchanged: int = 0
    column_changes: dict[str, int] = field(default_factory=dict)
    sample: dict[str, list[Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "product": self.product, "a": self.a, "b": self.b, "mode": self.mode,
            "key": self.key, "rows": {"a": self.rows_a, "b": self.rows_b},
            "schema": self.schema, "added": self.added, "removed": self.removed,
            "changed": self.changed, "unchanged": self.unchanged,
            "column_changes": self.column_changes, "sample": self.sample, "notes": self.notes,
        }


def _q(name: str) -> str:
    return exp.to_identifier(name, quoted=True).sql(dialect=DIALECT)


def schema_diff(a: Sequence[Column], b: Sequence[Column]) -> dict[str, Any]:
    ta, tb = {c.name: c.type for c in a}, {c.name: c.type for c in b}
    return {
        "added": [{"name": n, "type": tb[n]} for n in tb if n not in ta],
        "removed": [{"name": n, "type": ta[n]} for n in ta if n not in tb],
        "retyped": [{"name": n, "from": ta[n], "to": tb[n]}
                    for n in ta if n in tb and ta[n] != tb[n]],
    }


def diff_versions(engine: Any, product: str, va: Version, vb: Version, files_a: list[str],
                  files_b: list[str], key: Sequence[str], sample_size: int = 10,
                  label_a: str | None = None, label_b: str | None = None) -> DiffResult:
    """Diff ``va`` against ``vb`` (``vb`` is the newer side: "added" rows are in ``vb``)."""
    cols_a = [c.name for c in va.schema]
    cols_b = [c.name for c in vb.schema]
    sdiff = schema_diff(va.schema, vb.schema)
    common = [c for c in cols_a if c in cols_b]
    result = DiffResult(product, label_a or va.id, label_b or vb.id, "keyed", list(key),
                        va.row_count or 0, vb.row_count or 0, sdiff)
    scan_a = parquet_scan(files_a).sql(dialect=DIALECT)
    scan_b = parquet_scan(files_b).sql(dialect=DIALECT)
    usable = bool(key) and all(k in common for k in key)
    if not usable:
        result.mode = "full-row"
        result.key = []
        result.notes.append(
            ("no primary key declared" if not key else
             f"primary key {', '.join(key)} is not in both versions")
            + "; compared whole rows: a changed row counts as one removed and one added")
        _full_row(engine, result, scan_a, scan_b, common, sample_size)
        return result
    values = [c for c in common if c not in key]
    if sdiff["added"] or sdiff["removed"]:
        result.notes.append("only columns present in both versions are compared")
    # Pass 1: one FULL OUTER JOIN keeps only the rows that differ (1 % in a typical diff);
    # pass 2 counts and samples over that small set. Cheaper than aggregating every pair.
    on = " AND ".join(f"a.{_q(k)} = b.{_q(k)}" for k in key)
    pick = ", ".join(_q(c) for c in [*key, *values])
    diffs = [f"a.{_q(c)} IS DISTINCT FROM b.{_q(c)}" for c in values]
    changed = " OR ".join(diffs) if diffs else "false"
    side = ", ".join([f"a.{_q(c)} AS {_q('a_' + c)}" for c in [*key, *values]]
                     + [f"b.{_q(c)} AS {_q('b_' + c)}" for c in [*key, *values]])
    joined = f"""
    SELECT a.__a AS __a, b.__b AS __b, {side}
    FROM (SELECT {pick}, true AS __a FROM {scan_a}) a
    FULL OUTER JOIN (SELECT {pick}, true AS __b FROM {scan_b}) b ON {on}
    WHERE a.__a IS NULL OR b.__b IS NULL OR {changed}"""
    with engine.materialized(joined) as tmp:
        both = "__a AND __b"
        col_diffs = [f"{_q('a_' + c)} IS DISTINCT FROM {_q('b_' + c)}" for c in values]

        def struct(prefix: str) -> str:
            return "{" + ", ".join(f"{_lit(k)}: {_q(prefix + k)}" for k in key) + "}"

        row_changed = ("{" + ", ".join([f"{_lit('key')}: {struct('a_')}"]
                                       + [f"{_lit(c)}: [{_q('a_' + c)}::VARCHAR, "
                                          f"{_q('b_' + c)}::VARCHAR]" for c in values]) + "}")
        h_a = "hash(" + ", ".join(_q("a_" + k) for k in key) + ")"
        h_b = "hash(" + ", ".join(_q("b_" + k) for k in key) + ")"
        n = int(sample_size)
        counts = ", ".join(f"count(*) FILTER (WHERE {both} AND {d})" for d in col_diffs)
        row = engine.first(f"""
        SELECT count(*) FILTER (WHERE __a IS NULL), count(*) FILTER (WHERE __b IS NULL),
               count(*) FILTER (WHERE {both}), {counts or "0"},
               arg_min({row_changed}, {h_a}, {n}) FILTER (WHERE {both}),
               arg_min({struct('b_')}, {h_b}, {n}) FILTER (WHERE __a IS NULL),
               arg_min({struct('a_')}, {h_a}, {n}) FILTER (WHERE __b IS NULL)
        FROM {tmp}""")
    result.added, result.removed, result.changed = int(row[0]), int(row[1]), int(row[2])
    result.column_changes = {c: int(row[3 + i]) for i, c in enumerate(values)}
    k = 3 + max(len(values), 1)
    changed_rows = []
    for r in row[k] or []:
        changes = {c: v for c, v in r.items() if c != "key" and v[0] != v[1]}
        changed_rows.append({"key": r["key"], "changes": changes})
    result.sample = {"changed": changed_rows, "added": list(row[k + 1] or []),
                     "removed": list(row[k + 2] or [])}
    result.unchanged = result.rows_a - result.removed - result.changed
    if result.rows_a + result.added - result.removed != result.rows_b:
        result.notes.append("the key is not unique in one of the versions; counts are of "
                            "joined row pairs")
    return result


def _full_row(engine: Any, result: DiffResult, scan_a: str, scan_b: str, common: list[str],
              sample_size: int) -> None:
    pick = ", ".join(_q(c) for c in common)
    n = int(sample_size)
    sql = f"""
    WITH a AS (SELECT {pick} FROM {scan_a}), b AS (SELECT {pick} FROM {scan_b}),
    only_b AS (SELECT * FROM b EXCEPT ALL SELECT * FROM a),
    only_a AS (SELECT * FROM a EXCEPT ALL SELECT * FROM b)
    SELECT (SELECT count(*) FROM only_b), (SELECT count(*) FROM only_a),
           (SELECT list(t) FROM (SELECT * FROM only_b LIMIT {n}) t),
           (SELECT list(t) FROM (SELECT * FROM only_a LIMIT {n}) t)
    """
    row = engine.first(sql)
    result.added, result.removed = int(row[0]), int(row[1])
    result.unchanged = result.rows_a - result.removed
    result.sample = {"changed": [], "added": list(row[2] or []), "removed": list(row[3] or [])}


def _lit(s: str) -> str:
    return exp.Literal.string(s).sql(dialect=DIALECT)
