"""`steward check`, `steward check show` and `steward show` with stored results."""

from __future__ import annotations

import json
import threading

from qhelpers import base_files, write
from typer.testing import CliRunner

from steward.cli.main import app
from steward.context import Context
from steward.meta.checks import results_for


def invoke(root, *args):
    return CliRunner().invoke(app, [*args, "--project", str(root)])


def test_check_runs_on_current_versions_without_building(project):
    root = project(base_files("columns:\n  order_id: {checks: [unique]}\n"))
    ctx = Context(root)
    assert ctx.run().ok
    v = ctx.current()["staging.orders"]
    n_versions = len(ctx.metastore.versions())
    # a new warn check, added without rebuilding: metadata only
    write(root, {"models/staging/orders.yml": """\
        columns:
          order_id: {checks: [unique]}
          status: {checks: [{accepted_values: {values: [paid], severity: warn}}]}
        """})
    out = invoke(root, "check", "--json")
    assert out.exit_code == 0, out.output
    data = {r["product"]: r for r in json.loads(out.output)}
    assert data["staging.orders"]["version"] == v.id
    assert data["staging.orders"]["status"] == "warn"
    ctx = Context(root)
    assert len(ctx.metastore.versions()) == n_versions  # nothing was built
    assert ctx.current()["staging.orders"].check_status == "warn"
    names = {r.name for r in results_for(ctx.metastore, v.id)}
    assert {"unique_order_id", "accepted_values_status", "contract"} <= names


def test_check_exits_nonzero_on_error_failures_and_selects(project):
    root = project(base_files())
    assert Context(root).run().ok
    write(root, {"models/staging/orders.yml": "columns:\n  customer: {checks: [not_null]}\n"})
    out = invoke(root, "check", "staging.orders")
    assert out.exit_code == 1
    assert "not_null_customer" in out.output and "1 of 5 rows fails" in out.output
    assert "raw.orders" not in out.output  # only the selection
    show = invoke(root, "check", "show", "staging.orders")
    assert show.exit_code == 0
    assert "failing rows sample" in show.output
    text = invoke(root, "show", "staging.orders")
    assert "check results: 1/2 pass" in text.output


def test_check_show_json_and_unknown_product(project):
    root = project(base_files("columns:\n  amount: {checks: [{range: {min: 0}}]}\n"))
    Context(root).run()
    out = invoke(root, "check", "show", "staging.orders", "--json")
    data = json.loads(out.output)
    assert data["status"] == "failed" and not data["current"]
    res = {r["name"]: r for r in data["results"]}
    assert res["range_amount"]["sample_file"].endswith("checks/range_amount.parquet")
    bad = invoke(root, "check", "show", "staging.ordrs")
    assert bad.exit_code != 0


def test_twenty_products_are_checked_concurrently(project, monkeypatch):
    files = base_files()
    for i in range(20):
        files[f"models/many/m{i:02d}.sql"] = f"select order_id, amount + {i} as x from raw.orders\n"
        files[f"models/many/m{i:02d}.yml"] = "columns:\n  x: {checks: [not_null]}\n" \
                                             "checks:\n  - row_count: {min: 1}\n"
    root = project(files)
    ctx = Context(root)
    assert ctx.run().ok
    import steward.quality.service as service

    seen: set[str] = set()
    real = service.evaluate

    def spy(*a, **kw):
        seen.add(threading.current_thread().name)
        return real(*a, **kw)

    monkeypatch.setattr(service, "evaluate", spy)
    reports = Context(root).check(["domain:many"], workers=4)
    assert len(reports) == 20
    assert all(r.status == "pass" for r in reports)
    assert len(seen) > 1 and all(n.startswith("steward-check") for n in seen)
