"""Many rows of one shape inserted with their parameters prepared by column.

``conn.execute(table.insert(), rows)`` prepares each row's parameters in Python, one row
at a time (``construct_params`` and each column's bind processor): for the 23,000 metric
points of a 1,000-product run that was two thirds of the time the inserts took, the
database's own work the other third. :func:`insert_many` compiles the statement once,
applies each column's bind processor once per distinct object (a run's points share
one timestamp), and hands the driver the rows as its parameter style wants them, in the
same transaction as before. :func:`prepare` does all of it but the insert, so that a
caller can do it before its transaction begins.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa


def insert_many(conn: sa.Connection, table: sa.Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, column names of ``table``; a row
    without one of the first row's keys raises ``KeyError``)."""
    prepare(conn.dialect, table, rows).run(conn)


@dataclass(frozen=True)
class Prepared:
    """An insert ready for the driver: its SQL and each row's parameters (prepared
    outside a transaction, so that the transaction holds the database's write lock only
    while the database works), or the rows for SQLAlchemy's general insert."""

    table: sa.Table
    sql: str | None
    params: list[Any]

    def run(self, conn: sa.Connection, keep: Sequence[bool] | None = None) -> None:
        """Insert the rows (those whose ``keep`` is true, when given)."""
        params = self.params if keep is None else \
            [p for p, k in zip(self.params, keep, strict=True) if k]
        if not params:
            return
        if self.sql is None:
            conn.execute(self.table.insert(), params)
        else:
            conn.exec_driver_sql(self.sql, params)


def prepare(dialect: Any, table: sa.Table, rows: Sequence[dict[str, Any]]) -> Prepared:
    """:func:`insert_many`'s statement and parameters, for ``dialect`` (no connection)."""
    if not rows:
        return Prepared(table, None, [])
    plan = _plan(dialect, table, tuple(rows[0]))
    if plan is None:  # a default or an expression SQLAlchemy adds
        return Prepared(table, None, list(rows))
    sql, names, columns, procs, positional = plan
    prepared: list[list[Any]] = []
    for key, proc in zip(columns, procs, strict=True):
        values = [r[key] for r in rows]
        if proc is not None:
            values = _processed(values, proc)
        prepared.append(values)
    if positional:
        params: list[Any] = list(zip(*prepared, strict=True))
    else:
        params = [dict(zip(names, vals, strict=True)) for vals in zip(*prepared, strict=True)]
    return Prepared(table, sql, params)


@functools.lru_cache(maxsize=64)
def _plan(dialect: Any, table: sa.Table, keys: tuple[str, ...]) -> tuple[Any, ...] | None:
    """The compiled insert of ``keys`` into ``table`` (compiled once: a run inserts a row
    of versions per step): its SQL, parameter names, column keys in their order, each
    column's bind processor and whether parameters are positional; None when SQLAlchemy
    would add a column itself."""
    compiled = table.insert().compile(dialect=dialect, column_keys=list(keys))
    positional = bool(compiled.positional)
    names = list(compiled.positiontup or ()) if positional else list(compiled.binds)
    columns = [compiled.binds[n].key for n in names]
    if sorted(columns) != sorted(keys):
        return None
    procs = [table.c[k].type.dialect_impl(dialect).bind_processor(dialect) for k in columns]
    return compiled.string, names, columns, procs, positional


def _processed(values: list[Any], proc: Any) -> list[Any]:
    """``proc`` applied to each value, once per distinct object (by identity: values
    equal but not the same, ``1`` and ``True`` or one instant in two time zones, may
    bind differently)."""
    done: dict[int, Any] = {}
    out = []
    for v in values:
        key = id(v)  # (the values list keeps each object alive: ids are not reused)
        got = done.get(key, done)
        if got is done:
            got = done[key] = proc(v)
        out.append(got)
    return out
