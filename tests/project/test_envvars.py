"""``${VAR}`` and ``${VAR:-default}`` in steward.yaml and sources/*.yml."""

from __future__ import annotations

from pathlib import Path

import pytest

from steward.context import Context
from steward.core.errors import ConfigError
from steward.project.envvars import expand_text
from steward.project.loader import load_project
from tests.conftest import steward, write


def test_expand_text_forms():
    env = {"A": "x", "EMPTY": ""}
    assert expand_text("${A}/${B:-d}/${EMPTY:-e}/$${A}", env) == ("x/d/e/${A}", [])
    assert expand_text("no refs, $5 and $A", env) == ("no refs, $5 and $A", [])
    _, errors = expand_text("${MISSING}", env)
    assert errors == ["the environment variable MISSING is not set (${MISSING})"]
    _, errors = expand_text("${A", env)
    assert "is not closed" in errors[0]
    _, errors = expand_text("${1A}", env)
    assert "does not name an environment variable" in errors[0]


def test_a_source_path_and_the_store_come_from_the_environment(
        starter: Path, monkeypatch: pytest.MonkeyPatch):
    (starter / "data" / "other.csv").write_text(
        "order_id,customer,amount,ordered_at\n9,Zed,1.0,2026-02-01 00:00:00\n")
    raw = starter / "sources" / "raw.yml"
    raw.write_text(raw.read_text().replace("path: data/orders.csv",
                                           "path: ${ORDERS_FILE:-data/orders.csv}"))
    text = (starter / "steward.yaml").read_text()
    write(starter, "steward.yaml", text + "store: ${STORE_DIR:-.steward/store}\n")
    monkeypatch.delenv("ORDERS_FILE", raising=False)
    monkeypatch.delenv("STORE_DIR", raising=False)
    p = load_project(str(starter))
    assert p.products["raw.orders"].spec_dump["path"] == "data/orders.csv"
    assert p.spec_dump["store"] == ".steward/store"
    # the project cache must not hide a changed variable
    monkeypatch.setenv("ORDERS_FILE", "data/other.csv")
    monkeypatch.setenv("STORE_DIR", "shared-store")
    p = load_project(str(starter))
    assert p.products["raw.orders"].spec_dump["path"] == "data/other.csv"
    assert p.spec_dump["store"] == "shared-store"
    ctx = Context(starter)
    assert ctx.run().ok
    assert ctx.sql("select count(*) as n from raw.orders").to_pylist() == [{"n": 1}]
    assert (starter / "shared-store").is_dir()


def test_a_missing_variable_is_an_error_at_its_line(starter: Path,
                                                    monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("STEWARD_NO_SUCH_VAR", raising=False)
    write(starter, "steward.yaml", "name: starter\nenvironments:\n  default: prod\n"
                                   "metastore: ${STEWARD_NO_SUCH_VAR}\n")
    raw = starter / "sources" / "raw.yml"
    raw.write_text(raw.read_text().replace("path: data/orders.csv",
                                           "path: data/${STEWARD_NO_SUCH_VAR}.csv"))
    with pytest.raises(ConfigError) as e:
        load_project(str(starter))
    text = str(e.value)
    assert "steward.yaml:4: the environment variable STEWARD_NO_SUCH_VAR is not set" in text
    assert "sources/raw.yml:3: the environment variable STEWARD_NO_SUCH_VAR is not set" in text
    assert "${NAME:-value}" in text
    code, out, err = steward(starter, "run")
    assert code == 2 and "Traceback" not in err
    assert "steward.yaml:4: the environment variable STEWARD_NO_SUCH_VAR is not set" in err
    assert not (starter / ".steward" / "meta.db").exists()  # nothing was started
    # set, the metastore line gets the value
    code, _, err = steward(starter, "run", env={"STEWARD_NO_SUCH_VAR": "orders"})
    assert code == 2 and "steward.yaml:4: cannot open the metastore 'orders'" in err
    # with defaults, the same project runs without the variable
    write(starter, "steward.yaml", "name: starter\nenvironments:\n  default: prod\n"
                                   "metastore: ${STEWARD_NO_SUCH_VAR:-sqlite:///.steward/m.db}\n")
    raw.write_text(raw.read_text().replace("data/${STEWARD_NO_SUCH_VAR}.csv",
                                           "data/${STEWARD_NO_SUCH_VAR:-orders}.csv"))
    code, _, err = steward(starter, "run")
    assert code == 0, err
    assert (starter / ".steward" / "m.db").exists()


def test_a_metastore_url_with_its_password_in_the_environment(
        starter: Path, pg: object, monkeypatch: pytest.MonkeyPatch):
    url = pg.url(pg.create_database())  # type: ignore[attr-defined]
    user_host = url.split("://", 1)[1].split(":", 1)[0]
    password = url.split(":")[2].split("@")[0]
    monkeypatch.setenv("PGPASS_TEST", password)
    templated = url.replace(password, "${PGPASS_TEST}")
    lines = (starter / "steward.yaml").read_text().splitlines()
    lines = [ln for ln in lines if not ln.startswith("metastore:")]
    write(starter, "steward.yaml", "\n".join([*lines, f"metastore: {templated}", ""]))
    assert user_host == "steward"
    ctx = Context(starter)
    assert ctx.run().ok
    assert ctx.metastore.sa_engine.dialect.name == "postgresql"
    assert password not in (starter / "steward.yaml").read_text()
    monkeypatch.setenv("PGPASS_TEST", "wrong")
    code, _, err = steward(starter, "ls")
    assert code == 2 and "password authentication failed" in err
    assert "wrong" not in err and password not in err
