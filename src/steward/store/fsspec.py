"""A store on an object store (S3 and anything else fsspec reaches): ``s3://bucket/prefix``.

Versions live under their keys (``<prefix>/<product>/<version id>/data/...``) exactly as in
a local store. Builds write into a local scratch folder; publishing uploads the folder
under the version's own key, and the version becomes visible only when its metastore row
commits (a run killed during an upload leaves objects no published row names: gc deletes
them). Readers get local files: a version's files are downloaded once into a read-through
cache in the project's state folder (versions never change, so a cached copy never goes
stale) and the engine reads them at local speed. Credentials and the endpoint come from
the environment or the standard AWS configuration (``AWS_ACCESS_KEY_ID``,
``AWS_ENDPOINT_URL``, ``~/.aws/config``...).
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from steward.core import faults
from steward.core.errors import StewardError, StoreUnavailable
from steward.store.base import DATA_DIR, FileEntry

F = TypeVar("F", bound=Callable[..., Any])

SCRATCH = "scratch"
META = ".steward-store"
SIDE = ".checks"


def remote(fn: F) -> F:
    """Report what goes wrong talking to the object store as one StoreUnavailable."""

    @functools.wraps(fn)
    def wrapper(self: FsspecStore, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(self, *args, **kwargs)
        except StewardError:
            raise
        except Exception as e:  # boto, aiohttp and fsspec raise many kinds
            raise self.unavailable(e) from e

    return wrapper  # type: ignore[return-value]


class FsspecStore:
    kind = "fsspec"

    def __init__(self, location: str, project_root: str):
        self.url = location.rstrip("/")
        self.root = self.url
        scheme, _, rest = self.url.partition("://")
        self.fs: Any
        if scheme in ("s3", "s3a"):
            from steward.store.s3 import ArrowS3

            self.fs, base = ArrowS3(), rest
        else:
            try:
                import fsspec

                self.fs, base = fsspec.core.url_to_fs(self.url)
            except (ImportError, ValueError) as e:
                from steward.core.errors import ConfigError

                raise ConfigError(f"store {location!r}: {e}; install the fsspec package "
                                  "that serves this scheme") from None
        self.base = base.rstrip("/")
        import xxhash

        tag = xxhash.xxh64_hexdigest(self.url.encode())
        state = os.path.join(project_root, ".steward")
        self.cache_root = os.path.join(state, "cache", "store", tag)
        self.local_scratch = os.path.join(state, SCRATCH)
        self._listing: dict[str, list[FileEntry]] | None = None
        self.fsync = False

    # -- reaching the store ----------------------------------------------------------
    def unavailable(self, e: BaseException) -> StoreUnavailable:
        name = type(e).__name__
        text = str(e).strip() or name
        endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
        denied = ("AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch", "Forbidden",
                  "ACCESS_DENIED", "INVALID_ACCESS_KEY_ID", "SIGNATURE_DOES_NOT_MATCH")
        if isinstance(e, PermissionError) or any(d in text for d in denied) \
                or "credentials" in text.lower():
            return StoreUnavailable(self.url, f"access denied ({text})",
                                    "check the credentials (AWS_ACCESS_KEY_ID and "
                                    "AWS_SECRET_ACCESS_KEY, or AWS_PROFILE) and the bucket policy")
        if isinstance(e, FileNotFoundError) and "bucket" in text.lower():
            bucket = self.base.split("/", 1)[0]
            return StoreUnavailable(self.url, f"the bucket {bucket!r} does not exist",
                                    f"create it (aws s3 mb s3://{bucket}) or correct `store:` "
                                    "in steward.yaml")
        if "connect" in name.lower() or "connect" in text.lower() or isinstance(e, TimeoutError):
            where = f" at {endpoint}" if endpoint else ""
            return StoreUnavailable(self.url, f"the object store{where} cannot be reached "
                                    f"({text})", "check the network and AWS_ENDPOINT_URL; "
                                    "nothing was changed")
        return StoreUnavailable(self.url, f"{name}: {text}")

    @remote
    def check(self) -> None:
        """Fail now, with one clear message, when the store cannot be used."""
        bucket = self.base.split("/", 1)[0]
        try:
            self.fs.info(bucket)  # (exists() would hide an unreachable endpoint)
        except FileNotFoundError:
            raise self.unavailable(FileNotFoundError(f"bucket {bucket} does not exist")) \
                from None

    # -- keys ---------------------------------------------------------------------
    def version_key(self, product: str, version_id: str) -> str:
        return f"{product}/{version_id}"

    def _remote(self, key: str) -> str:
        if key.startswith("/") or ".." in key.split("/"):
            raise ValueError(f"invalid store key {key!r}")
        return f"{self.base}/{key}"

    def path(self, key: str) -> str:
        """A local copy of ``key`` (a version folder or one file), downloaded once."""
        return self.local(key)

    @remote
    def local(self, key: str, fresh: bool = False) -> str:
        if os.path.isabs(key):
            return key  # a local folder already (a build's scratch folder)
        target = os.path.join(self.cache_root, *key.split("/"))
        if os.path.exists(target) and not fresh:
            return target
        remote = self._remote(key)
        if not self.fs.exists(remote):
            return target  # (missing: the callers say so)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        tmp = f"{target}.{uuid.uuid4().hex[:8]}.part"
        if self.fs.isdir(remote):
            self.fs.get(remote + "/", tmp + "/", recursive=True)
        else:
            self.fs.get(remote, tmp)
        if os.path.exists(target):
            shutil.rmtree(target, ignore_errors=True) if os.path.isdir(target) \
                else os.remove(target)
        os.replace(tmp, target)
        return target

    # -- writing ------------------------------------------------------------------
    def new_scratch(self) -> str:
        path = os.path.join(self.local_scratch, uuid.uuid4().hex)
        os.makedirs(os.path.join(path, DATA_DIR))
        return path

    @remote
    def publish(self, scratch: str, product: str, version_id: str) -> str:
        key = self.version_key(product, version_id)
        remote = self._remote(key)
        # file by file, data last: a version's objects are complete before any row names
        # them, and a run killed in between leaves objects only gc looks at
        for dirpath, _dirs, names in sorted(os.walk(scratch), key=lambda t: DATA_DIR in t[0]):
            rel = os.path.relpath(dirpath, scratch)
            for name in sorted(names):
                dest = f"{remote}/{name}" if rel == "." else \
                    f"{remote}/{rel.replace(os.sep, '/')}/{name}"
                self.fs.put_file(os.path.join(dirpath, name), dest)
                faults.point("store.mid_upload")
        # the scratch folder is what was uploaded: it becomes the cached copy
        target = os.path.join(self.cache_root, *key.split("/"))
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(scratch, target)
        self._listing = None
        return key

    def side(self, key: str, run: str) -> tuple[str, str]:
        """(a local folder to write into, the key it is kept under) for what a later
        check run keeps beside version ``key``; :meth:`commit_side` uploads it."""
        side_key = f"{SIDE}/{key}/{run}"
        return os.path.join(self.local_scratch, "side-" + uuid.uuid4().hex), side_key

    @remote
    def commit_side(self, local: str, side_key: str) -> None:
        if os.path.isdir(local) and os.listdir(local):
            self.fs.put(local + "/", self._remote(side_key) + "/", recursive=True)
            target = os.path.join(self.cache_root, *side_key.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            shutil.rmtree(target, ignore_errors=True)
            os.replace(local, target)
        else:
            shutil.rmtree(local, ignore_errors=True)

    # -- reading ------------------------------------------------------------------
    @remote
    def _all(self) -> dict[str, list[FileEntry]]:
        """Every version folder's data files, from one recursive listing of the store."""
        if self._listing is None:
            out: dict[str, list[FileEntry]] = {}
            try:
                found = self.fs.find(self.base, detail=True)
            except FileNotFoundError:
                self.check()  # a missing bucket is an error, an empty prefix is not
                found = {}
            for name, info in found.items():
                rel = name[len(self.base) + 1:] if name.startswith(self.base + "/") else name
                parts = rel.split("/")
                if len(parts) < 3 or parts[0].startswith("."):
                    continue
                key = f"{parts[0]}/{parts[1]}"
                entries = out.setdefault(key, [])
                if len(parts) == 4 and parts[2] == DATA_DIR and parts[3].endswith(".parquet"):
                    entries.append(FileEntry(parts[3], int(info.get("size") or 0)))
            self._listing = out
        return self._listing

    def refresh(self) -> None:
        """Forget the listing (the next question lists the store again)."""
        self._listing = None

    def manifests(self, keys: Iterable[str]) -> dict[str, list[FileEntry] | None]:
        listing = self._all()
        return {k: sorted(listing[k], key=lambda e: e.name) if k in listing else None
                for k in keys}

    def data_files(self, key: str, fresh: bool = False) -> list[str]:
        folder = self.local(key, fresh=fresh)
        data = os.path.join(folder, DATA_DIR)
        if not os.path.isdir(data):
            return []
        return sorted(os.path.join(data, f) for f in os.listdir(data) if f.endswith(".parquet"))

    def manifest(self, key: str) -> list[FileEntry]:
        return self.manifests([key])[key] or []

    @remote
    def exists(self, key: str) -> bool:
        return key in self._all() or self.fs.exists(self._remote(key))

    @remote
    def size(self, key: str) -> int:
        try:
            return int(self.fs.du(self._remote(key)))
        except FileNotFoundError:
            return 0

    def version_folders(self) -> list[str]:
        return sorted(self._all())

    @remote
    def side_runs(self, key: str) -> list[str]:
        remote = self._remote(f"{SIDE}/{key}")
        try:
            found = self.fs.ls(remote, detail=False)
        except FileNotFoundError:
            return []
        return sorted(str(f).rstrip("/").rsplit("/", 1)[-1] for f in found)

    def writable(self) -> bool:
        return True  # an object store refuses a write when it is attempted

    # -- deleting -----------------------------------------------------------------
    @remote
    def delete(self, key: str) -> None:
        remote = self._remote(key)
        if self.fs.exists(remote):
            self.fs.rm(remote, recursive=True)
        shutil.rmtree(os.path.join(self.cache_root, *key.split("/")), ignore_errors=True)
        self._listing = None

    @remote
    def delete_side(self, key: str) -> None:
        remote = self._remote(f"{SIDE}/{key}")
        if self.fs.exists(remote):
            self.fs.rm(remote, recursive=True)

    def clean_scratch(self) -> int:
        if not os.path.isdir(self.local_scratch):
            return 0
        n = 0
        for name in os.listdir(self.local_scratch):
            shutil.rmtree(os.path.join(self.local_scratch, name), ignore_errors=True)
            n += 1
        return n

    # -- small files at the root ----------------------------------------------------
    @remote
    def read_meta(self, name: str) -> bytes | None:
        try:
            return bytes(self.fs.cat_file(f"{self.base}/{META}/{name}"))
        except FileNotFoundError:
            return None

    @remote
    def write_meta(self, name: str, data: bytes) -> None:
        self.fs.pipe_file(f"{self.base}/{META}/{name}", data)

    def local_root(self) -> str:
        """The local folder every file handed out lives under (the read-through cache)."""
        os.makedirs(self.cache_root, exist_ok=True)
        return self.cache_root
