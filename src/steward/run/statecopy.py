"""``steward state copy``: a project's whole state moved to another metastore and store.

The way from the embedded default (``.steward/meta.db`` and ``.steward/store``) to a
team's PostgreSQL and S3, keeping every version, environment, run, check result,
profile and the audit trail, so nothing is rebuilt and the history stays verifiable.

Order, so that a copy killed at any point leaves nothing half-visible:

1. version folders (and check-run sides) into the destination store, each under its own
   key; a folder without a metastore row is invisible, as after a killed publish;
2. every metastore row, in one transaction on the destination;
3. one ``state.copied`` event at the end of each trail; the destination's records the
   head of its audit trail in its store, as every append does.

A destination whose metastore holds rows, or whose store holds an audit head, belongs to
another project (or to a copy that finished): refused, nothing written. Folders found in
the destination store without a head are what an interrupted copy left: replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from steward.core import faults
from steward.core.errors import StewardError
from steward.meta.copy import copy_rows, tables_with_rows
from steward.meta.migrations.m0007_integrity import store_key
from steward.meta.reads import shown_url
from steward.meta.store import Metastore
from steward.store.base import Store
from steward.store.copy import copy_version

HEAD_FILE = "audit-head.json"


@dataclass
class CopyReport:
    metastore: str
    store: str
    versions: int = 0
    bytes: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # rows whose folder was not there

    def to_json(self) -> dict[str, Any]:
        return {"metastore": self.metastore, "store": self.store, "versions": self.versions,
                "bytes": self.bytes, "rows": self.rows, "missing": self.missing}


def refuse_unless_empty(dst_ms: Metastore, dst_store: Store) -> None:
    full = tables_with_rows(dst_ms)
    if full:
        raise StewardError(
            f"the metastore {shown_url(dst_ms.url)} already holds Steward state (rows in "
            f"{', '.join(full[:4])}{'...' if len(full) > 4 else ''}); nothing was copied. "
            "Copy into an empty database (a copy interrupted after its rows committed is "
            "complete: point steward.yaml at it and run 'steward verify')")
    if dst_store.read_meta(HEAD_FILE) is not None:
        raise StewardError(
            f"the store {dst_store.root} holds another project's audit trail; nothing was "
            "copied. Copy into an empty store location")


def copy_state(src_ms: Metastore, src_store: Store, dst_ms: Metastore, dst_store: Store,
               progress: Callable[[str, int, int], None] | None = None) -> CopyReport:
    """Copy everything (see the module docstring); ``progress(what, done, total)``."""
    if dst_ms.url == src_ms.url:
        raise StewardError("the destination metastore is the project's own; nothing to copy")
    if dst_store.root == src_store.root:
        raise StewardError("the destination store is the project's own; nothing to copy")
    refuse_unless_empty(dst_ms, dst_store)
    report = CopyReport(shown_url(dst_ms.url), dst_store.root)
    present = set(src_store.version_folders())
    paths = [v.path for v in src_ms.versions()]
    keys = sorted({k for p in paths if p and (k := store_key(p) or p) and "/" in k})
    for i, key in enumerate(keys):
        if key not in present:
            report.missing.append(key)
        else:
            report.bytes += copy_version(src_store, dst_store, key)
            report.versions += 1
            faults.point("state_copy.version")
        if progress is not None:
            progress("versions", i + 1, len(keys))
    report.rows = copy_rows(src_ms, dst_ms,
                            None if progress is None else lambda t, n: progress(t, n, n))
    faults.point("state_copy.rows")
    return report


def absolute_sqlite(url: str, root: str) -> str:
    """A relative SQLite URL (``sqlite:///state/meta.db``) taken from the project root."""
    import os

    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        rel = url[len("sqlite:///"):]
        if rel != ":memory:" and not os.path.isabs(rel):
            return "sqlite:///" + os.path.join(root, rel)
    return url


def move_state(src_ms: Metastore, src_store: Store, metastore: str, store: str, root: str,
               trail: Callable[[Metastore, Store], Any], verify: Callable[..., Any],
               actor: str, deep: bool = False,
               progress: Callable[[str, int, int], None] | None = None
               ) -> tuple[CopyReport, Any]:
    """Copy, record the copy in both audit trails, then verify the destination as
    ``steward verify`` would (``deep``: every file's hash). The caller holds the lock."""
    from steward.store import open_store

    dst_store = open_store(store, root)
    dst_ms = Metastore(absolute_sqlite(metastore, root))
    try:
        report = copy_state(src_ms, src_store, dst_ms, dst_store, progress)
        after = {"versions": report.versions, "bytes": report.bytes,
                 "audit_events": report.rows.get("audit_events", 0)}
        trail(src_ms, src_store).append(
            actor, "state.copied", [], after={**after, "to_metastore": report.metastore,
                                              "to_store": report.store})
        dst_trail = trail(dst_ms, dst_store)
        dst_trail.append(actor, "state.copied", [],
                         after={**after, "from_metastore": shown_url(src_ms.url),
                                "from_store": src_store.root})
        return report, verify(dst_ms, dst_store, dst_trail, deep)
    finally:
        dst_ms.sa_engine.dispose()
