"""The benchmark generator writes equivalent Steward and dbt projects of the asked size."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from generate import dag, edit_leaf, generate, leaves  # noqa: E402

from steward.context import Context  # noqa: E402


def test_dag_shape() -> None:
    nodes = dag(300)
    assert [n.name for n in nodes][:2] == ["p0001", "p0002"]
    assert all(1 <= len(n.parents) <= 2 for n in nodes)
    names = {n.name for n in nodes}
    seen: set[str] = {"seed"}
    for n in nodes:  # topological: parents come first
        assert set(n.parents) <= seen
        seen.add(n.name)
    assert any(len(n.parents) == 2 for n in nodes)
    assert 0 < len(leaves(nodes)) < len(names)


def test_projects_match_and_a_leaf_edit_rebuilds_one(tmp_path: Path) -> None:
    st, dbt, nodes = generate(12, str(tmp_path / "b"), threads=2)
    assert len(list(Path(dbt, "models").glob("p*.sql"))) == 12
    assert "{{ ref(" in Path(dbt, "models", "p0002.sql").read_text()
    ctx = Context(st)
    assert len(ctx.project.products) == 13
    first = ctx.run()
    assert first.ok
    assert all(v.row_count == 1000 for v in ctx.current().values())
    leaf = leaves(nodes)[-1]
    edit_leaf(st, dbt, nodes, leaf, constant=-1)
    again = Context(st).run()
    assert sorted(s.product for s in again.steps if s.status == "built") == [f"m.{leaf}"]


def test_the_real_and_decimal_variants_build_with_their_types(tmp_path: Path) -> None:
    st, _, nodes = generate(30, str(tmp_path / "r"), threads=2, variant="real")
    assert nodes[4].agg and not any(nodes[4].name in n.parents for n in nodes)
    ctx = Context(st)
    assert ctx.run().ok
    current = ctx.current()
    types = {c.name: c.type for c in current["m.p0001"].schema}
    assert types == {"id": "BIGINT", "grp": "VARCHAR", "amount": "DECIMAL(12,2)",
                     "score": "DOUBLE", "day": "DATE", "ts": "TIMESTAMP", "flag": "BOOLEAN"}
    assert current["m.p0005"].row_count < 1000  # an aggregation
    from steward.meta import profiles as mp

    prof = mp.load_profile(ctx.metastore, current["m.p0001"].id)
    assert prof["engine"] == "arrow" and prof["columns"]["amount"]["nulls"] > 0
    st, _, _ = generate(5, str(tmp_path / "d"), threads=2, variant="decimal")
    ctx = Context(st)
    assert ctx.run().ok
    assert [c.type for c in ctx.current()["m.p0003"].schema] == [
        "INTEGER", "VARCHAR", "DECIMAL(18,3)"]
