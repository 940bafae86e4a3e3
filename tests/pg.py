"""A throwaway PostgreSQL cluster for the tests: ``initdb`` and ``pg_ctl`` in a temporary
folder, listening on a free port of 127.0.0.1.

One cluster per test process (each pytest-xdist worker starts its own), started the
first time a test asks for it and stopped when the process ends; every test gets its own
database. ``scripts/system-deps.sh`` installs Debian's ``postgresql`` when ``initdb`` is
missing. PostgreSQL refuses to run as root: as root, the cluster runs as the
``postgres`` user the package creates.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass

USER = "steward"
PASSWORD = "s3cret-pw"
START_TIMEOUT = 60  # seconds pg_ctl waits for the server to accept connections


@dataclass
class Cluster:
    """A running cluster: ``url(db)`` is a SQLAlchemy URL of one of its databases."""

    host: str
    port: int
    data: str
    bindir: str
    as_user: str | None

    def url(self, db: str, driver: str = "postgresql+psycopg", password: str = PASSWORD
            ) -> str:
        return f"{driver}://{USER}:{password}@{self.host}:{self.port}/{db}"

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its name."""
        import psycopg

        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.url("postgres", "postgresql"), autocommit=True,
                             connect_timeout=10) as con:
            con.execute(f'CREATE DATABASE "{name}"')
        return name

    def stop(self) -> None:
        _run(self, [os.path.join(self.bindir, "pg_ctl"), "-D", self.data, "-m", "immediate",
                    "-w", "-t", "30", "stop"], check=False)
        shutil.rmtree(os.path.dirname(self.data), ignore_errors=True)


def bindir() -> str:
    """The folder holding ``initdb`` and ``pg_ctl`` (Debian keeps them out of PATH)."""
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(os.path.realpath(found))
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not candidates:
        raise RuntimeError("PostgreSQL is not installed: run scripts/system-deps.sh "
                           "(it installs Debian's postgresql package)")
    return os.path.dirname(candidates[-1])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(c: Cluster, args: list[str], check: bool = True, timeout: float = 90
         ) -> subprocess.CompletedProcess[str]:
    if c.as_user:
        args = ["runuser", "-u", c.as_user, "--", *args]
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed ({p.returncode}):\n{p.stdout}\n{p.stderr}")
    return p


def start() -> Cluster:
    """initdb a new cluster in a temporary folder and start it; stopped at exit."""
    as_user = "postgres" if os.geteuid() == 0 else None
    top = tempfile.mkdtemp(prefix="steward-pg-")
    data = os.path.join(top, "data")
    os.makedirs(data)
    if as_user:
        pw = pwd.getpwnam(as_user)
        for path in (top, data):
            os.chown(path, pw.pw_uid, pw.pw_gid)
        os.chmod(top, 0o755)
    c = Cluster("127.0.0.1", 0, data, bindir(), as_user)
    pwfile = os.path.join(top, "pw")
    with open(pwfile, "w") as f:
        f.write(PASSWORD + "\n")
    if as_user:
        os.chown(pwfile, pwd.getpwnam(as_user).pw_uid, -1)
    _run(c, [os.path.join(c.bindir, "initdb"), "-D", data, "-U", USER, "--pwfile", pwfile,
             "--auth-host=scram-sha-256", "--auth-local=trust", "-E", "UTF8",
             "--locale=C", "--no-sync"])
    os.unlink(pwfile)
    for attempt in range(5):  # a port taken between the probe and the start: another one
        c.port = _free_port()
        opts = (f"-c listen_addresses=127.0.0.1 -c port={c.port} "
                f"-c unix_socket_directories={top} -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        p = _run(c, [os.path.join(c.bindir, "pg_ctl"), "-D", data, "-l",
                     os.path.join(top, "log"), "-o", opts, "-w", "-t", str(START_TIMEOUT),
                     "start"], check=False, timeout=START_TIMEOUT + 30)
        if p.returncode == 0:
            break
        if attempt == 4:
            log = open(os.path.join(top, "log")).read()[-2000:]  # noqa: SIM115
            raise RuntimeError(f"PostgreSQL did not start:\n{p.stderr}\n{log}")
    _wait_ready(c)
    atexit.register(c.stop)
    return c


def _wait_ready(c: Cluster, deadline_s: float = 30) -> None:
    import psycopg

    deadline = time.monotonic() + deadline_s
    while True:
        try:
            with psycopg.connect(c.url("postgres", "postgresql"), connect_timeout=5):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


_CLUSTER: Cluster | None = None


def cluster() -> Cluster:
    """This process's cluster, started on first use."""
    global _CLUSTER
    if _CLUSTER is None:
        _CLUSTER = start()
    return _CLUSTER
