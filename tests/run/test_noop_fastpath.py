"""The no-op fast path: same records and output as the full path, and never a wrong no-op."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from steward.context import Context
from steward.meta.store import Metastore
from steward.run.envops import rollback
from steward.run.lock import ProjectLock
from steward.run.noop import marker_path
from tests.conftest import steward_process, write


def steward_run(root: Path, *args: str, env: dict[str, str] | None = None
                ) -> tuple[bool, int, str, str]:
    """(took the fast path, exit code, stdout, stderr) of ``steward run ARGS`` in ``root``.

    Only the fast path answers without importing SQLAlchemy.
    """
    imported, code, out, err = steward_process(root, "run", *args,
                                               env={"STEWARD_EXPLAIN_NOOP": "1", **(env or {})})
    print(err)  # shown when a test fails: why the fast path was not taken
    return "sqlalchemy" not in imported, code, out, err


def events(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_noop_is_answered_without_loading_and_records_the_same_run(starter: Path) -> None:
    fast, code, _, _ = steward_run(starter, "--json")  # first run: builds, full path
    assert (fast, code) == (False, 0)
    assert os.path.exists(marker_path(str(starter)))

    slow, code, slow_out, _ = steward_run(starter, "--json",
                                          env={"STEWARD_NO_FASTPATH": "1"})
    assert (slow, code) == (False, 0)
    fast, code, fast_out, _ = steward_run(starter, "--json")
    assert (fast, code) == (True, 0)

    # the same events, apart from run ids and timings
    def shape(out: str) -> list[tuple]:
        return [(e["event"], e.get("product"), e.get("status"), e.get("version"),
                 json.dumps(e.get("counts"))) for e in events(out)]
    assert shape(fast_out) == shape(slow_out)
    finished = [e for e in events(fast_out) if e["event"] == "run_finished"]
    assert finished[-1]["counts"]["kept"] == 3
    assert events(fast_out)[-1]["event"] == "phases"  # last, as on the full path

    # and the same records in the metastore
    ctx = Context(starter)
    ms = ctx.metastore
    fast_run, slow_run = ms.runs(limit=2)
    assert (fast_run.status, fast_run.env, fast_run.actor, fast_run.selection) == \
        (slow_run.status, slow_run.env, slow_run.actor, slow_run.selection)
    assert fast_run.summary["counts"] == slow_run.summary["counts"]
    assert fast_run.started_at >= slow_run.started_at
    assert fast_run.finished_at >= fast_run.started_at

    def steps(run_id: str) -> list[tuple]:
        return sorted((s.product, s.status, s.version_id, s.rows, s.duration_s)
                      for s in ms.steps(run_id=run_id))
    assert steps(fast_run.id) == steps(slow_run.id)
    assert len(steps(fast_run.id)) == 3
    assert ms.run(fast_run.id).summary["status"] == "success"


def test_plain_output_and_verbose(starter: Path) -> None:
    steward_run(starter)
    fast, code, out, _ = steward_run(starter)
    assert (fast, code) == (True, 0)
    assert "into 'prod': 3 selected, 0 to build" in out
    assert "success: 3 kept in" in out
    fast, _, out, _ = steward_run(starter, "-v")
    assert fast and out.count("kept") >= 4  # one line per product, then the summary


@pytest.mark.parametrize("change", ["edit_model", "touch_model", "source_data", "new_model",
                                    "yaml"])
def test_any_change_takes_the_full_path(starter: Path, change: str) -> None:
    steward_run(starter)
    assert steward_run(starter)[0]
    model = next((starter / "models").rglob("*.sql"))
    if change == "edit_model":
        model.write_text(model.read_text() + "\n-- a comment changes no fingerprint\n")
    elif change == "touch_model":
        st = model.stat()
        os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 10_000_000))
    elif change == "source_data":
        data = next(p for p in (starter / "data").iterdir() if p.suffix == ".csv")
        data.write_text(data.read_text().rstrip("\n") + "\n99,Edsger,7.00,2026-01-05 08:00:00\n")
    elif change == "new_model":
        write(starter, "models/marts/extra.sql", "SELECT 1 AS one\n")
    elif change == "yaml":
        (starter / "steward.yaml").write_text((starter / "steward.yaml").read_text() + "\n")
    fast, code, out, err = steward_run(starter, "--json")
    assert not fast and code == 0, err
    built = [e["product"] for e in events(out) if e.get("status") == "built"]
    if change == "source_data":
        assert "raw.orders" in built
    elif change == "new_model":
        assert built == ["marts.extra"]
    else:
        assert built == []  # formatting and touches rebuild nothing, through the full path
    assert steward_run(starter)[0]  # and the next one is fast again


def test_moved_pointers_take_the_full_path(starter: Path) -> None:
    steward_run(starter)
    write(starter, "models/marts/extra.sql", "SELECT 1 AS one\n")
    steward_run(starter)
    write(starter, "models/marts/extra.sql", "SELECT 2 AS one\n")
    steward_run(starter)
    assert steward_run(starter)[0]
    ctx = Context(starter)
    first = ctx.log("marts.extra")[-1][0]
    rollback(ctx, "marts.extra", to=first.id, message="back")
    fast, code, out, _ = steward_run(starter, "--json")
    assert not fast and code == 0
    # the full path sees the rolled-back version differs from the code and rebuilds it
    assert [e["product"] for e in events(out) if e.get("status") in ("built", "reused")] \
        == ["marts.extra"]


def test_selection_options_and_other_envs(starter: Path) -> None:
    steward_run(starter)
    assert not steward_run(starter, "marts.daily_revenue")[0]  # a selection: full path
    assert not steward_run(starter, "--full-refresh")[0]
    assert steward_run(starter, "--workers", "many")[1] != 0  # the full parser says no
    fast, code, _, _ = steward_run(starter, "--env", "dev")  # new env: full path creates it
    assert (fast, code) == (False, 0)
    assert steward_run(starter, "--env=dev")[0]
    assert steward_run(starter, "-e", "dev", "--wait", "2", "--json")[0]


def test_a_held_lock_or_a_killed_run_takes_the_full_path(starter: Path) -> None:
    steward_run(starter)
    with ProjectLock(str(starter / ".steward"), "test holds it"):
        _, code, _, err = steward_run(starter)
    assert code != 0 and "another Steward process" in err
    assert "not taken: another process holds the project lock" in err

    # a run left 'running' by a killed process: the full path recovers and says so
    ms = Metastore("sqlite:///" + str(starter / ".steward" / "meta.db"))
    ms.start_run("r-killed", "prod", None, "tester")
    fast, code, _, err = steward_run(starter)
    assert not fast and code == 0 and "recovered from an interrupted run" in err
    assert ms.run("r-killed").status == "aborted"
    assert steward_run(starter)[0]


def test_disabled_and_no_marker(starter: Path) -> None:
    steward_run(starter)
    assert not steward_run(starter, env={"STEWARD_NO_FASTPATH": "1"})[0]
    os.remove(marker_path(str(starter)))
    assert not steward_run(starter)[0]
    assert steward_run(starter)[0]  # the full no-op remembered again


def test_glob_source_sees_a_new_file(tmp_path: Path) -> None:
    root = tmp_path / "p"
    write(root, "steward.yaml", "name: globs\n")
    write(root, "data/a.csv", "id\n1\n")
    write(root, "sources/raw.yml", """\
        sources:
          parts:
            owner: t@example.com
            path: data/*.csv
        """)
    assert steward_run(root)[1] == 0
    assert steward_run(root)[0]
    write(root, "data/b.csv", "id\n2\n")
    fast, code, out, _ = steward_run(root, "--json")
    assert not fast and code == 0
    assert [e["product"] for e in events(out) if e.get("status") == "built"] == ["parts"]
