"""A new version of a library that trains a model trains a new model version: on the
full path (whose loaded-project cache must not keep the old versions) and on the no-op
fast path (which must notice it and step aside).

The "upgrade" is real metadata: a ``scikit_learn-9.9.9.dist-info`` folder ahead of the
environment's on ``sys.path``, which is how Python itself (``importlib.metadata``) and
Steward read which version is installed.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from steward.core.fingerprint import ml_library_versions
from tests.conftest import steward_process, use_test_metastore
from tests.ml.conftest import make_project


def installed(tmp_path: Path, version: str) -> dict[str, str | None]:
    """An environment in which scikit-learn's metadata says ``version``."""
    site = tmp_path / f"site-{version}"
    info = site / f"scikit_learn-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: scikit-learn\n"
                                   f"Version: {version}\n")
    return {"PYTHONPATH": os.pathsep.join(filter(None, [str(site),
                                                         os.environ.get("PYTHONPATH")])),
            "STEWARD_EXPLAIN_NOOP": "1"}


def run(root: Path, env: dict[str, str | None] | None = None
        ) -> tuple[dict[str, str], list[str], str]:
    """(product -> step status, heavy modules imported, stderr) of ``steward run``."""
    imported, code, out, err = steward_process(root, "run", "--json", env=env)
    assert code == 0, out + err
    steps = {e["product"]: e["status"] for e in map(json.loads, out.splitlines())
             if e.get("event") == "step_finished"}
    return steps, imported, err


def model_versions(root: Path) -> list[dict]:
    _, code, out, err = steward_process(root, "log", "ml.late_model", "--json")
    assert code == 0, err
    return json.loads(out)  # type: ignore[no-any-return]


def test_the_versions_read_are_the_installed_ones():
    from importlib.metadata import PackageNotFoundError, version

    for lib, got in ml_library_versions().items():
        dists = ["xgboost", "xgboost-cpu"] if lib == "xgboost" else [lib]
        want = None
        for dist in dists:
            try:
                want = version(dist)
                break
            except PackageNotFoundError:
                continue
        assert got == want, lib


def test_an_upgrade_retrains_on_the_fast_and_the_full_path(tmp_path: Path):
    root = make_project(tmp_path / "trips")
    use_test_metastore(root)
    first, _, _ = run(root)
    assert first["ml.late_model"] == "built"
    steps, imported, _ = run(root)  # nothing changed: the fast path keeps everything
    assert set(steps.values()) == {"kept"} and "typer" not in imported

    # scikit-learn "upgraded": the fast path steps aside, the model is trained again and
    # its scoring product rebuilt with it, its input is kept
    steps, _, err = run(root, installed(tmp_path, "9.9.9"))
    assert "machine-learning library's version changed" in err
    assert steps["ml.late_model"] == "built" and steps["ml.scored_trips"] == "built"
    assert steps["staging.trips"] == "kept"
    newest = model_versions(root)[0]
    assert newest["libraries"]["scikit-learn"] == "9.9.9"

    # the full path alone (no fast path) sees the next one: its loaded-project cache
    # does not keep library versions
    env = {**installed(tmp_path, "9.9.10"), "STEWARD_NO_FASTPATH": "1"}
    steps, _, _ = run(root, env)
    assert steps["ml.late_model"] == "built"
    assert model_versions(root)[0]["libraries"]["scikit-learn"] == "9.9.10"

    # back to the installed version: the version trained with it is used again, untrained
    steps, _, _ = run(root)
    assert steps["ml.late_model"] == "reused" and steps["ml.scored_trips"] == "reused"
    versions = model_versions(root)
    assert len(versions) == 3
    current = [v for v in versions if "prod" in v["environments"]]
    assert [v["libraries"]["scikit-learn"] for v in current] == [
        ml_library_versions()["scikit-learn"]]
