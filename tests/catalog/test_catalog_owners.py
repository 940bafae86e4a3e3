"""Ownership: products per owner, orphans, strict compliance, recent failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.catalog.owners import check_owners, owners_report
from steward.context import Context
from steward.core.errors import ConfigError
from steward.project.loader import load_project
from tests.catalog.conftest import put


def test_report_groups_products_by_owner_with_the_project_default(people: Path) -> None:
    report = owners_report(load_project(str(people), hash_sources=False))
    assert report.owned == {
        "bi@example.com": ["marts.stats"],
        # marts.mailing and ml.features have no owner of their own: the default applies
        "data@example.com": ["marts.mailing", "ml.features", "staging.people"],
        "shop@example.com": ["raw.people"],
    }
    assert report.unowned == []


def test_missing_owner_warns_and_is_an_error_under_strict(people: Path) -> None:
    put(people, "steward.yaml", "name: people\n")
    project = load_project(str(people), hash_sources=False)
    assert owners_report(project).unowned == ["marts.mailing", "ml.features"]
    (warning,) = check_owners(project)
    assert "2 products have no owner: marts.mailing, ml.features" in warning
    put(people, "steward.yaml", "name: people\ncompliance: strict\n")
    with pytest.raises(ConfigError) as e:
        Context(people).run()
    files = [(p.file, p.message) for p in e.value.problems]
    assert ("models/marts/mailing.sql", "marts.mailing has no owner (compliance: strict)"
            ) in files
    assert len(files) == 2
    assert not (people / ".steward" / "meta.db").exists() or not Context(people).runs()


def test_failures_in_recent_runs_per_owner(people: Path) -> None:
    put(people, "models/marts/broken.sql", "select cast(country as integer) as n "
        "from staging.people\n")
    put(people, "models/marts/broken.yml", "owner: bi@example.com\n")
    ctx = Context(people)
    result = ctx.run()
    assert not result.ok
    report = owners_report(ctx.project, ctx.metastore, last_runs=5)
    (fail,) = report.failures["bi@example.com"]
    assert fail["product"] == "marts.broken" and fail["run"] == result.run_id
    assert "data@example.com" not in report.failures
    # once fixed, the failure ages out of the window of the last run
    put(people, "models/marts/broken.sql", "select country as n from staging.people\n")
    ctx = Context(people)
    assert ctx.run().ok
    assert owners_report(ctx.project, ctx.metastore, last_runs=1).failures == {}
    assert len(owners_report(ctx.project, ctx.metastore, last_runs=2).failures) == 1
