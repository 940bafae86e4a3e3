"""The project's git commit with every run, version and audit event; a folder outside git
and a dirty tree recorded as such; the no-op fast path keeps it without running git."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from steward.context import Context
from steward.project.git import git_dirs, head_commit, probe
from tests.conftest import ON_POSTGRES, steward

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}


def git(root: Path, *args: str, when: str | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    return subprocess.run(["git", *args], cwd=root, env=env, check=True,
                          capture_output=True, text=True).stdout.strip()


def commit_all(root: Path, when: str = "2026-03-01T10:00:00+00:00") -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "change", when=when)
    return git(root, "rev-parse", "HEAD")


@pytest.fixture
def repo(starter: Path) -> Path:
    git(starter, "init", "-q", "-b", "main")
    return starter


def test_outside_git_is_recorded_as_none(starter: Path) -> None:
    ctx = Context(starter)
    assert ctx.run().ok
    run = ctx.metastore.runs(1)[0]
    assert (run.git_commit, run.git_state) == (None, "none")
    assert {e.git for e in ctx.audit_trail().log()} == {"none"}


def test_commit_on_run_version_and_audit(repo: Path) -> None:
    sha = commit_all(repo)
    assert head_commit(repo) == (True, sha)
    ctx = Context(repo)
    assert ctx.run().ok
    run = ctx.metastore.runs(1)[0]
    assert (run.git_commit, run.git_state) == (sha, "clean")
    assert run.git_committed_at == datetime(2026, 3, 1, 10, tzinfo=UTC)
    with ctx.metastore.sa_engine.connect() as conn:
        import sqlalchemy as sa

        from steward.meta.tables import versions

        got = set(conn.execute(sa.select(versions.c.git_commit)
                               .where(versions.c.run_id == run.id)).scalars())
    assert got == {sha}
    events = ctx.audit_trail().log()
    assert events and {e.git for e in events} == {sha}
    # the hash covers it: changing the recorded commit is caught
    assert ctx.audit_trail().verify().ok
    if not ON_POSTGRES:
        con = sqlite3.connect(repo / ".steward" / "meta.db")
        con.execute("UPDATE audit_events SET git_commit = ? WHERE seq = ?",
                    ("0" * 40, events[-1].seq))
        con.commit()
        con.close()
        report = Context(repo).audit_trail().verify()
        assert not report.ok and report.first_bad == events[-1].seq


def test_dirty_tree_is_recorded(repo: Path) -> None:
    sha = commit_all(repo)
    p = repo / "models" / "staging" / "orders.sql"
    p.write_text(p.read_text() + "\n-- edited\n")
    ctx = Context(repo)
    assert ctx.run().ok
    run = ctx.metastore.runs(1)[0]
    assert (run.git_commit, run.git_state) == (sha, "dirty")
    assert ctx.audit_trail().log()[0].git == f"{sha}+dirty"


def test_worktree_and_packed_refs(repo: Path, tmp_path: Path) -> None:
    sha = commit_all(repo)
    git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    assert head_commit(repo) == (True, sha)
    wt = tmp_path / "wt"
    git(repo, "worktree", "add", "-q", "-b", "other", str(wt))
    gd, common = git_dirs(wt)  # type: ignore[misc]
    assert gd != common
    assert head_commit(wt) == (True, sha)
    assert probe(wt).state == "clean"
    assert probe(tmp_path).state == "none"


def test_lead_time_starts_at_the_commit(repo: Path) -> None:
    from steward.ops.delivery import delivery_metrics

    p = repo / "steward.yaml"
    p.write_text(p.read_text().replace("  default: prod\n", "  default: prod\n"
                                       "  protected: [prod]\n"))
    commit_all(repo, when="2026-03-01T10:00:00+00:00")
    assert Context(repo).run(env="dev").ok
    code, _, err = steward(repo, "promote", "dev", "prod")
    assert code == 0, err
    d = delivery_metrics(Context(repo), since_days=3650)
    assert d["deployments"] == 1
    lead = d["lead_time_s"]
    since_commit = (datetime.now(UTC) - datetime(2026, 3, 1, 10, tzinfo=UTC)).total_seconds()
    # measured from the commit (days ago), not from the build (seconds ago)
    assert lead["count"] == 3 and abs(lead["median"] - since_commit) < 600
    assert d["lead_time_from"] == {"commit": 3, "build": 0}


def test_lead_time_without_git_starts_at_the_build(starter: Path) -> None:
    from steward.ops.delivery import delivery_metrics

    p = starter / "steward.yaml"
    p.write_text(p.read_text().replace("  default: prod\n", "  default: prod\n"
                                       "  protected: [prod]\n"))
    assert Context(starter).run(env="dev").ok
    code, _, err = steward(starter, "promote", "dev", "prod")
    assert code == 0, err
    d = delivery_metrics(Context(starter), since_days=30)
    assert d["lead_time_from"] == {"commit": 0, "build": 3}
    assert 0 <= d["lead_time_s"]["median"] < 600


@pytest.mark.skipif(ON_POSTGRES, reason="the no-op fast path is for SQLite metastores")
def test_noop_fast_path_keeps_the_commit_without_git(repo: Path) -> None:
    sha = commit_all(repo)
    code, _, err = steward(repo, "run")
    assert code == 0, err
    env = {"STEWARD_EXPLAIN_NOOP": "1", "PATH": "/nonexistent"}  # no git to be found
    code, _, err = steward(repo, "run", env=env)
    assert code == 0 and "not taken" not in err, err
    run = Context(repo).metastore.runs(1)[0]
    assert (run.git_commit, run.git_state) == (sha, "clean")
    # a new commit of the same files: the fast path declines and the full path records it
    (repo / "README.md").write_text("notes\n")
    sha2 = commit_all(repo, when="2026-03-02T10:00:00+00:00")
    code, _, err = steward(repo, "run", env={"STEWARD_EXPLAIN_NOOP": "1"})
    assert code == 0 and "git commit changed" in err, err
    run = Context(repo).metastore.runs(1)[0]
    assert (run.git_commit, run.git_state) == (sha2, "clean")
