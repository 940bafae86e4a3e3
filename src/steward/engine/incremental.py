"""Incremental products and snapshots: a new version made from the previous one.

A version stays immutable and self-contained: its folder holds every file it reads. An
incremental product's new version holds the previous version's files **hard-linked**
(no byte copied; a copy where the filesystem refuses links), except those holding a
row a new row replaces (merge), which are rewritten without it, plus one new file of
the new rows. A link is a second name for the same immutable file: gc removing the old
version removes one name, verify and the content hash read the same bytes, and nothing
in Steward writes into a published file (quarantine replaces files, never edits them).
So a build costs the product's query over its inputs (its ``where`` predicate keeps
only the new rows) and the writing of those rows, not a rewrite of the history. When
the query's columns change, the old rows are read and written again in one file,
aligned by name. A snapshot's new version is always one rewritten file (its current
records change as new states arrive).

- **incremental**, ``merge`` (with a ``unique_key``): the previous rows whose key is
  among the new rows are replaced by them; ``append``: the new rows are added.
- **snapshot** (SCD type 2): rows whose ``updated_at`` moved on (timestamp strategy)
  or whose checked columns changed (check strategy) close their current record
  (``valid_to``) and open a new one; new keys open a record; the history is kept.
"""

from __future__ import annotations

import os
import re
import shutil
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from steward.core.errors import BuildError
from steward.core.model import Product
from steward.engine.duckdb_text import ident, lit, sql_list

if TYPE_CHECKING:
    from steward.engine.duckdb import DuckDBEngine

_THIS = re.compile(r"\{\{\s*this\s*\}\}")
META: dict[str, dict[str, str]] = {
    "steward": {"scd_id": "scd_id", "updated_at": "", "valid_from": "valid_from",
                "valid_to": "valid_to"},
    "dbt": {"scd_id": "dbt_scd_id", "updated_at": "dbt_updated_at",
            "valid_from": "dbt_valid_from", "valid_to": "dbt_valid_to"},
}


def build_incremental(engine: DuckDBEngine, product: Product, base: str,
                      previous: list[str] | None, data_dir: str
                      ) -> tuple[int, list[str], list[str]]:
    """Write the new version of ``product`` into ``data_dir``; ``base`` is its query with
    its inputs spliced in, ``previous`` the files of the version it grows from (None:
    the first build). Returns the row count, the version's files and those of them that
    hold only new rows (none when the new and old rows share a file)."""
    spec = product.spec_dump
    out = os.path.join(data_dir, "part-0.parquet")
    if spec.get("materialize") == "snapshot":
        return _snapshot(engine, product, base, previous, out), [out], []
    inc = spec.get("incremental") or {}
    keys = list(inc.get("unique_key") or ())
    if previous is None:
        return engine._copy_integers(base, out), [out], []
    prev = f"read_parquet({sql_list(previous)}, union_by_name = true)"
    new = f"SELECT * FROM (\n{base}\n) AS steward_new"
    if inc.get("where"):
        new += f"\nWHERE {_THIS.sub(prev, str(inc['where']))}"
    strategy = inc.get("strategy") or ("merge" if keys else "append")
    cur = engine.connection()
    if keys:
        _key_types(engine, product, base, prev, keys)
    merge = strategy == "merge" and bool(keys)
    # the new rows, computed once
    staged = os.path.join(data_dir, f"new-{uuid.uuid4().hex[:12]}.parquet")
    rows = engine._copy_integers(new, staged)
    new = f"SELECT * FROM read_parquet({lit(staged)})"
    if keys:
        k = ", ".join(ident(c) for c in keys)
        dup = cur.execute(f"SELECT count(*) FROM (SELECT {k} FROM ({new}) GROUP BY ALL "
                          f"HAVING count(*) > 1)").fetchone()
        if dup and dup[0]:
            raise BuildError(
                f"{product.file}: {product.name}: unique_key ({', '.join(keys)}) is not "
                f"unique in the new rows ({dup[0]} key{'s' if dup[0] != 1 else ''} appear "
                "more than once); nothing was published and the previous version stays "
                "current. Fix the query or its 'where', or choose a key that is unique")
    shape = cur.execute(f"DESCRIBE ({new})").fetchall()
    before = cur.execute(f"DESCRIBE SELECT * FROM read_parquet({sql_list(previous)})"
                         ).fetchall()
    if [tuple(r[:2]) for r in shape] == [tuple(r[:2]) for r in before]:
        total, files = _grow(engine, staged, rows, previous, keys if merge else [], data_dir)
        return total, files, files[-1:]
    try:
        return _rewrite(engine, new, prev, keys if merge else [], out), [out], []
    finally:
        os.remove(staged)


def _rewrite(engine: DuckDBEngine, new: str, prev: str, keys: list[str], out: str) -> int:
    """The columns changed: one file, the old rows aligned with the new by name."""
    if keys:
        match = " AND ".join(f"n.{ident(c)} IS NOT DISTINCT FROM p.{ident(c)}" for c in keys)
        sql = (f"WITH steward_new AS ({new})\n"
               f"SELECT * FROM {prev} AS p WHERE NOT EXISTS "
               f"(SELECT 1 FROM steward_new AS n WHERE {match})\n"
               f"UNION ALL BY NAME SELECT * FROM steward_new")
    else:
        sql = f"SELECT * FROM {prev}\nUNION ALL BY NAME\nSELECT * FROM ({new})"
    return engine._copy_integers(sql, out)


def _grow(engine: DuckDBEngine, staged: str, rows: int, previous: list[str], keys: list[str],
          data_dir: str) -> tuple[int, list[str]]:
    """The previous version's files, hard-linked (a copy where links are refused) when no
    new row replaces one of theirs, rewritten without the replaced rows otherwise; and the
    file of the new rows (``staged``). Nothing already written is written again."""
    cur = engine.connection()
    new_scan = f"read_parquet({lit(staged)})"
    files: list[str] = []
    total = rows
    for f in previous:
        target = os.path.join(data_dir, os.path.basename(f))
        if os.path.exists(target):
            target = os.path.join(data_dir, f"part-{uuid.uuid4().hex[:12]}.parquet")
        if keys and rows and _may_overlap(engine, f, staged, keys):
            on = " AND ".join(f"n.{ident(c)} IS NOT DISTINCT FROM p.{ident(c)}" for c in keys)
            hit = cur.execute(f"SELECT 1 FROM read_parquet({lit(f)}) AS p SEMI JOIN "
                              f"{new_scan} AS n ON {on} LIMIT 1").fetchone()
            if hit:
                total += engine._copy_integers(
                    f"SELECT p.* FROM read_parquet({lit(f)}) AS p ANTI JOIN {new_scan} AS n "
                    f"ON {on}", target)
                files.append(target)
                continue
        try:
            os.link(f, target)
        except OSError:
            shutil.copyfile(f, target)
        row = cur.execute(f"SELECT count(*) FROM read_parquet({lit(f)})").fetchone()
        total += int(row[0]) if row else 0
        files.append(target)
    final = os.path.join(data_dir, f"part-{uuid.uuid4().hex[:12]}.parquet")
    os.replace(staged, final)
    return total, [*files, final]


def _may_overlap(engine: DuckDBEngine, file: str, staged: str, keys: list[str]) -> bool:
    """False when the file's statistics show no key of the new rows can be in it (a
    single key column whose range in the file misses the new keys' range): the file is
    linked without being read. True when unsure."""
    if len(keys) != 1:
        return True
    cur = engine.connection()
    key = ident(keys[0])
    row = cur.execute(f"SELECT min({key}), max({key}), typeof(min({key})) "
                      f"FROM read_parquet({lit(staged)})").fetchone()
    if not row or row[0] is None:
        return True
    lo, hi, typ = row
    stats = cur.execute(
        f"SELECT bool_and(stats_min IS NOT NULL AND stats_max IS NOT NULL), "
        f"min(TRY_CAST(stats_min AS {typ})), max(TRY_CAST(stats_max AS {typ})) "
        f"FROM parquet_metadata({lit(file)}) WHERE path_in_schema = {lit(keys[0])}"
    ).fetchone()
    if not stats or not stats[0] or stats[1] is None or stats[2] is None:
        return True
    return not (lo > stats[2] or hi < stats[1])


def _key_types(engine: DuckDBEngine, product: Product, base: str, prev: str,
               keys: list[str]) -> None:
    """A key whose type changed cannot match its earlier rows: refused, clearly."""
    cur = engine.connection()
    now = {str(r[0]): str(r[1]) for r in cur.execute(f"DESCRIBE ({base})").fetchall()}
    before = {str(r[0]): str(r[1]) for r in cur.execute(f"DESCRIBE SELECT * FROM {prev}"
                                                        ).fetchall()}
    for k in keys:
        if k not in now:
            raise BuildError(f"{product.file}: {product.name}: unique_key column {k!r} is not "
                             f"among the query's columns ({', '.join(now)})")
        if k in before and before[k] != now[k]:
            raise BuildError(
                f"{product.file}: {product.name}: unique_key column {k!r} was {before[k]} in "
                f"the previous version and is {now[k]} now; its rows cannot be matched. "
                "Cast it back to its type, or rebuild with --full-refresh (which starts "
                "the history again); the previous version stays current")


def _snapshot(engine: DuckDBEngine, product: Product, base: str, previous: list[str] | None,
              out: str) -> int:
    snap: dict[str, Any] = product.spec_dump["snapshot"]
    names = META[snap.get("columns") or "steward"]
    keys = list(snap["unique_key"])
    cur = engine.connection()
    cols = [str(r[0]) for r in cur.execute(f"DESCRIBE ({base})").fetchall()]
    for k in keys:
        if k not in cols:
            raise BuildError(f"{product.file}: {product.name}: unique_key column {k!r} is not "
                             f"among the query's columns ({', '.join(cols)})")
    if snap.get("strategy") == "check":
        now = datetime.now(UTC).replace(tzinfo=None).isoformat(sep=" ")
        stamp = f"TIMESTAMP {lit(now)}"
        checked = [c for c in cols if c not in keys] if snap.get("check_cols") in (None, "all") \
            else list(snap["check_cols"])
    else:
        stamp, checked = f"src.{ident(str(snap['updated_at']))}", []

    def opened(source: str) -> str:
        scd = " || '|' || ".join(f"coalesce(CAST({x} AS VARCHAR), '')"
                                 for x in [*(f"src.{ident(k)}" for k in keys), stamp])
        extra = f", {stamp} AS {ident(names['updated_at'])}" if names["updated_at"] else ""
        return (f"SELECT src.*, md5({scd}) AS {ident(names['scd_id'])}{extra}, "
                f"{stamp} AS {ident(names['valid_from'])}, "
                f"nullif({stamp}, {stamp}) AS {ident(names['valid_to'])} FROM {source} AS src")

    prev = f"read_parquet({sql_list(previous)})" if previous else None
    if prev is not None:
        before = [str(r[0]) for r in cur.execute(f"DESCRIBE SELECT * FROM {prev}").fetchall()]
        if names["valid_to"] not in before:
            prev = None  # built as something else before: the history starts now
    if prev is None:
        return engine._copy_integers(opened(f"(\n{base}\n)"), out)
    _key_types(engine, product, base, prev, keys)
    vf, vt = ident(names["valid_from"]), ident(names["valid_to"])
    on = " AND ".join(f"c.{ident(k)} IS NOT DISTINCT FROM src.{ident(k)}" for k in keys)
    if checked:
        changed = " OR ".join(f"c.{ident(x)} IS DISTINCT FROM src.{ident(x)}" for x in checked)
    else:
        changed = f"c.{vf} < {stamp}"
    src_cols = ", ".join(f"src.{ident(c)}" for c in cols)
    sql = (
        f"WITH src AS (\n{base}\n),\n"
        f"prev AS (SELECT * FROM {prev}),\n"
        f"c AS (SELECT * FROM prev WHERE {vt} IS NULL),\n"
        f"changed AS (SELECT {src_cols}, {stamp} AS steward_stamp FROM src JOIN c ON {on} "
        f"WHERE {changed}),\n"
        f"fresh AS (SELECT {src_cols} FROM src WHERE NOT EXISTS (SELECT 1 FROM c WHERE {on}))\n"
        f"SELECT * FROM prev WHERE {vt} IS NOT NULL\n"
        f"UNION ALL BY NAME\n"
        f"SELECT c.* FROM c WHERE NOT EXISTS (SELECT 1 FROM changed AS src WHERE {on})\n"
        f"UNION ALL BY NAME\n"
        f"SELECT c.* REPLACE (src.steward_stamp AS {vt}) FROM c JOIN changed AS src ON {on}\n"
        f"UNION ALL BY NAME\n"
        + opened("(SELECT * EXCLUDE (steward_stamp) FROM changed UNION ALL BY NAME "
                 "SELECT * FROM fresh)")
    )
    return engine._copy_integers(sql, out)
