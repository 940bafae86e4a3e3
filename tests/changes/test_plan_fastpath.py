"""``steward plan`` in the executable: the same answers as the full command line, lighter.

After an edit, the plan runs without Typer, and the load memo gives it every spec as plain
facts, so pydantic, Rich and SQLAlchemy are never imported either. Anything it does not
handle (an unknown option, an error) goes to the full command line.
"""

from __future__ import annotations

import json
from pathlib import Path

from chelpers import edit, staging_sql

from tests.conftest import ON_POSTGRES, steward_process

# a PostgreSQL metastore is read through SQLAlchemy: the only heavy library plan needs then
DRIVER = ["sqlalchemy"] if ON_POSTGRES else []


def steward(root: Path, *args: str, full: bool = False) -> tuple[list[str], int, str, str]:
    """(heavy modules imported, exit code, stdout, stderr); ``full``: no fast path."""
    return steward_process(root, *args, env={"STEWARD_NO_FASTPATH": "1" if full else None})


def test_plan_after_an_edit_needs_none_of_the_heavy_libraries(built: Path) -> None:
    # a load in a new process first: it leaves the load memo, as any command does
    steward(built, "plan", "--json")
    staging_sql(built, extra=", amount * 2 as doubled")
    imported, code, fast, _ = steward(built, "plan", "--json")
    assert (imported, code) == (DRIVER, 0)
    doc = json.loads(fast)
    change = doc["changes"][0]
    assert (change["product"], change["category"]) == ("staging.orders", "non-breaking")
    assert change["columns"]["added"] == ["doubled"]
    assert change["owner"] == "data-team@example.com"  # read from the spec's plain facts

    imported, code, full, _ = steward(built, "plan", "--json", full=True)
    assert code == 0 and "typer" in imported
    assert json.loads(full) == doc


def test_plan_text_selection_and_options_match_the_full_command_line(built: Path) -> None:
    staging_sql(built, where="amount > 10")
    outputs = {}
    for args in (["plan"], ["plan", "marts.daily_revenue", "--json"],
                 ["plan", "--env", "dev", "--json"], ["plan", "--env=dev", "--from", "prod"],
                 ["plan", "--exclude", "marts.daily_revenue", "-x", "raw.orders", "--json"]):
        imported, code, fast, _ = steward(built, *args)
        assert code == 0 and "typer" not in imported, args
        _, code, full, _ = steward(built, *args, full=True)
        assert code == 0 and fast == full, args
        outputs[" ".join(args)] = fast
    assert "breaking staging.orders (build)" in outputs["plan"]
    assert "changed filter (WHERE)" in outputs["plan"]
    assert "(new, from 'prod')" in outputs["plan --env=dev --from prod"]
    selected = json.loads(outputs["plan marts.daily_revenue --json"])["products"]
    assert [p["product"] for p in selected] == ["marts.daily_revenue"]
    excluded = json.loads(outputs["plan --exclude marts.daily_revenue -x raw.orders --json"])
    assert [p["product"] for p in excluded["products"]] == ["staging.orders"]


def test_errors_and_unknown_options_go_to_the_full_command_line(built: Path) -> None:
    edit(built, "models/staging/orders.sql", "select order_id, from raw.orders\nwhere (\n")
    imported, code, out, err = steward(built, "plan", "--json")
    _, full_code, _, full_err = steward(built, "plan", "--json", full=True)
    assert code == full_code != 0 and "typer" in imported  # reported by the full path
    assert err == full_err and "models/staging/orders.sql" in err
    assert out == ""

    staging_sql(built)
    imported, code, _, err = steward(built, "plan", "--no-such-option")
    assert code == 2 and "typer" in imported and "No such option" in err
    imported, code, out, _ = steward(built, "plan", "--help")
    assert code == 0 and "--from" in out


def test_a_glossary_is_checked_from_the_memo_without_pydantic(built: Path) -> None:
    from tests.conftest import write

    write(built, "glossary.yaml", """\
        terms:
          revenue:
            definition: Sum of order totals in EUR.
            synonyms: [turnover]
            related: [orders]
          orders:
            definition: Orders placed.
            related: [revenue]
        """)
    sidecar = built / "models" / "marts" / "daily_revenue.yml"
    sidecar.write_text(sidecar.read_text().replace(
        "revenue: {description: Sum of order totals in EUR}",
        "revenue: {description: Sum of order totals in EUR, glossary: revenue}"))
    first = steward(built, "plan", "--json")  # validates the glossary once, into the memo
    assert first[1] == 0, first[3]
    staging_sql(built, extra=", amount * 2 as doubled")
    imported, code, out, _ = steward(built, "plan", "--json")
    assert (imported, code) == (DRIVER, 0) and json.loads(out)["changes"]

    # a link to a term the glossary lacks is still found, with the glossary from the memo
    sidecar.write_text(sidecar.read_text().replace("glossary: revenue", "glossary: turnover"))
    imported, code, _, err = steward(built, "plan", "--json")
    assert code != 0 and "daily_revenue.yml" in err
    assert "'turnover' is a synonym of 'revenue'; link the term itself" in err
