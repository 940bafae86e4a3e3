"""The git commit a project folder is at, recorded with every run, version and audit event.

Cheap by construction: the commit is read from ``.git/HEAD`` and its ref file (or
``packed-refs``) directly, with no process started. Whether the tree is *dirty* (the
project folder differs from that commit, untracked files included, ignored files not)
takes one ``git status`` per probe; the commit's time one ``git show`` the first time a
commit is seen (kept in ``.steward/cache/git.json``, since it never changes).

A folder outside any repository is recorded as ``none``; when git cannot tell (not
installed, no commit yet, a timeout) as ``unknown``.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

TIMEOUT_S = 10.0
CACHE = os.path.join(".steward", "cache", "git.json")


@dataclass(frozen=True)
class GitState:
    """Where a project folder stands in git."""

    commit: str | None  # the HEAD commit (40 hex digits), None outside a repository
    state: str  # clean, dirty, none (not a git repository), unknown
    committed_at: datetime | None = None  # the commit's committer time

    @property
    def text(self) -> str:
        """One word for an audit event or a version: ``<sha>``, ``<sha>+dirty``,
        ``<sha>+unknown``, ``none`` or ``unknown``."""
        if self.commit is None:
            return self.state if self.state in ("none", "unknown") else "unknown"
        return self.commit if self.state == "clean" else f"{self.commit}+{self.state}"

    def as_dict(self) -> dict[str, object]:
        return {"commit": self.commit, "state": self.state,
                "committed_at": self.committed_at.isoformat() if self.committed_at else None}

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> GitState:
        at = d.get("committed_at")
        return cls(d.get("commit") or None, str(d.get("state") or "unknown"),  # type: ignore[arg-type]
                   datetime.fromisoformat(at) if isinstance(at, str) else None)


NONE = GitState(None, "none")


def git_dirs(root: str) -> tuple[str, str] | None:
    """(git dir, common dir) of the repository holding ``root``, or None.

    Follows a ``.git`` file (worktrees, submodules) and a worktree's ``commondir``.
    """
    d = os.path.abspath(root)
    while True:
        dot = os.path.join(d, ".git")
        if os.path.isdir(dot):
            return dot, dot
        if os.path.isfile(dot):
            try:
                with open(dot) as f:
                    line = f.read().strip()
            except OSError:
                return None
            if not line.startswith("gitdir:"):
                return None
            gd = line[len("gitdir:"):].strip()
            gd = gd if os.path.isabs(gd) else os.path.normpath(os.path.join(d, gd))
            common = gd
            with contextlib.suppress(OSError):
                with open(os.path.join(gd, "commondir")) as f:
                    c = f.read().strip()
                common = c if os.path.isabs(c) else os.path.normpath(os.path.join(gd, c))
            return gd, common
        parent = os.path.dirname(d)
        if parent == d:
            return None
        d = parent


def head_commit(root: str) -> tuple[bool, str | None]:
    """(inside a repository?, the HEAD commit or None), from the files alone."""
    dirs = git_dirs(root)
    if dirs is None:
        return False, None
    gd, common = dirs
    try:
        with open(os.path.join(gd, "HEAD")) as f:
            head = f.read().strip()
    except OSError:
        return True, None
    if not head.startswith("ref:"):
        return True, head if _is_sha(head) else None
    ref = head[4:].strip()
    for base in (gd, common):
        with contextlib.suppress(OSError):
            with open(os.path.join(base, *ref.split("/"))) as f:
                sha = f.read().strip()
            return True, sha if _is_sha(sha) else None
    with contextlib.suppress(OSError), open(os.path.join(common, "packed-refs")) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 2 and parts[1] == ref and _is_sha(parts[0]):
                return True, parts[0]
    return True, None  # a branch with no commit yet


def _is_sha(text: str) -> bool:
    return len(text) in (40, 64) and all(c in "0123456789abcdef" for c in text)


def probe(root: str, known: GitState | None = None) -> GitState:
    """The project's state now: the commit from the files, ``git status`` for dirty.

    ``known``: a state recorded earlier; its commit time is reused for the same commit.
    """
    repo, sha = head_commit(root)
    if not repo:
        return NONE
    if sha is None:
        return GitState(None, "unknown")
    committed = known.committed_at if known is not None and known.commit == sha else None
    if committed is None:
        committed = _cached_time(root, sha)
    status = _start(root, ["status", "--porcelain", "-z", "--untracked-files=normal",
                           "--", "."])
    show = None if committed is not None else _start(root, ["show", "-s", "--format=%ct", sha])
    out = _finish(status)
    state = "unknown" if out is None else ("dirty" if out.strip() else "clean")
    if show is not None:
        ct = _finish(show)
        with contextlib.suppress(ValueError, TypeError):
            committed = datetime.fromtimestamp(int((ct or "").strip()), UTC)
            _cache_time(root, sha, committed)
    return GitState(sha, state, committed)


def _start(root: str, args: list[str]) -> subprocess.Popen[str] | None:
    try:
        return subprocess.Popen(["git", *args], cwd=root, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                text=True, env={**os.environ, "GIT_OPTIONAL_LOCKS": "0"})
    except OSError:  # git is not installed
        return None


def _finish(p: subprocess.Popen[str] | None) -> str | None:
    if p is None:
        return None
    try:
        out, _ = p.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        p.kill()
        p.communicate()
        return None
    return out if p.returncode == 0 else None


def _cached_time(root: str, sha: str) -> datetime | None:
    try:
        with open(os.path.join(root, CACHE)) as f:
            at = json.load(f).get(sha)
        return datetime.fromisoformat(at) if isinstance(at, str) else None
    except (OSError, ValueError, AttributeError):
        return None


def _cache_time(root: str, sha: str, at: datetime) -> None:
    path = os.path.join(root, CACHE)
    try:
        with open(path) as f:
            data = json.load(f)
        data = data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        data = {}
    data = dict(list(data.items())[-31:])  # the last few commits are enough
    data[sha] = at.isoformat()
    with contextlib.suppress(OSError):
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w") as f:
            json.dump(data, f)
        os.replace(tmp, path)


class Background:
    """A probe started on a thread (a run starts it before it loads and plans, and reads
    it when it records the run, so ``git status`` costs no wall time)."""

    def __init__(self, root: str):
        self._result: GitState | None = None
        self._thread = threading.Thread(target=self._go, args=(root,), daemon=True,
                                        name="steward-git")
        self._thread.start()

    def _go(self, root: str) -> None:
        try:
            self._result = probe(root)
        except Exception:  # never let git stop a run
            self._result = GitState(None, "unknown")

    def result(self) -> GitState:
        self._thread.join(TIMEOUT_S * 2 + 1)
        return self._result or GitState(None, "unknown")


class Memo:
    """The project's state for a process: probed once, probed again when HEAD moves or
    after ``max_age`` seconds (a long-running server). A run calls :meth:`start` first,
    so the probe runs while the project loads and plans."""

    def __init__(self, root: str, max_age: float = 60.0):
        self.root, self.max_age = root, max_age
        self._state: GitState | None = None
        self._pending: Background | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            self._pending = Background(self.root)

    def set(self, state: GitState) -> None:
        with self._lock:
            self._state, self._at = state, time.monotonic()

    def get(self) -> GitState:
        with self._lock:
            pending, st, at = self._pending, self._state, self._at
        if pending is not None:
            st = pending.result()
            with self._lock:
                if self._pending is pending:
                    self._pending = None
            self.set(st)
            return st
        if st is not None and time.monotonic() - at < self.max_age:
            repo, sha = head_commit(self.root)
            if (sha if repo else None) == st.commit and (repo or st.state == "none"):
                return st
        st = probe(self.root, st)
        self.set(st)
        return st

    def text(self) -> str:
        return self.get().text
