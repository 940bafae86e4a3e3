"""Reloading after an edit reuses every model file that did not change, and only those."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from steward.core.errors import ConfigError
from steward.project.loader import _Loader, load_project
from tests.conftest import write


def _bump(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000))


def test_an_edit_reloads_that_file_only(starter: Path) -> None:
    first = _Loader(str(starter), True)
    p1 = first.load()
    files = [k for k in first.memo_out if k[0] not in ("spec", "yaml")]
    assert len(files) == 2  # the two SQL models
    sql = starter / "models" / "marts" / "daily_revenue.sql"
    sql.write_text(sql.read_text().replace("select", "select 1 AS one,", 1))
    second = _Loader(str(starter), True, first.memo_out)
    p2 = second.load()
    reused = [k for k, v in second.memo_out.items()
              if k[0] not in ("spec", "yaml") and first.memo_out.get(k) is v]
    assert len(reused) == 1  # staging.orders came from the memo
    assert "1 AS one" in p2.products["marts.daily_revenue"].code
    assert "one" in p2.products["marts.daily_revenue"].outputs
    assert p2.products["staging.orders"].code == p1.products["staging.orders"].code
    assert p2.products["marts.daily_revenue"].inputs == p1.products["marts.daily_revenue"].inputs
    # its sidecar did not change: the spec validated last time is reused as it is
    assert p2.products["marts.daily_revenue"].spec is p1.products["marts.daily_revenue"].spec


def test_a_sidecar_edit_reloads_its_model(starter: Path) -> None:
    first = _Loader(str(starter), True)
    first.load()
    yml = starter / "models" / "staging" / "orders.yml"
    yml.write_text(yml.read_text().replace("owner: data-team@example.com",
                                           "owner: someone@example.com"))
    second = _Loader(str(starter), True, first.memo_out)
    p2 = second.load()
    assert p2.products["staging.orders"].owner == "someone@example.com"


def test_memoised_models_are_still_validated_together(starter: Path) -> None:
    load_project(str(starter))  # writes the memo next to the project cache
    # the mart reads staging.orders; removing that model must still be reported in the
    # mart, whose own files did not change and come from the memo
    (starter / "models" / "staging" / "orders.sql").unlink()
    (starter / "models" / "staging" / "orders.yml").unlink()
    with pytest.raises(ConfigError) as e:
        load_project(str(starter))
    assert "daily_revenue.sql" in e.value.render() and "staging.orders" in e.value.render()


def test_a_touch_without_change_keeps_the_project_equal(starter: Path) -> None:
    p1 = load_project(str(starter))
    _bump(starter / "models" / "marts" / "daily_revenue.sql")
    write(starter, "models/marts/extra.sql", "SELECT 1 AS x\n")
    p2 = load_project(str(starter))
    assert set(p2.products) == set(p1.products) | {"marts.extra"}
    for name, p in p1.products.items():
        assert p2.products[name].local_digest == p.local_digest


def test_cached_specs_stay_unread_until_used(starter: Path) -> None:
    fresh = load_project(str(starter))
    _bump(starter / "models" / "marts" / "daily_revenue.sql")
    again = load_project(str(starter))  # the memo's specs: plain facts and pickled models
    for name, p in again.products.items():
        assert "spec" not in p.__dict__, name
        assert (p.owner, p.tags, p.spec_json) == (fresh.products[name].owner,
                                                  fresh.products[name].tags,
                                                  fresh.products[name].spec_json)
    mart = again.products["marts.daily_revenue"]
    assert mart.check_uses == fresh.products["marts.daily_revenue"].check_uses
    assert mart.spec == fresh.products["marts.daily_revenue"].spec  # unpickled on first use
    assert "spec" in mart.__dict__ and mart.spec.primary_key == ("order_date",)
    assert again.name == "starter" and "spec" not in again.__dict__

    staging = again.products["staging.orders"]
    moved = staging.evolve(line=7)
    assert "spec" not in moved.__dict__ and moved.line == 7
    assert moved.local_digest == staging.local_digest and "local_digest" in moved.__dict__
    recoded = staging.evolve(normalized_code="select 1")
    assert "local_digest" not in recoded.__dict__  # its code changed: computed again
    assert recoded.local_digest != staging.local_digest
    with pytest.raises(TypeError):
        staging.evolve(spec=mart.spec)


def test_checks_of_memoised_models_are_checked_against_the_project(starter: Path) -> None:
    write(starter, "models/marts/daily_revenue.yml", """\
        owner: finance@example.com
        columns:
          order_date:
            checks:
              - relationships: {to: staging.orders, field: order_date}
          revenue:
            checks: [not_null]
        """)
    load_project(str(starter))
    # the mart's files do not change; the product its check refers to goes away
    (starter / "models" / "staging" / "orders.sql").unlink()
    (starter / "models" / "staging" / "orders.yml").unlink()
    write(starter, "models/staging/other.sql", "select 1 as order_id\n")
    with pytest.raises(ConfigError) as e:
        load_project(str(starter))
    assert "refers to unknown product 'staging.orders'" in e.value.render()
    assert "daily_revenue.yml:5" in e.value.render()  # the line of the check


def test_a_spec_stays_in_the_memo_while_its_files_do_not_change(starter: Path) -> None:
    load_project(str(starter))
    # the mart's sidecar changes: staging.orders comes from the memo by its files' stat
    yml = starter / "models" / "marts" / "daily_revenue.yml"
    yml.write_text(yml.read_text().replace("tags: [finance]", "tags: [finance, daily]"))
    load_project(str(starter))
    # now staging.orders' SQL alone changes: its spec, validated two loads ago, is reused
    sql = starter / "models" / "staging" / "orders.sql"
    sql.write_text(sql.read_text().replace("select", "select 1 as one,", 1))
    third = load_project(str(starter))
    staging = third.products["staging.orders"]
    assert "one" in staging.outputs
    assert "spec" not in staging.__dict__  # from the memo's facts, not validated again
    assert staging.owner == "data-team@example.com"
