"""Incremental products and snapshots: new versions grown from the previous one."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.context import Context
from steward.core.errors import ConfigError

HEADER = "id,day,amount,updated_at\n"


def project(tmp_path: Path, rows: list[str], inc: str, snap: str = "") -> Path:
    (tmp_path / "data").mkdir(exist_ok=True)
    (tmp_path / "models" / "marts").mkdir(parents=True, exist_ok=True)
    (tmp_path / "sources").mkdir(exist_ok=True)
    (tmp_path / "steward.yaml").write_text("name: inc\n")
    (tmp_path / "sources" / "raw.yml").write_text(
        "sources:\n  raw.events:\n    path: data/events.csv\n"
        "    columns: {id: {type: INTEGER}, day: {type: DATE}, amount: {type: INTEGER},"
        " updated_at: {type: TIMESTAMP}}\n")
    write(tmp_path, rows)
    (tmp_path / "models" / "marts" / "events.sql").write_text(
        "select id, day, amount from raw.events\n")
    (tmp_path / "models" / "marts" / "events.yml").write_text(inc)
    if snap:
        (tmp_path / "models" / "marts" / "history.sql").write_text(
            "select id, amount, updated_at from raw.events\n")
        (tmp_path / "models" / "marts" / "history.yml").write_text(snap)
    return tmp_path


def write(root: Path, rows: list[str]) -> None:
    (root / "data" / "events.csv").write_text(HEADER + "".join(r + "\n" for r in rows))


def table(ctx: Context, name: str, order: str = "id") -> list[tuple]:
    return [tuple(r.values()) for r in ctx.sql(f"SELECT * FROM {name} ORDER BY {order}")
            .to_pylist()]


MERGE = ("materialize: incremental\nincremental:\n  unique_key: id\n"
         "  where: \"day >= (select max(day) from {{ this }})\"\n")


def test_merge_replaces_rows_of_the_same_key_and_keeps_the_rest(tmp_path: Path) -> None:
    root = project(tmp_path, ["1,2026-01-01,10,2026-01-01", "2,2026-01-02,20,2026-01-02"], MERGE)
    ctx = Context(root)
    assert ctx.run().ok
    first = ctx.current("prod")["marts.events"]
    # the old row 1 disappears from the source: an incremental product keeps it
    write(root, ["2,2026-01-02,21,2026-01-02", "3,2026-01-03,30,2026-01-03"])
    assert Context(root).run().ok
    ctx = Context(root)
    rows = [(i, a) for i, _, a in table(ctx, "marts.events")]
    assert rows == [(1, 10), (2, 21), (3, 30)]
    second = ctx.current("prod")["marts.events"]
    assert second.id != first.id
    # the previous version is untouched: immutable
    assert ctx.store.data_files(first.path) and first.row_count == 2

    # --full-refresh starts again from the query alone
    assert Context(root).run(full_refresh=True).ok
    rows = [(i, a) for i, _, a in table(Context(root), "marts.events")]
    assert rows == [(2, 21), (3, 30)]


def test_append_adds_the_new_rows(tmp_path: Path) -> None:
    inc = ("materialize: incremental\nincremental:\n"
           "  where: \"day > (select max(day) from {{ this }})\"\n")
    root = project(tmp_path, ["1,2026-01-01,10,2026-01-01"], inc)
    assert Context(root).run().ok
    write(root, ["1,2026-01-01,10,2026-01-01", "2,2026-01-02,20,2026-01-02"])
    assert Context(root).run().ok
    assert [r[0] for r in table(Context(root), "marts.events")] == [1, 2]


def test_a_unique_key_repeated_in_the_new_rows_fails_and_the_previous_version_stays(
        tmp_path: Path) -> None:
    root = project(tmp_path, ["1,2026-01-01,10,2026-01-01"], MERGE)
    ctx = Context(root)
    assert ctx.run().ok
    before = ctx.current("prod")["marts.events"].id
    write(root, ["1,2026-01-01,10,2026-01-01", "2,2026-01-02,20,2026-01-02",
                 "2,2026-01-02,22,2026-01-02"])
    result = Context(root).run()
    assert not result.ok
    failed = next(s for s in result.steps if s.product == "marts.events")
    assert failed.status == "failed"
    assert "unique_key (id) is not unique in the new rows" in (failed.error or "")
    assert "models/marts/events.sql" in (failed.error or "")
    assert Context(root).current("prod")["marts.events"].id == before


SNAP = "materialize: snapshot\nsnapshot: {unique_key: id, updated_at: updated_at}\n"


def test_snapshot_keeps_history_with_valid_from_and_valid_to(tmp_path: Path) -> None:
    root = project(tmp_path, ["1,2026-01-01,10,2026-01-01 00:00:00",
                              "2,2026-01-02,20,2026-01-02 00:00:00"], MERGE, SNAP)
    assert Context(root).run().ok
    write(root, ["1,2026-01-01,11,2026-01-05 00:00:00", "2,2026-01-02,20,2026-01-02 00:00:00",
                 "3,2026-01-03,30,2026-01-03 00:00:00"])
    assert Context(root).run().ok
    ctx = Context(root)
    rows = ctx.sql("SELECT id, amount, CAST(valid_from AS VARCHAR) AS f, "
                   "CAST(valid_to AS VARCHAR) AS t FROM marts.history ORDER BY id, f").to_pylist()
    assert [tuple(r.values()) for r in rows] == [
        (1, 10, "2026-01-01 00:00:00", "2026-01-05 00:00:00"),
        (1, 11, "2026-01-05 00:00:00", None),
        (2, 20, "2026-01-02 00:00:00", None),
        (3, 30, "2026-01-03 00:00:00", None),
    ]
    # the data did not change: a rebuild (its query edited) adds no record
    (root / "models" / "marts" / "history.sql").write_text(
        "select distinct id, amount, updated_at from raw.events\n")
    result = Context(root).run()
    assert result.ok and "marts.history" in [s.product for s in result.steps
                                             if s.status == "built"]
    assert Context(root).sql("SELECT count(*) AS n FROM marts.history").to_pylist() == [{"n": 4}]


def test_check_strategy_opens_a_record_when_a_checked_column_changes(tmp_path: Path) -> None:
    snap = ("materialize: snapshot\n"
            "snapshot: {unique_key: id, strategy: check, check_cols: [amount]}\n")
    root = project(tmp_path, ["1,2026-01-01,10,2026-01-01", "2,2026-01-02,20,2026-01-02"],
                   MERGE, snap)
    assert Context(root).run().ok
    write(root, ["1,2026-01-01,10,2026-02-01", "2,2026-01-02,25,2026-01-02"])
    assert Context(root).run().ok
    rows = Context(root).sql("SELECT id, amount, valid_to IS NULL AS open FROM marts.history "
                             "ORDER BY id, valid_from").to_pylist()
    assert [tuple(r.values()) for r in rows] == [(1, 10, True), (2, 20, False), (2, 25, True)]


def test_a_snapshot_key_that_changes_type_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, ["1,2026-01-01,10,2026-01-01"], MERGE, SNAP)
    ctx = Context(root)
    assert ctx.run().ok
    before = ctx.current("prod")["marts.history"].id
    (root / "models" / "marts" / "history.sql").write_text(
        "select cast(id as varchar) as id, amount, updated_at from raw.events\n")
    result = Context(root).run()
    failed = next(s for s in result.steps if s.product == "marts.history")
    assert failed.status == "failed"
    assert "unique_key column 'id' was INTEGER in the previous version and is VARCHAR now" \
        in (failed.error or "")
    assert Context(root).current("prod")["marts.history"].id == before


def test_a_snapshot_without_updated_at_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    root = project(tmp_path, ["1,2026-01-01,10,2026-01-01"], MERGE,
                   "materialize: snapshot\nsnapshot: {unique_key: id}\n")
    with pytest.raises(ConfigError) as e:
        Context(root).run()
    assert "history.yml:2" in str(e.value) and "updated_at" in str(e.value)


def test_a_grown_version_links_the_previous_files_and_stays_verifiable(tmp_path: Path) -> None:
    import os

    root = project(tmp_path, ["1,2026-01-01,10,2026-01-01", "2,2026-01-02,20,2026-01-02"],
                   MERGE)
    ctx = Context(root)
    assert ctx.run().ok
    v1 = ctx.current("prod")["marts.events"]
    old = ctx.store.data_files(v1.path)
    write(root, ["1,2026-01-01,10,2026-01-01", "2,2026-01-02,20,2026-01-02",
                 "3,2026-01-03,30,2026-01-03"])
    ctx = Context(root)
    assert ctx.run().ok
    v2 = ctx.current("prod")["marts.events"]
    new = ctx.store.data_files(v2.path)
    # the rows of day 2 come again (where day >= max) and replace themselves: the file
    # that holds them is rewritten; nothing else of the previous version is written
    assert len(new) == 2 and v2.row_count == 3
    inodes = {os.stat(f).st_ino for f in old}
    assert not inodes & {os.stat(f).st_ino for f in new}

    # a day that replaces nothing: the previous files are linked, not copied
    write(root, ["1,2026-01-01,10,2026-01-01", "2,2026-01-02,20,2026-01-02",
                 "3,2026-01-03,30,2026-01-03", "4,2026-01-04,40,2026-01-04"])
    (root / "models" / "marts" / "events.yml").write_text(
        MERGE.replace(">=", ">"))
    ctx = Context(root)
    assert ctx.run().ok
    v3 = ctx.current("prod")["marts.events"]
    linked = {os.stat(f).st_ino for f in ctx.store.data_files(v3.path)}
    assert {os.stat(f).st_ino for f in new} <= linked
    assert [r[0] for r in table(ctx, "marts.events")] == [1, 2, 3, 4]
    report = ctx.verify(deep=True)
    assert report.ok, report.to_json()


def test_a_snapshot_is_never_reused_from_an_earlier_version(tmp_path: Path) -> None:
    """Inputs that come back to an earlier state still add to the history: a snapshot's
    version depends on the version it grew from, so no older version is reused."""
    rows_a = ["1,2026-01-01,10,2026-01-01 00:00:00"]
    rows_b = ["1,2026-01-01,11,2026-01-02 00:00:00"]
    root = project(tmp_path, rows_a, MERGE, SNAP)
    assert Context(root).run().ok
    write(root, rows_b)
    assert Context(root).run().ok
    write(root, rows_a)  # back to the first state (same source hash as the first run)
    result = Context(root).run()
    assert result.ok
    step = next(s for s in result.steps if s.product == "marts.history")
    assert step.status == "built"
    # the first state came back with an older updated_at: no new record, history kept
    assert Context(root).sql("SELECT count(*) AS n FROM marts.history").to_pylist() == [
        {"n": 2}]


def test_row_checks_can_look_at_the_new_rows_only(tmp_path: Path) -> None:
    after = MERGE.replace(">=", ">")  # the new rows: later days only
    root = project(tmp_path, ["1,2026-01-01,10,2026-01-01"], after)
    assert Context(root).run().ok
    # a stricter rule from now on: old rows (amount 10) would fail it, new ones pass
    (root / "models" / "marts" / "events.yml").write_text(
        after + "  check_rows: new\n"
        "columns:\n  amount: {checks: [{range: {min: 15}}]}\n"
        "checks:\n  - row_count: {min: 1}\n")
    write(root, ["1,2026-01-01,10,2026-01-01", "2,2026-01-02,20,2026-01-02"])
    ctx = Context(root)
    result = ctx.run()
    assert result.ok, result
    version = ctx.current("prod")["marts.events"]
    results = {r.name: r for r in ctx.check_results("marts.events").results}
    assert results["range_amount"].status == "pass" and results["range_amount"].total == 1
    assert "(new rows)" in results["range_amount"].message
    assert results["row_count"].total == 2  # a table check sees the whole version
    assert version.row_count == 2

    # the same rule on every row refuses the version; the previous one stays current
    (root / "models" / "marts" / "events.yml").write_text(
        after + "columns:\n  amount: {checks: [{range: {min: 15}}]}\n")
    write(root, ["1,2026-01-01,10,2026-01-01", "2,2026-01-02,20,2026-01-02",
                 "3,2026-01-03,30,2026-01-03"])
    result = Context(root).run()
    assert not result.ok
    assert Context(root).current("prod")["marts.events"].id == version.id
