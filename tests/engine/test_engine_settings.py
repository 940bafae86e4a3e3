"""``engine:`` settings of steward.yaml that DuckDB refuses: one message at their line."""

from __future__ import annotations

from pathlib import Path

from steward.context import Context
from tests.conftest import published_state, steward, write


def test_bad_memory_limit_and_unknown_setting_are_reported_at_their_lines(starter: Path):
    assert Context(starter).run().ok
    before = published_state(starter)
    write(starter, "steward.yaml", """\
        name: starter
        engine:
          memory_limit: lots
          threads: 2
          settings:
            threadz: 4
            default_order: sideways
        """)
    write(starter, "models/marts/daily_revenue.sql",  # something to build
          "select order_date, count(*) as orders, sum(amount) as revenue\n"
          "from staging.orders group by order_date\n")
    code, out, err = steward(starter, "run")
    assert code == 2, out + err
    assert "Traceback" not in err
    assert "3 problems in the project" in err
    assert "steward.yaml:3: engine.memory_limit 'lots' is not valid for DuckDB" in err
    assert "a size such as '4GB', '512MiB' or '80%'" in err
    assert "steward.yaml:6: engine.settings: DuckDB has no setting 'threadz'" in err
    assert "did you mean 'threads'?" in err
    assert "steward.yaml:7: engine.settings.default_order 'sideways' is not valid" in err
    assert "Expected ASC or DESC" in err
    assert published_state(starter) == before
    # refused before the run started: no run is left behind as running
    assert [r.status for r in Context(starter).metastore.runs()] == ["success"]


def test_good_engine_settings_build(starter: Path):
    write(starter, "steward.yaml", """\
        name: starter
        engine: {memory_limit: 1GB, threads: 2, settings: {preserve_insertion_order: false}}
        """)
    assert Context(starter).run().ok
