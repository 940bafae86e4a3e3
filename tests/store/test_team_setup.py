"""The team setup: two checkouts (two machines) sharing a PostgreSQL metastore and an S3
bucket see the same versions and environments, and never mix their pointers."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from steward.context import Context
from tests.conftest import steward, write


def test_two_checkouts_share_one_metastore_and_one_bucket(s3_project: Path, pg_url: str,
                                                          tmp_path: Path):
    with (s3_project / "steward.yaml").open("a") as f:
        f.write("metastore: ${TEAM_METASTORE}\n")
    env = {"TEAM_METASTORE": pg_url}
    os.environ["TEAM_METASTORE"] = pg_url
    try:
        alice = s3_project
        bob = tmp_path / "bob"
        shutil.copytree(alice, bob)

        assert Context(alice).run().ok
        built = {n: v.id for n, v in Context(alice).current().items()}
        # bob's machine builds nothing: everything is already in the shared state
        r = Context(bob).run()
        assert r.ok and not [s for s in r.steps if s.status == "built"]
        assert {n: v.id for n, v in Context(bob).current().items()} == built
        assert not (bob / ".steward" / "meta.db").exists()

        # bob changes a model in a PR environment; alice sees the environment and its data
        write(bob, "models/staging/orders.sql",
              (bob / "models/staging/orders.sql").read_text().replace("> 0", "> 10"))
        assert Context(bob).run(env="pr-7").ok
        code, out, err = steward(alice, "sql", "select count(*) as n from staging.orders",
                                 "--env", "pr-7", "--json", env=env)
        assert code == 0, err
        assert '"n": 3' in out  # (amounts above 10)
        # prod is untouched until promoted, then both see the promotion
        assert {n: v.id for n, v in Context(alice).current().items()} == built
        code, out, err = steward(alice, "promote", "pr-7", "prod", env=env)
        assert code == 0, out + err
        assert Context(bob).current()["staging.orders"].id != built["staging.orders"]
        code, out, err = steward(bob, "verify", env=env)
        assert code == 0, out + err
        code, out, err = steward(alice, "audit", "verify", env=env)
        assert code == 0, out + err
    finally:
        os.environ.pop("TEAM_METASTORE", None)
