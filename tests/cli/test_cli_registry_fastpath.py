"""``steward models`` and ``steward log`` in the executable: the same answers as the full
command line, without Typer, Click or SQLAlchemy (on a SQLite metastore)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from steward.context import Context
from tests.conftest import ON_POSTGRES, steward_process, use_test_metastore
from tests.ml.conftest import make_project

# a PostgreSQL metastore is read through SQLAlchemy
DRIVER = {"sqlalchemy"} if ON_POSTGRES else set()


def steward(root: Path, *args: str, full: bool = False) -> tuple[list[str], int, str, str]:
    return steward_process(root, *args, env={"STEWARD_NO_FASTPATH": "1" if full else None})


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = make_project(tmp_path_factory.mktemp("registry") / "trips")
    use_test_metastore(root)
    ctx = Context(root)
    assert ctx.run().ok
    assert ctx.run(env="dev", full_refresh=True).ok  # a second model version
    return root


@pytest.mark.parametrize("args", [
    ["models"], ["models", "--json"], ["log", "ml.late_model"],
    ["log", "ml.late_model", "--json", "--limit", "1"], ["log", "--limit=3"],
    ["log", "staging.trips", "--json"], ["log", "late_model", "-p", "."],
])
def test_same_output_as_the_full_command_line_without_typer(trained: Path, args: list[str]):
    imported, code, fast, err = steward(trained, *args)
    assert code == 0, err
    assert not {"typer", "click"} & set(imported), imported
    if args[0] == "models" or "late_model" in " ".join(args):  # the registry's reads
        assert set(imported) & {"sqlalchemy"} == DRIVER
    imported, code, full, _ = steward(trained, *args, full=True)
    assert code == 0 and "typer" in imported
    assert fast == full


def test_what_the_registry_reads_say(trained: Path):
    _, _, out, _ = steward(trained, "models", "--json")
    (row,) = json.loads(out)
    assert row["product"] == "ml.late_model" and sorted(row["envs"]) == ["dev", "prod"]
    assert set(row["current"]["prod"]) >= {"accuracy", "roc_auc"}
    _, _, out, _ = steward(trained, "log", "ml.late_model", "--json")
    versions = json.loads(out)
    assert len(versions) == 2 and [v["environments"] for v in versions] == [["dev"], ["prod"]]
    assert versions[0]["params"] == {"max_depth": 3}  # as declared
    assert list(versions[0]["inputs"]) == ["staging.trips"]


@pytest.mark.parametrize("args", [["log", "nope"], ["log", "a", "b"], ["models", "x"],
                                  ["log", "--limit", "many"], ["models", "--bogus"]])
def test_errors_are_the_full_command_lines(trained: Path, args: list[str]):
    _, code, out, err = steward(trained, *args)
    _, full_code, full_out, full_err = steward(trained, *args, full=True)
    assert code != 0 and (code, out, err) == (full_code, full_out, full_err)


def test_outside_a_project_the_error_is_the_full_command_lines(tmp_path: Path):
    _, code, _, err = steward(tmp_path, "models")
    assert code == 2 and "steward.yaml" in err
