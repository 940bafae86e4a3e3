"""Shared fixtures: small real projects in temporary folders."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from steward.cli.scaffold import scaffold

BIN = Path(sys.executable).parent


# Runs `steward ARGS` in a new process the way the executable does, then reports on stderr
# which heavy libraries the command imported and its exit code.
PROBE = """
import json, sys
sys.argv = ["steward", *json.loads(sys.argv[1])]
from steward.cli.entry import main
try:
    main()
except SystemExit as e:
    code = e.code
else:
    code = 0
sys.stdout.flush()
heavy = sorted(m for m in ("typer", "click", "pydantic", "rich", "sqlalchemy")
               if m in sys.modules)
sys.stderr.write("\\nIMPORTED=%s CODE=%s\\n" % (",".join(heavy) or "-", code))
"""


def steward_process(root: Path, *args: str, env: dict[str, str] | None = None
                    ) -> tuple[list[str], int, str, str]:
    """(heavy modules imported, exit code, stdout, stderr) of ``steward ARGS`` in ``root``.

    ``env`` adds to the environment; a value of None removes that variable.
    """
    full = {**os.environ, **(env or {})}
    p = subprocess.run([sys.executable, "-c", PROBE, json.dumps(list(args))], cwd=root,
                       capture_output=True, text=True, timeout=120,
                       env={k: v for k, v in full.items() if v is not None})
    last = p.stderr.strip().splitlines()[-1]
    assert last.startswith("IMPORTED="), p.stderr
    imported = [m for m in last.split()[0].removeprefix("IMPORTED=").split(",") if m != "-"]
    code = last.split("CODE=")[1]
    return imported, 0 if code == "None" else int(code), p.stdout, p.stderr[:-len(last) - 2]


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# STEWARD_TEST_METASTORE=postgres: the projects the tests make keep their state in a
# database of a throwaway PostgreSQL cluster instead of .steward/meta.db (make test runs
# the metastore-facing tests a second time so)
ON_POSTGRES = os.environ.get("STEWARD_TEST_METASTORE", "sqlite") == "postgres"


@pytest.fixture(scope="session")
def pg() -> Any:
    """This test process's PostgreSQL cluster (tests/pg.py), started on first use."""
    from tests import pg as pgmod

    return pgmod.cluster()


@pytest.fixture
def pg_url(pg: Any) -> str:
    """A SQLAlchemy URL of a new, empty database of the test cluster."""
    return str(pg.url(pg.create_database()))


def use_test_metastore(root: Path) -> None:
    """On the PostgreSQL pass, point ``root``'s steward.yaml at a new database."""
    if not ON_POSTGRES:
        return
    from tests import pg as pgmod

    c = pgmod.cluster()
    path = root / "steward.yaml"
    first, rest = path.read_text().split("\n", 1)  # (tests append to the end)
    path.write_text(f"{first}\nmetastore: {c.url(c.create_database())}\n{rest}")


@pytest.fixture
def starter(tmp_path: Path) -> Path:
    """The project `steward init` makes: raw.orders -> staging.orders -> marts.daily_revenue."""
    root = tmp_path / "proj"
    scaffold(root, "starter")
    use_test_metastore(root)
    return root


@pytest.fixture
def steward_cmd() -> list[str]:
    exe = BIN / "steward"
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "steward.cli.main"]


@pytest.fixture(autouse=True)
def _actor(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STEWARD_ACTOR", "tester")
    monkeypatch.setenv("COLUMNS", "200")
    os.environ.pop("NO_COLOR", None)


def published_state(root: Path) -> tuple[list[Any], list[Any], list[str]]:
    """What a failed command must leave alone: every environment pointer, every version's
    status and every file in the store (read with sqlite3, whatever the project says; on
    the PostgreSQL pass, from the database the project's steward.yaml names)."""
    import sqlite3

    url = _declared_postgres(root)
    if url is not None:
        import sqlalchemy as sa

        eng = sa.create_engine(url, poolclass=sa.pool.NullPool)
        try:
            with eng.connect() as c:
                pointers = sorted(tuple(r) for r in c.exec_driver_sql(
                    "SELECT env, product, version_id FROM env_pointers"))
                versions = sorted(tuple(r) for r in c.exec_driver_sql(
                    "SELECT id, status, check_status FROM versions"))
        finally:
            eng.dispose()
    else:
        con = sqlite3.connect(root / ".steward" / "meta.db")
        try:
            pointers = sorted(con.execute("SELECT env, product, version_id FROM env_pointers"))
            versions = sorted(con.execute("SELECT id, status, check_status FROM versions"))
        finally:
            con.close()
    store = root / ".steward" / "store"
    files = sorted(str(p.relative_to(store)) for p in store.rglob("*") if p.is_file())
    return pointers, versions, files


def _declared_postgres(root: Path) -> str | None:
    try:
        text = (root / "steward.yaml").read_bytes().decode("utf-8", "replace")
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("metastore: postgresql"):
            return line.split(":", 1)[1].strip()
    return None


class _Postgres:
    """A psycopg connection that takes sqlite3's ``?`` placeholders (tests' raw edits)."""

    def __init__(self, url: str):
        import psycopg

        self.con = psycopg.connect(url.replace("+psycopg", ""))

    def execute(self, sql: str, params: Any = ()) -> Any:
        return self.con.execute(sql.replace("?", "%s"), params)  # type: ignore[arg-type]

    def __enter__(self) -> _Postgres:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.con.__exit__(*exc)


def metastore_connection(root: Path) -> Any:
    """A DB-API connection to ``root``'s metastore (sqlite3, or psycopg on the PostgreSQL
    pass), for tests that change it behind Steward's back."""
    import sqlite3

    url = _declared_postgres(root)
    return sqlite3.connect(root / ".steward" / "meta.db") if url is None else _Postgres(url)


def steward(root: Path, *args: str, env: dict[str, str] | None = None
            ) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of the ``steward`` executable run in ``root``."""
    _, code, out, err = steward_process(root, *args, env=env)
    return code, out, err
