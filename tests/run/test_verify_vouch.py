"""A version published by this process is checked by ``stat`` when a build reads it;
anything but the very files it hashed falls back to the full check (content hash)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from steward.context import Context
from steward.core import faults
from steward.core.records import Version
from steward.run.verify import Verifier, store_hash
from steward.store.local import LocalStore
from tests.conftest import write


class Counting:
    """A content hash that counts the files it reads."""

    def __init__(self, store: LocalStore):
        self.inner = store_hash(store)
        self.read: list[str] = []

    def __call__(self, files: list[str], known: dict[str, bytes] | None = None) -> str:
        self.read.extend(f for f in files if not known or f not in known)
        return self.inner(files, known)


def published(
    tmp_path: Path, data: bytes = b"PAR1 some bytes PAR1"
) -> tuple[LocalStore, Version, dict[str, os.stat_result], Counting]:
    """A version published the way the executor does: stat, hash, rename, vouch."""
    store = LocalStore(str(tmp_path / "store"), str(tmp_path))
    scratch = store.new_scratch()
    f = os.path.join(scratch, "data", "part-0.parquet")
    Path(f).write_bytes(data)
    stats = {"part-0.parquet": os.stat(f)}
    digest = store_hash(store)([f])
    key = store.publish(scratch, "a", "v1")
    v = Version(
        id="v1",
        product="a",
        fingerprint="fp",
        metadata_fp="m",
        status="published",
        path=key,
        data_hash=digest,
        files=(("part-0.parquet", len(data)),),
    )
    return store, v, stats, Counting(store)


def test_an_unchanged_vouched_version_is_not_read_again(tmp_path: Path):
    store, v, stats, counting = published(tmp_path)
    verifier = Verifier(store, content_hash=counting)
    verifier.vouch(v.id, stats)
    assert verifier.deep(v) is None
    assert counting.read == []
    assert verifier.files(v) == store.data_files(v.path)


def test_a_version_never_vouched_for_is_hashed(tmp_path: Path):
    store, v, _stats, counting = published(tmp_path)
    verifier = Verifier(store, content_hash=counting)
    assert verifier.deep(v) is None
    assert counting.read == store.data_files(v.path)


@pytest.mark.parametrize("edit", ["rewrite", "in_place", "grow", "add", "remove", "touch"])
def test_any_change_to_a_vouched_version_gets_the_full_check(tmp_path: Path, edit: str):
    store, v, stats, counting = published(tmp_path)
    verifier = Verifier(store, content_hash=counting)
    verifier.vouch(v.id, stats)
    f = store.data_files(v.path)[0]
    if edit == "rewrite":  # same size, other bytes, a new file
        Path(f).write_bytes(b"PAR1 some BYTES PAR1")
    elif edit == "in_place":  # same size, same inode, modification time set back
        st = os.stat(f)
        with open(f, "r+b") as fh:
            fh.write(b"PAR1 SOME")
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))
    elif edit == "grow":
        with open(f, "ab") as fh:
            fh.write(b"more")
    elif edit == "add":
        Path(f).with_name("part-1.parquet").write_bytes(b"PAR1 extra PAR1")
    elif edit == "remove":
        os.remove(f)
    else:  # the same bytes, another modification time: hashed again, and intact
        st = os.stat(f)
        os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    problem = verifier.deep(v)
    expected = {
        "rewrite": "no longer match their recorded hash",
        "in_place": "no longer match their recorded hash",  # (the change time moved)
        "grow": "bytes",
        "add": "unexpected data file",
        "remove": "is missing",
        "touch": None,
    }[edit]
    if expected is None:
        assert problem is None
        assert counting.read == [f]
    else:
        assert problem is not None and expected in problem


def test_a_store_whose_files_are_copies_is_always_hashed(tmp_path: Path):
    store, v, stats, counting = published(tmp_path)
    verifier = Verifier(store, content_hash=counting)
    store.local_files = False  # type: ignore[misc]  # (a store that copies on publish)
    verifier.vouch(v.id, stats)
    assert verifier.deep(v) is None
    assert counting.read == store.data_files(v.path)


def test_an_input_altered_during_the_run_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """a is built and published; before b (built from it) starts, a's file is replaced
    by other data: b is not built from it."""
    write(tmp_path, "steward.yaml", "name: t\n")
    write(tmp_path, "models/a.sql", "select range as id from range(100)\n")
    write(tmp_path, "models/b.sql", "select id * 2 as id from a\n")
    root = tmp_path
    real = faults.point

    def tamper(name: str) -> None:
        if name == "run.after_publish":
            for f in (root / ".steward" / "store").glob("a/*/data/*.parquet"):
                import duckdb

                tmp = str(f) + ".tmp"
                duckdb.sql(
                    f"copy (select range + 1 as id from range(100)) to '{tmp}' (format parquet)"
                )
                os.replace(tmp, f)
        real(name)

    monkeypatch.setattr(faults, "point", tamper)
    r = Context(root).run()
    b = next(s for s in r.steps if s.product == "b")
    assert b.status == "failed"
    assert "input a cannot be read" in (b.error or "") and "damaged" in (b.error or "")
