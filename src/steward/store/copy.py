"""Version folders (and what later check runs kept beside them) copied from one store to
another through the store protocol: local to S3, S3 to local, or any two locations."""

from __future__ import annotations

import os
import shutil

from steward.store.base import Store

SIDE = ".checks"


def copy_version(src: Store, dst: Store, key: str) -> int:
    """Copy version folder ``key`` with its check-run sides; returns the bytes copied.

    A folder already at ``key`` in ``dst`` (left by a copy that was interrupted) is
    replaced: the caller copies only into a store whose metastore names nothing yet.
    """
    local = src.local(key)
    if not os.path.isdir(local):
        raise FileNotFoundError(f"version folder {key} is missing from the store {src.root}")
    product, _, version_id = key.rpartition("/")
    if dst.exists(key):
        dst.delete(key)
    scratch = dst.new_scratch()
    shutil.copytree(local, scratch, dirs_exist_ok=True)
    got = dst.publish(scratch, product, version_id)
    if got != key:
        raise ValueError(f"the destination store keeps {key} as {got}: not a copy")
    size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(local) for f in fs)
    for run in src.side_runs(key):
        there = src.local(f"{SIDE}/{key}/{run}")
        if not os.path.isdir(there):
            continue
        into, side_key = dst.side(key, run)
        shutil.copytree(there, into, dirs_exist_ok=True)
        dst.commit_side(into, side_key)
    return size
