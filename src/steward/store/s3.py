"""S3 through Arrow's own client (``pyarrow.fs.S3FileSystem``): the few filesystem calls
the object store uses, with fsspec's names so ``store/fsspec.py`` serves both.

pyarrow is already one of Steward's dependencies and its S3 client is C++: importing it
costs a fraction of s3fs/aiobotocore's import, which every command that opens the store
would pay (a no-op ``steward run`` included). Credentials come from the standard AWS
chain (``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, ``AWS_PROFILE``, ``~/.aws``);
the endpoint of an S3-compatible server from ``AWS_ENDPOINT_URL_S3`` or
``AWS_ENDPOINT_URL``, as the AWS tools read it.
"""

from __future__ import annotations

import os
from typing import Any
from urllib.parse import urlsplit

# a store that does not answer is reported after seconds, not after the SDK's minutes
CONNECT_TIMEOUT_S = 5
REQUEST_TIMEOUT_S = 60
ATTEMPTS = 2


def endpoint() -> str | None:
    return os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or None


class ArrowS3:
    """fsspec-named calls (info, find, get, put_file, ...) on Arrow's S3 filesystem."""

    def __init__(self, allow_bucket_creation: bool = False) -> None:
        import pyarrow.fs as pafs

        self._pafs = pafs
        options: dict[str, Any] = {}
        url = endpoint()
        if url:
            parts = urlsplit(url if "://" in url else f"https://{url}")
            options["endpoint_override"] = parts.netloc + parts.path.rstrip("/")
            options["scheme"] = parts.scheme or "https"
        region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
        if region:
            options["region"] = region
        self.fs = pafs.S3FileSystem(
            connect_timeout=CONNECT_TIMEOUT_S, request_timeout=REQUEST_TIMEOUT_S,
            retry_strategy=pafs.AwsStandardS3RetryStrategy(max_attempts=ATTEMPTS),
            allow_bucket_creation=allow_bucket_creation, **options)
        self.local = pafs.LocalFileSystem()

    def _info(self, path: str) -> Any:
        return self.fs.get_file_info(path.rstrip("/"))

    def info(self, path: str) -> dict[str, Any]:
        i = self._info(path)
        if i.type == self._pafs.FileType.NotFound:
            raise FileNotFoundError(path)
        return {"name": i.path, "size": i.size or 0,
                "type": "directory" if i.type == self._pafs.FileType.Directory else "file"}

    def exists(self, path: str) -> bool:
        return bool(self._info(path).type != self._pafs.FileType.NotFound)

    def isdir(self, path: str) -> bool:
        return bool(self._info(path).type == self._pafs.FileType.Directory)

    def _files(self, path: str) -> list[Any]:
        sel = self._pafs.FileSelector(path.rstrip("/"), recursive=True, allow_not_found=True)
        return [i for i in self.fs.get_file_info(sel) if i.type == self._pafs.FileType.File]

    def find(self, path: str, detail: bool = False) -> Any:
        """Every object under ``path`` (one recursive listing)."""
        found = {i.path: {"name": i.path, "size": i.size or 0} for i in self._files(path)}
        return found if detail else sorted(found)

    def ls(self, path: str, detail: bool = False) -> list[Any]:
        """The entries directly under ``path`` (FileNotFoundError when there are none)."""
        sel = self._pafs.FileSelector(path.rstrip("/"), recursive=False, allow_not_found=True)
        names = sorted(i.path for i in self.fs.get_file_info(sel))
        if not names:
            raise FileNotFoundError(path)
        return names

    def du(self, path: str) -> int:
        i = self._info(path)
        if i.type == self._pafs.FileType.File:
            return int(i.size or 0)
        return sum(int(f.size or 0) for f in self._files(path))

    def get(self, remote: str, local: str, recursive: bool = False) -> None:
        self._pafs.copy_files(remote.rstrip("/"), local.rstrip("/"), source_filesystem=self.fs,
                              destination_filesystem=self.local)

    def put_file(self, local: str, remote: str) -> None:
        self._pafs.copy_files(local, remote, source_filesystem=self.local,
                              destination_filesystem=self.fs)

    def put(self, local: str, remote: str, recursive: bool = False) -> None:
        self._pafs.copy_files(local.rstrip("/"), remote.rstrip("/"),
                              source_filesystem=self.local, destination_filesystem=self.fs)

    def rm(self, path: str, recursive: bool = False) -> None:
        i = self._info(path)
        if i.type == self._pafs.FileType.Directory:
            self.fs.delete_dir(path.rstrip("/"))
        elif i.type == self._pafs.FileType.File:
            self.fs.delete_file(path)

    def cat_file(self, path: str) -> bytes:
        with self.fs.open_input_stream(path) as f:
            return bytes(f.read())

    def pipe_file(self, path: str, data: bytes) -> None:
        with self.fs.open_output_stream(path) as f:
            f.write(data)
