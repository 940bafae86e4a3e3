"""The reads of one product's page, each one indexed statement (migration 0017).

A page about one product asks the same few questions on every view: its versions, the
environments pointing at them, its last run step, and whether any of that changed
since the page was last made. Each is plain SQL run through :class:`Reads` (the standard
library's ``sqlite3`` on a SQLite metastore, SQLAlchemy's ``text`` elsewhere).
"""

from __future__ import annotations

from typing import Any

from steward.core.records import Step, Version
from steward.meta.reads import VERSION_COLUMNS, Reads, version_of, when

# what changes a product's page: the environments (and the audit event that last moved
# each), its versions by status and check status, the environments pointing at them,
# its check results, profiles, metric points and run steps. Each part is an aggregate
# over an index on the product, so the answer is a handful of rows however long the
# history. Every value is text, so the parts can share one UNION on any database.
_STAMP = """
SELECT 'e', name, CAST(audit_seq AS VARCHAR(40)), NULL FROM environments
UNION ALL SELECT 'v', status, check_status, CAST(count(*) AS VARCHAR(40))
  FROM versions WHERE product = :p GROUP BY status, check_status
UNION ALL SELECT 'w', CAST(max(created_at) AS VARCHAR(40)), NULL, NULL
  FROM versions WHERE product = :p
UNION ALL SELECT 'p', env, version_id, NULL FROM env_pointers WHERE product = :p
UNION ALL SELECT 'c', CAST(count(*) AS VARCHAR(40)), CAST(max(checked_at) AS VARCHAR(40)),
  NULL FROM check_results WHERE product = :p
UNION ALL SELECT 'f', CAST(count(*) AS VARCHAR(40)), CAST(max(created_at) AS VARCHAR(40)),
  NULL FROM profiles WHERE product = :p
UNION ALL SELECT 'm', CAST(count(*) AS VARCHAR(40)), CAST(max(id) AS VARCHAR(40)), NULL
  FROM metrics WHERE product = :p
UNION ALL SELECT 's', CAST(count(*) AS VARCHAR(40)), CAST(max(started_at) AS VARCHAR(40)),
  NULL FROM run_steps WHERE product = :p
"""


def stamp(reads: Reads, product: str) -> tuple[tuple[Any, ...], ...]:
    """What a page about ``product`` depends on in the metastore, as a comparable value:
    equal stamps mean nothing the page shows changed (the rows are sorted, since a
    UNION's order is not defined)."""
    return tuple(sorted(tuple("" if x is None else str(x) for x in r)
                         for r in reads.rows(_STAMP, {"p": product})))


def versions(reads: Reads, product: str, limit: int) -> list[Version]:
    """The product's newest ``limit`` versions, newest first."""
    return [version_of(r) for r in reads.rows(
        f"SELECT {VERSION_COLUMNS} FROM versions WHERE product = :p "
        "ORDER BY created_at DESC, id DESC LIMIT :n", {"p": product, "n": limit})]


def previous_published(reads: Reads, version: Version) -> Version | None:
    """The published version of the same product created just before ``version``."""
    rows = reads.rows(f"SELECT {VERSION_COLUMNS} FROM versions WHERE product = :p "
                      "AND status = 'published' AND id != :v AND created_at <= "
                      "(SELECT created_at FROM versions WHERE id = :v) "
                      "ORDER BY created_at DESC, id DESC LIMIT 1",
                      {"p": version.product, "v": version.id})
    return version_of(rows[0]) if rows else None


def pointers(reads: Reads, product: str) -> dict[str, str]:
    """Environment -> the version of ``product`` it points at."""
    return dict(reads.rows("SELECT env, version_id FROM env_pointers WHERE product = :p",
                           {"p": product}))


def last_step(reads: Reads, product: str) -> Step | None:
    """The product's most recent run step."""
    rows = reads.rows("SELECT run_id, product, status, version_id, started_at, duration_s, "
                      "rows, error FROM run_steps WHERE product = :p "
                      "ORDER BY started_at DESC LIMIT 1", {"p": product})
    if not rows:
        return None
    r = rows[0]
    return Step(r[0], r[1], r[2], r[3], when(r[4]), r[5], r[6], r[7])


_RESULT_COLUMNS = ("version_id, name, type, severity, status, column_name, failures, total, "
                   "observed_json, message, sample_path, quarantined, details_json, "
                   "checked_at")


class _Row:
    """A row of ``check_results`` by attribute, as ``meta.checks`` decodes it."""

    def __init__(self, values: tuple[Any, ...]):
        for k, v in zip((c.strip() for c in _RESULT_COLUMNS.split(",")), values, strict=True):
            setattr(self, k, when(v) if k == "checked_at" else v)


def results_for_versions(reads: Reads, version_ids: list[str]) -> dict[str, list[Any]]:
    """Version id -> its stored check results (``meta.checks.results_for_versions``)."""
    from steward.meta.checks import _result

    out: dict[str, list[Any]] = {}
    for r in reads.rows_in(f"SELECT {_RESULT_COLUMNS} FROM check_results "
                           "WHERE version_id IN ({in})", version_ids):
        out.setdefault(r[0], []).append(_result(_Row(r)))
    return out


def profiles(reads: Reads, version_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Version id -> its stored profile (``meta.profiles.load_profile``)."""
    from steward.core.docs import load_doc

    return {vid: load_doc(doc) for vid, doc in reads.rows_in(
        "SELECT version_id, profile_json FROM profiles WHERE version_id IN ({in})",
        version_ids) if doc}


def table_series(reads: Reads, product: str, metrics: tuple[str, ...]
                 ) -> dict[str, list[tuple[float | None, Any, str | None]]]:
    """Metric -> (value, at, version id) of the product's table-level series, oldest
    first (``meta.profiles.series`` with ``column=""``)."""
    out: dict[str, list[tuple[float | None, Any, str | None]]] = {}
    for metric, value, at, vid in reads.rows_in(
            "SELECT metric, value, at, version_id FROM metrics WHERE product = :p "
            "AND metric IN ({in}) AND \"column\" = '' ORDER BY at, id", metrics,
            {"p": product}):
        out.setdefault(metric, []).append((value, when(at), vid))
    return out


# -- what the product costs and who reads it ("what's my product?") ---------------------
def _at(reads: Reads, moment: Any) -> Any:
    """A time as the metastore stores it: SQLite keeps naive UTC text (SQLAlchemy's
    format), so a bound parameter must be that text to compare with it."""
    from steward.meta.reads import sqlite_file

    if sqlite_file(reads.url) is None:
        return moment
    from datetime import UTC

    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def queries(reads: Reads, product: str, since: Any) -> list[tuple[str, str, int, Any]]:
    """(via, actor, queries, last) of the product since ``since``, most first."""
    rows = reads.rows("SELECT via, actor, sum(count), max(at) FROM product_queries "
                      "WHERE product = :p AND at >= :since GROUP BY via, actor",
                      {"p": product, "since": _at(reads, since)})
    return sorted(((v, a, int(n), when(last)) for v, a, n, last in rows),
                  key=lambda r: (-r[2], r[0], r[1]))


def stored(reads: Reads, product: str) -> tuple[int, int]:
    """(versions retained, bytes they hold): every version row ``steward gc`` has not
    deleted, each folder counted once (an alias shares its version's files)."""
    rows = reads.rows("SELECT count(*), sum(bytes) FROM (SELECT DISTINCT path, bytes "
                      "FROM versions WHERE product = :p AND status != 'building') x",
                      {"p": product})
    n, size = rows[0] if rows else (0, 0)
    return int(n or 0), int(size or 0)


def builds(reads: Reads, product: str, since: Any) -> tuple[int, float]:
    """(builds, seconds they took) of the product since ``since`` (steps that built)."""
    rows = reads.rows("SELECT count(*), sum(duration_s) FROM run_steps WHERE product = :p "
                      "AND status IN ('built', 'failed') AND started_at >= :since",
                      {"p": product, "since": _at(reads, since)})
    n, secs = rows[0] if rows else (0, 0.0)
    return int(n or 0), float(secs or 0.0)


def metric_points(reads: Reads, product: str, metric: str, since: Any
                  ) -> list[tuple[float | None, Any, str | None]]:
    """(value, at, version id) of a table-level metric since ``since``, oldest first."""
    return [(v, when(at), vid) for v, at, vid in reads.rows(
        "SELECT value, at, version_id FROM metrics WHERE product = :p AND metric = :m "
        "AND \"column\" = '' AND at >= :since ORDER BY at, id",
        {"p": product, "m": metric, "since": _at(reads, since)})]


def freshness_samples(reads: Reads, product: str, env: str, since: Any
                      ) -> list[dict[str, Any]]:
    """The product's freshness samples in ``env`` since ``since`` and the one before
    (``meta.ops.samples`` for one product), oldest first."""
    args = {"p": product, "e": env, "since": _at(reads, since)}
    before = reads.rows("SELECT at, status FROM freshness_samples WHERE product = :p AND "
                        "env = :e AND at < :since ORDER BY at DESC, id DESC LIMIT 1", args)
    rows = reads.rows("SELECT at, status FROM freshness_samples WHERE product = :p AND "
                      "env = :e AND at >= :since ORDER BY at, id", args)
    return [{"at": when(at), "status": s} for at, s in [*before, *rows]]
