"""dbt's state:modified: products whose own code or config differ from an environment's."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.context import Context
from steward.core.errors import SelectionError
from steward.run.planner import selected

ALL = {"raw.orders", "staging.orders", "marts.daily_revenue"}


def sel(root: Path, *selectors: str, env: str = "prod") -> set[str]:
    ctx = Context(root)
    return selected(ctx.project, list(selectors), [], ctx.selection_states(env))


def test_state_modified_follows_code_and_config_edits(starter: Path) -> None:
    assert sel(starter, "state:modified") == ALL  # nothing built yet: all new
    assert sel(starter, "state:new") == ALL
    assert Context(starter).run().ok
    assert sel(starter, "state:modified") == set()
    assert sel(starter, "state:modified+") == set()

    sql = starter / "models" / "staging" / "orders.sql"
    sql.write_text(sql.read_text().replace("amount > 0", "amount > 1"))
    assert sel(starter, "state:modified") == {"staging.orders"}
    assert sel(starter, "state:modified.body") == {"staging.orders"}
    assert sel(starter, "state:modified.configs") == set()
    assert sel(starter, "state:modified+") == {"staging.orders", "marts.daily_revenue"}
    assert sel(starter, "state:modified", "tag:finance") == \
        {"staging.orders", "marts.daily_revenue"}
    assert sel(starter, "state:modified,tag:finance") == set()

    side = starter / "models" / "marts" / "daily_revenue.yml"
    side.write_text(side.read_text().replace("Revenue and order", "Revenue and the order"))
    assert sel(starter, "state:modified.configs") == {"marts.daily_revenue"}
    assert sel(starter, "state:modified") == {"staging.orders", "marts.daily_revenue"}

    # steward plan takes the same selectors
    from steward.run.envops import plan

    cp = plan(Context(starter), None, ["state:modified.body"])
    assert {n for n, c in cp.products.items() if c.direct} == {"staging.orders"}

    # a run of state:modified+ builds what changed and what reads it; then nothing differs
    result = Context(starter).run(["state:modified+"])
    assert result.ok
    assert {s.product for s in result.steps} == {"staging.orders", "marts.daily_revenue"}
    assert sel(starter, "state:modified") == set()


def test_state_against_another_environment(starter: Path) -> None:
    assert Context(starter).run().ok
    sql = starter / "models" / "marts" / "daily_revenue.sql"
    sql.write_text(sql.read_text().replace("sum(amount) as", "sum(amount) * 1 as"))
    assert Context(starter).run(env="dev").ok
    assert sel(starter, "state:modified", env="dev") == set()
    assert sel(starter, "state:modified@prod", env="dev") == {"marts.daily_revenue"}
    assert sel(starter, "state:modified") == {"marts.daily_revenue"}


def test_an_unknown_state_is_one_clear_error(starter: Path) -> None:
    with pytest.raises(SelectionError, match="unknown state 'changed'"):
        sel(starter, "state:changed")
