"""Helpers for change-management tests: edit the starter project's files."""

from __future__ import annotations

from pathlib import Path

from steward.context import Context

STAGING = "models/staging/orders.sql"
BASE_SQL = ("select order_id, customer, amount, cast(ordered_at as date) as order_date\n"
            "from raw.orders\nwhere amount > 0\n")


def edit(root: Path, rel: str, text: str) -> None:
    (root / rel).write_text(text)


def staging_sql(root: Path, extra: str = "", where: str = "amount > 0",
                amount: str = "amount") -> None:
    edit(root, STAGING, f"select order_id, customer, {amount} as amount, "
                        f"cast(ordered_at as date) as order_date{extra}\n"
                        f"from raw.orders\nwhere {where}\n")


def fresh(root: Path) -> Context:
    """A new Context: the project is re-read from disk (as a new CLI call would)."""
    return Context(root)


