"""schemathesis over the OpenAPI document: no generated request gets a server error."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from srvhelpers import Shop

pytestmark = pytest.mark.slow
EXAMPLES = 20


def test_no_generated_input_makes_a_server_error(shop: Shop) -> None:
    from steward.server.serve import make_app
    from steward.server.state import Settings

    app, state = make_app(str(shop.root), Settings(watch=False))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    seen: dict[str, int] = {}
    try:
        for result in schema.get_all_operations():
            operation = result.ok()
            call = _caller(operation, shop, seen)
            call()
    finally:
        state.stop()
    assert len(seen) >= 25  # every operation was exercised
    assert "POST /api/v1/promote" in seen and "GET /api/v1/products/{name}" in seen


def _caller(operation: Any, shop: Shop, seen: dict[str, int]) -> Any:
    label = f"{operation.method.upper()} {operation.path}"

    @settings(max_examples=EXAMPLES, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy())
    def call(case: Any) -> None:
        # a viewer: every read answered, every write refused before it does anything;
        # and an admin with the pii permission for the reads
        users = ("vic", "ada") if operation.method.upper() == "GET" else ("vic",)
        for user in users:
            response = case.call(headers=shop.auth(user))
            assert response.status_code < 500, (label, user, case.path_parameters,
                                                case.query, case.body, response.text[:300])
        seen[label] = seen.get(label, 0) + 1

    return call
