"""A real S3-compatible server (moto in server mode) on 127.0.0.1, one per test process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from steward.cli.scaffold import scaffold
from steward.store.s3 import ArrowS3


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_moto(extra_env: dict[str, str] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1",
                             "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, env={**os.environ, **(extra_env or {})})
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/moto-api/", timeout=1).close()
            return proc, url
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"the S3 test server did not start on {url}") from None
            time.sleep(0.1)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    proc, url = start_moto()
    try:
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


S3_ENV = {"AWS_ACCESS_KEY_ID": "steward-test", "AWS_SECRET_ACCESS_KEY": "steward-test",
          "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def s3_env(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The environment a process needs to reach the test server (also set in this one)."""
    env = {**S3_ENV, "AWS_ENDPOINT_URL": s3_server}
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    return env


def s3_client() -> ArrowS3:
    """Steward's own S3 client, on whatever endpoint the environment names."""
    return ArrowS3()


@pytest.fixture
def bucket(s3_env: dict[str, str]) -> str:
    name = "b-" + uuid.uuid4().hex[:12]
    ArrowS3(allow_bucket_creation=True).fs.create_dir(name)
    return name


@pytest.fixture
def s3_project(tmp_path: Path, bucket: str) -> Path:
    """The `steward init` project with its versions in s3://<bucket>/shop."""
    root = tmp_path / "proj"
    scaffold(root, "starter")
    with (root / "steward.yaml").open("a") as f:
        f.write(f"store: s3://{bucket}/shop\n")
    return root
