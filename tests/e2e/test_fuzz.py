"""Schemathesis fuzzes both GraphQL endpoints of a running server from their exported
schemas: whatever the query, no 5xx and no internal error (masked or not)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCHEMAS = Path(__file__).parents[2] / "schema"
EXAMPLES = 25

nodes = schemathesis.graphql.nodes
schemathesis.graphql.scalar("Quantity", st.integers(min_value=-5, max_value=20).map(nodes.Int))
schemathesis.graphql.scalar("JSON", st.just(nodes.Object([])))
schemathesis.graphql.scalar(
    "DateTime",
    st.sampled_from(["2026-11-23T10:00:00+08:00", "2020-01-01T00:00:00Z", "nonsense"]).map(
        nodes.String
    ),
)
schemathesis.graphql.scalar(
    "Date", st.sampled_from(["2026-11-23", "1999-12-31", "31/12"]).map(nodes.String)
)


def _check(response: Any) -> None:
    assert response.status_code < 500, response.text
    body = response.text
    assert "Internal error" not in body, body
    assert "Traceback" not in body, body


@pytest.mark.parametrize(("path", "sdl"), [("/graphql", "schema"), ("/admin/graphql", "admin")])
def test_no_query_breaks_the_server(server: str, path: str, sdl: str) -> None:
    schema = schemathesis.graphql.from_path(SCHEMAS / f"{sdl}.graphql")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations
    strategy = st.one_of(*(operation.as_strategy() for operation in operations))

    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES * len(operations) // 4,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    def fuzz(case: Any) -> None:
        _check(case.call(base_url=f"{server}{path}"))

    fuzz()
    # The cases did reach the server, and it counted each.
    metrics = httpx.get(f"{server}/metrics").text
    endpoint = "staff" if path.startswith("/admin") else "member"
    sent = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("member_api_graphql_requests_total{")
        and f'endpoint="{endpoint}"' in line
    )
    print(f"{path}: {sent:.0f} requests for {len(operations)} operations")
    assert sent >= len(operations), (sent, len(operations))
