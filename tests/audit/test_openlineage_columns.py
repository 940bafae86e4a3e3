"""OpenLineage column lineage with transformation types, indirect lineage, file inputs
and quantiles; every event still rebuilt through the official classes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from steward.audit.openlineage import QUANTILES
from steward.context import Context
from tests.audit.test_openlineage import _events, assert_conforms


def _done(events: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(e for e in events if e["job"]["name"] == name and e["eventType"] == "COMPLETE")


def _subtypes(field: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    return [(i["name"], i["field"], t["type"], t["subtype"])
            for i in field["inputFields"] for t in i["transformations"]]


def _dataset(facet: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {(i["name"], i["field"], t["subtype"]) for i in facet["dataset"]
            for t in i["transformations"] if t["type"] == "INDIRECT"}


def test_transformation_types_and_indirect_lineage(starter: Path) -> None:
    (starter / "models" / "marts" / "big_customers.sql").write_text(
        "select o.order_id, o.customer, c.n\n"
        "from staging.orders o\n"
        "join (select customer, count(*) as n from staging.orders group by customer) c\n"
        "  on o.customer = c.customer\n"
        "where o.amount > 10\n")
    assert Context(starter).run().ok
    events = _events(starter)
    for e in events:
        assert_conforms(e)

    revenue = _done(events, "marts.daily_revenue")["outputs"][0]["facets"]["columnLineage"]
    fields = revenue["fields"]
    assert _subtypes(fields["order_date"]) == [
        ("staging.orders", "order_date", "DIRECT", "IDENTITY")]
    assert fields["order_date"]["transformationType"] == "IDENTITY"
    assert _subtypes(fields["revenue"]) == [
        ("staging.orders", "amount", "DIRECT", "AGGREGATION")]
    assert "transformationType" not in fields["revenue"]
    # count(*) reads no column: the rows it counts are shaped by the GROUP BY
    assert _subtypes(fields["orders"]) == [
        ("staging.orders", "order_date", "INDIRECT", "GROUP_BY")]
    assert _dataset(revenue) == {("staging.orders", "order_date", "GROUP_BY"),
                                 ("staging.orders", "order_date", "SORT")}

    staging = _done(events, "staging.orders")["outputs"][0]["facets"]["columnLineage"]
    assert _subtypes(staging["fields"]["order_date"]) == [
        ("raw.orders", "ordered_at", "DIRECT", "TRANSFORMATION")]
    assert _subtypes(staging["fields"]["amount"]) == [
        ("raw.orders", "amount", "DIRECT", "IDENTITY")]
    assert _dataset(staging) == {("raw.orders", "amount", "FILTER")}

    joined = _done(events, "marts.big_customers")["outputs"][0]["facets"]["columnLineage"]
    assert _dataset(joined) == {("staging.orders", "customer", "JOIN"),
                                ("staging.orders", "customer", "GROUP_BY"),
                                ("staging.orders", "amount", "FILTER")}
    assert _subtypes(joined["fields"]["customer"]) == [
        ("staging.orders", "customer", "DIRECT", "IDENTITY")]


def test_file_sources_are_input_datasets_and_metrics_carry_quantiles(starter: Path) -> None:
    ctx = Context(starter)
    assert ctx.run().ok
    events = _events(starter)
    raw = _done(events, "raw.orders")
    assert [(i["namespace"], i["name"]) for i in raw["inputs"]] == [
        ("file://", str((starter / "data" / "orders.csv").resolve()))]
    start = next(e for e in events if e["job"]["name"] == "raw.orders"
                 and e["eventType"] == "START")
    assert [i["name"] for i in start["inputs"]] == [raw["inputs"][0]["name"]]

    metrics = _done(events, "staging.orders")["outputs"][0]["facets"]["dataQualityMetrics"]
    amount = metrics["columnMetrics"]["amount"]["quantiles"]
    assert list(amount) == [str(q) for q in QUANTILES]
    assert amount["0.01"] >= 5.25 and amount["0.99"] <= 99.0
    assert amount["0.01"] <= amount["0.5"] <= amount["0.99"]
    assert metrics["columnMetrics"]["customer"]["quantiles"] == {}  # text: none
    for e in events:
        assert_conforms(e)


def test_quantiles_match_the_profile() -> None:
    from steward.profile.compute import QUANTILES as PROFILED

    assert QUANTILES == PROFILED
