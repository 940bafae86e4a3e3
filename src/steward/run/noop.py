"""A no-op ``steward run`` answered without loading the project.

A run that changes nothing still pays for starting Python, SQLAlchemy, pydantic and the
project cache: about a second for 1,000 products, most of it imports. Yet whether
anything changed is decided by facts that are cheap to read again:

- the project files' stat data (the load key of :mod:`steward.project.cache`),
- each source's content hash (through the stat cache, as the loader computes it),
- the environment's pointers (read with the standard library's ``sqlite3``),
- Steward's own code and the metastore's schema version,
- with models, the versions of the libraries that train them.

After a run that selected every product, built into a local store with a SQLite
metastore and succeeded, :func:`remember` writes these facts for its environment to
``.steward/cache/noop.json``. The next ``steward run`` with no selection calls
:func:`noop_run` first: when every fact is unchanged, the full path would keep every
product, so this records the same run (a ``runs`` row and one ``kept`` step per
product) and returns it; the caller prints it as the full path would. When anything
differs, or another process holds the project lock, or a killed run awaits recovery,
it returns None and the full path runs. Facts are taken before the run reads the files
and after it moved the pointers, so an edit during a run is never missed.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from steward.core.codekey import code_digest
from steward.core.ids import new_id
from steward.core.records import RunResult, Step
from steward.meta import noop as mnoop
from steward.project.files import StatCache, resolve_paths
from steward.project.paths import STATE_DIR, project_folders

FORMAT = 1
DISABLE = "STEWARD_NO_FASTPATH"  # set to any value: every run takes the full path
EXPLAIN = "STEWARD_EXPLAIN_NOOP"  # set to any value: say on stderr why it was not taken


def _decline(why: str) -> None:
    if os.environ.get(EXPLAIN):
        import sys

        sys.stderr.write(f"no-op fast path not taken: {why}\n")


def marker_path(root: str) -> str:
    return os.path.join(root, STATE_DIR, "cache", "noop.json")


@dataclass(frozen=True)
class SourceFacts:
    """How to hash a source again: its path patterns, or its callable's file."""

    patterns: tuple[str, ...]
    file: str | None
    content: str  # the content hash the run used


def _hash_source(src: SourceFacts, root: str, stats: StatCache) -> str | None:
    if src.file is not None:
        return stats.hash_file(src.file) if os.path.isfile(src.file) else None
    paths = [p for pattern in src.patterns for p in resolve_paths(pattern, root)]
    return stats.hash_files(paths) if paths else None


def remember(root: str, env: str, default_env: str, load_key: str | None,
             sources: Mapping[str, SourceFacts], order: Iterable[str],
             warnings: Iterable[str], metastore_url: str, scratch: str | None,
             libraries: Mapping[str, str | None] | None = None, git: Any = None) -> bool:
    """Record, after a successful full run into ``env``, what a no-op run compares with.

    ``libraries``: the ML libraries' versions, for a project with models (an upgrade
    trains them again). Call it holding the project lock, once the run's pointers are
    committed.
    """
    db = mnoop.sqlite_file(metastore_url)
    if db is None or load_key is None or scratch is None:
        forget(root)
        return False
    state = mnoop.env_state(db, env)
    if state is None:
        forget(root)
        return False
    data = _read(root) or {}
    if data.get("format") != FORMAT:
        data = {"format": FORMAT, "envs": {}}
    # (each entry carries its own keys: an entry of another env may be stale, never wrong)
    data["default_env"] = default_env
    data["envs"][env] = {
        "load_key": load_key,
        "code": code_digest(),
        # relative to the project folder when inside it: a moved or copied project never
        # records into, or reads, the original's state
        "metastore": _rel(db, root),
        "scratch": _rel(scratch, root),
        "pointers": state.digest(),
        "sources": {n: {"patterns": list(s.patterns), "file": s.file, "content": s.content}
                    for n, s in sources.items()},
        "order": list(order),
        "warnings": list(warnings),
        # the project's git state (project.git.GitState): reused while HEAD stays there
        "git": git.as_dict() if git is not None else None,
        "libraries": dict(libraries) if libraries is not None else None,
    }
    path = marker_path(root)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.{os.getpid()}.tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)
    return True


def _rel(path: str, root: str) -> str:
    root = os.path.abspath(root)
    path = os.path.abspath(path)
    return os.path.relpath(path, root) if path.startswith(root + os.sep) else path


def _abs(path: str, root: str) -> str:
    return path if os.path.isabs(path) else os.path.join(root, path)


def forget(root: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(marker_path(root))


def _read(root: str) -> dict[str, Any] | None:
    try:
        with open(marker_path(root)) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class NoopRun:
    result: RunResult
    warnings: list[str]


def noop_run(root: str, env: str | None, actor: str | None) -> NoopRun | None:
    """Record and return a run that keeps every product, if nothing changed; else None."""
    if os.environ.get(DISABLE):
        _decline(f"{DISABLE} is set")
        return None
    t0 = time.perf_counter()
    started = datetime.now(UTC)
    data = _read(root)
    if not data or data.get("format") != FORMAT:
        _decline("no successful full run on record")
        return None
    env = env or str(data.get("default_env"))
    entry = (data.get("envs") or {}).get(env)
    if not entry:
        _decline(f"no successful full run into {env!r} on record")
        return None
    from steward.project import cache

    folders = project_folders(root)
    if folders is None or cache.digest(root, folders) != entry.get("load_key"):
        _decline("a project file changed")
        return None
    if entry.get("code") != code_digest():
        _decline("Steward's code changed")
        return None
    git = _same_commit(root, entry.get("git"))
    if git is None:
        _decline("the git commit changed (the full path reads it)")
        return None
    if entry.get("libraries") is not None:
        from steward.core.fingerprint import ml_library_versions

        if entry["libraries"] != ml_library_versions():
            _decline("a machine-learning library's version changed")
            return None
    stats = StatCache(os.path.join(root, STATE_DIR, "cache", "stat.json"), root)
    for facts in entry["sources"].values():
        src = SourceFacts(tuple(facts["patterns"]), facts["file"], facts["content"])
        if _hash_source(src, root, stats) != src.content:
            _decline("a source's data changed")
            return None
    stats.save()
    with _try_lock(os.path.join(root, STATE_DIR)) as locked:
        if not locked:
            _decline("another process holds the project lock")
            return None
        if _scratch_left(_abs(entry["scratch"], root)):
            _decline("a killed run left a partial build")
            return None
        db = _abs(entry["metastore"], root)
        state = mnoop.env_state(db, env)
        if state is None:
            _decline("the metastore needs the full path (migration or killed run)")
            return None
        if state.digest() != entry["pointers"]:
            _decline(f"pointers of {env!r} moved")
            return None
        order = [n for n in entry["order"] if n in state.pointers]
        if len(order) != len(entry["order"]):
            _decline("a product has no version")
            return None
        run_id = new_id("r")
        steps = [Step(run_id, n, "kept", state.pointers[n][0], started, 0.0,
                      state.pointers[n][1]) for n in order]
        result = RunResult(run_id, env, "success", steps, started, 0.0)
        result.duration_s = time.perf_counter() - t0
        if not mnoop.files_intact(db, os.path.dirname(_abs(entry["scratch"], root)), env):
            _decline("a version's files changed or are missing")
            return None
        mnoop.record_run(db, run_id, env, actor, started, datetime.now(UTC),
                         [(s.product, s.status, s.version_id, s.rows) for s in steps],
                         result.summary(), git)
    return NoopRun(result, list(entry["warnings"]))


def _same_commit(root: str, known: Any) -> Any:
    """The git state the last full run recorded, if HEAD is still at its commit (the
    project files are unchanged too, so is whether the tree is dirty); else None.

    Read from the files alone: the fast path starts no ``git`` process."""
    from steward.project.git import GitState, head_commit

    if not isinstance(known, dict):
        return None
    repo, sha = head_commit(root)
    state = GitState.from_dict(known)
    if not repo:
        return state if state.state == "none" else None
    return state if sha is not None and sha == state.commit else None


def _scratch_left(scratch: str) -> bool:
    """A partial build of a killed run: the full path cleans it up and says so."""
    try:
        return any(True for _ in os.scandir(scratch))
    except FileNotFoundError:
        return False


@contextlib.contextmanager
def _try_lock(state_dir: str) -> Any:
    """The project lock (the same ``flock`` as :class:`steward.run.lock.ProjectLock`)."""
    try:
        import fcntl
    except ImportError:  # no flock here (Windows): the full path and its lock decide
        yield False
        return
    path = os.path.join(state_dir, "run.lock")
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield False
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
