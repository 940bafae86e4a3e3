"""Garbage collection: delete versions no environment points at, past their retention.

A version is kept when any environment points at it, while it is building, when it is
among its product's last ``keep_last`` published versions, or when it is younger than
``keep_days``. Retention comes from the product's ``retention``, else the project's
``defaults.retention``; command-line values override both. Files shared by an alias
version that survives are kept. A real collection holds the project lock, so it never
runs while a build is reading or writing versions.

Order, so a collection killed at any point leaves nothing wrong: an audit event names
what is about to go; the version rows are deleted (one transaction); then their
folders. A folder whose row is gone (a collection killed before it deleted the folder,
or a version folder no row ever named) is an *orphan*: the next collection deletes it
too. A folder that cannot be deleted (a read-only store) is reported, and the result
counts only what was really deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from steward.core import faults
from steward.core.errors import StewardError
from steward.core.records import Version
from steward.meta import envs as menvs
from steward.meta.migrations.m0007_integrity import store_key
from steward.run.lock import ProjectLock
from steward.run.parts import Parts

if TYPE_CHECKING:
    from steward.run.parts import Parts


class GcError(StewardError):
    """Garbage collection could not delete everything it meant to."""

    exit_code = 1


@dataclass
class GcResult:
    dry_run: bool
    versions: list[Version] = field(default_factory=list)
    bytes: int = 0
    paths: list[str] = field(default_factory=list)
    kept_pointed: int = 0
    orphans: list[str] = field(default_factory=list)  # folders no version row names
    failed: list[tuple[str, str]] = field(default_factory=list)  # (folder, why)

    def to_json(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "bytes": self.bytes,
                "kept_pointed": self.kept_pointed, "orphans": self.orphans,
                "failed": [{"folder": f, "error": e} for f, e in self.failed],
                "versions": [{"product": v.product, "version": v.id, "status": v.status,
                              "created_at": v.created_at, "bytes": v.bytes}
                             for v in self.versions]}


def _retention(ctx: Parts, product: str, keep_last: int | None, keep_days: float | None
               ) -> tuple[int, float]:
    default = ctx.project.spec.defaults.retention
    p = ctx.project.products.get(product)
    own = p.spec.retention if p is not None else None
    last = keep_last if keep_last is not None else (
        own.keep_last if own and own.keep_last is not None else default.keep_last)
    days = keep_days if keep_days is not None else (
        own.keep_days if own and own.keep_days is not None else default.keep_days)
    return int(last or 0), float(days or 0)


def candidates(ctx: Parts, keep_last: int | None = None, keep_days: float | None = None,
               now: datetime | None = None) -> tuple[list[Version], int]:
    """Versions the policy would delete, and how many were kept because they are pointed at."""
    now = now or datetime.now(UTC)
    pointed = menvs.pointed_ids(ctx.metastore)
    by_product: dict[str, list[Version]] = {}
    for v in menvs.all_versions(ctx.metastore):
        by_product.setdefault(v.product, []).append(v)
    out: list[Version] = []
    kept_pointed = 0
    for product, vs in by_product.items():
        last, days = _retention(ctx, product, keep_last, keep_days)
        vs.sort(key=lambda v: (v.created_at or now, v.id), reverse=True)
        recent = {v.id for v in [v for v in vs if v.status == "published"][:last]}
        cutoff = now - timedelta(days=days)
        for v in vs:
            if v.id in pointed:
                kept_pointed += 1
                continue
            if v.status == "building" or v.id in recent:
                continue
            if v.created_at is not None and v.created_at > cutoff:
                continue
            out.append(v)
    return _keep_model_inputs(ctx, by_product, out), kept_pointed


def _keep_model_inputs(ctx: Parts, by_product: dict[str, list[Version]], out: list[Version]
                       ) -> list[Version]:
    """A published model version that stays is reproduced from its input versions
    (``steward reproduce``): never delete one of them."""
    models = {n for n, p in ctx.project.products.items() if p.kind == "model"}
    if not models or not out:
        return out
    doomed = {v.id for v in out}
    needed = {i for n in models for v in by_product.get(n, ())
              if v.status == "published" and v.id not in doomed for i in v.inputs.values()}
    return [v for v in out if v.id not in needed]


def gc(ctx: Parts, dry_run: bool = False, keep_last: int | None = None,
       keep_days: float | None = None, wait: float = 0.0) -> GcResult:
    """Delete (or with ``dry_run`` list) the versions the retention policy lets go."""
    if dry_run:
        return _collect(ctx, True, keep_last, keep_days)
    with ProjectLock(ctx.state_dir, "gc", wait,
                     metastore_url=ctx.lock_url):
        return _collect(ctx, False, keep_last, keep_days)


def _key(path: str) -> str:
    return store_key(path) or path


def _collect(ctx: Parts, dry_run: bool, keep_last: int | None, keep_days: float | None
             ) -> GcResult:
    doomed, kept_pointed = candidates(ctx, keep_last, keep_days)
    result = GcResult(dry_run, kept_pointed=kept_pointed)
    store = ctx.store
    named = {_key(v.path) for v in menvs.all_versions(ctx.metastore)}
    result.orphans = [f for f in store.version_folders() if f not in named]
    if not doomed and not result.orphans:
        return result
    # an alias version shares its files with the version it aliases: keep shared files
    gone = {d.id for d in doomed}
    live = {_key(v.path) for v in menvs.all_versions(ctx.metastore) if v.id not in gone}
    folders = sorted(({_key(v.path) for v in doomed} - live) | set(result.orphans))
    if dry_run:
        result.versions = doomed
        result.paths = folders
        result.bytes = sum(store.size(f) for f in folders if store.exists(f))
        return result
    if not store.writable():
        raise GcError(f"the store {store.root} is read-only: nothing was deleted; make it "
                      "writable and run 'steward gc' again")
    audit = ctx.audit_trail()
    actor = getattr(audit, "actor", None) or "unknown"
    audit.append(actor, "gc.start", sorted({v.product for v in doomed}),
                 before={"versions": {v.id: v.product for v in doomed},
                         "orphans": result.orphans}, after=None,
                 reason=f"deleting {len(doomed)} version(s) and {len(folders)} folder(s)")
    deleted = set(menvs.delete_versions(ctx.metastore, [v.id for v in doomed]))
    faults.point("gc.after_rows")
    result.versions = [v for v in doomed if v.id in deleted]
    live = {_key(v.path) for v in menvs.all_versions(ctx.metastore)}
    for f in folders:
        if f in live:
            continue
        try:
            size = store.size(f) if store.exists(f) else 0
            store.delete(f)
            store.delete_side(f)
        except (OSError, ValueError) as e:
            result.failed.append((f, str(e)))
            continue
        result.paths.append(f)
        result.bytes += size
        faults.point("gc.after_folder")
    audit.append(actor, "gc", sorted({v.product for v in result.versions}),
                 before={v.id: v.product for v in result.versions},
                 after={"folders_deleted": result.paths,
                        "failed": [f for f, _ in result.failed]},
                 reason=f"deleted {len(result.versions)} version(s), "
                        f"{len(result.paths)} folder(s), {result.bytes} bytes")
    return result
