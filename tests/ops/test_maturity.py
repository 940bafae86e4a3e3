"""`steward maturity`: the rubric from the project's own declarations, gaps ranked by
gain over effort with the change that closes each, and the score kept over time."""

from __future__ import annotations

import json
from pathlib import Path

from steward.context import Context
from steward.ops.maturity import maturity
from tests.conftest import steward, write


def test_score_gaps_and_history(starter: Path) -> None:
    ctx = Context(starter)
    first = maturity(ctx)
    areas = {a["name"]: a for a in first["areas"]}
    assert sum(a["weight"] for a in first["areas"]) == 100
    assert areas["ownership"]["score"] == 1.0  # the starter names every owner
    assert areas["ci"]["score"] == 0.0 and areas["freshness slos"]["score"] == 0.0
    assert 0 < first["score"] < 100
    assert len(first["gaps"]) == 3
    ranked = [g["gain"] / max(g["effort"], 1) for g in first["gaps"]]
    assert ranked == sorted(ranked, reverse=True)
    # close two gaps: a CI job and protected production with freshness SLOs
    write(starter, ".github/workflows/data.yml", "jobs: {build: {steps: [{run: steward run}]}}\n")
    for f in ("models/staging/orders.yml", "models/marts/daily_revenue.yml"):
        p = starter / f
        p.write_text(p.read_text() + "freshness: {max_age: 24h}\n")
    second = maturity(Context(starter))
    areas2 = {a["name"]: a for a in second["areas"]}
    assert areas2["ci"]["score"] == 1.0 and areas2["freshness slos"]["score"] == 1.0
    assert second["score"] == first["score"] + 20
    assert [h["score"] for h in second["history"]] == [second["score"], first["score"]]
    assert "freshness slos" not in {g["name"] for g in second["gaps"]}


def test_cli(starter: Path) -> None:
    code, out, err = steward(starter, "maturity")
    assert code == 0, err
    assert "maturity" in out and "close these first" in out and "1. " in out
    code, out, _ = steward(starter, "maturity", "--json")
    doc = json.loads(out)
    assert len(doc["history"]) == 2 and doc["gaps"][0]["fix"]


def test_models_and_delivery_areas(tmp_path: Path) -> None:
    """A project with a model has a 'model reproducibility' area (gated, trained from a
    clean commit); every project has a 'delivery' area from its promotions and rollbacks.
    The weights still share 100 points."""
    import subprocess

    from tests.ml.conftest import make_project

    root = make_project(tmp_path / "trips")
    write(root, ".gitignore", ".steward/\n")  # (as 'steward init' writes it)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    ctx = Context(root)
    assert ctx.run().ok  # trained from a tree that is not committed
    doc = maturity(ctx)
    areas = {a["name"]: a for a in doc["areas"]}
    assert abs(sum(a["weight"] for a in doc["areas"]) - 100) < 1e-9
    model = areas["model reproducibility"]
    assert model["score"] == 0.5  # gated, but not trained from a clean commit
    assert model["detail"] == "1/1 models gated, 0/1 trained from a clean commit"
    assert "git commit" in model["fix"]
    assert areas["delivery"]["score"] == 0.0 and "0 promotion(s)" in areas["delivery"]["detail"]

    # commit, retrain from the clean tree, and release through dev into prod
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-qm", "trips"], cwd=root, check=True)
    assert Context(root).run(env="dev", full_refresh=True).ok
    code, out, err = steward(root, "promote", "dev", "prod")
    assert code == 0, out + err
    after = {a["name"]: a for a in maturity(Context(root))["areas"]}
    assert after["model reproducibility"]["score"] == 1.0
    assert after["delivery"]["score"] == 0.5 / 4 + 0.5  # one release, none rolled back
    assert "1 promotion(s) and 0 rollback(s)" in after["delivery"]["detail"]
