"""Every operation leaves a log line and metrics; `/metrics` serves them for Prometheus."""

from __future__ import annotations

import dataclasses
import json
import logging

import httpx
import pytest

from member_api.app import create_app
from member_api.logs import JsonFormatter
from member_api.settings import Settings
from tests.commerce_support import new_member
from tests.support import gql, op

PHONE = "13900000001"


def sample(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus' text format."""
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None


async def test_metrics_count_operations_errors_cache_and_responses(
    client: httpx.AsyncClient, backend: str
) -> None:
    _, token = await new_member(client, PHONE)
    await gql(client, op("CheckIn"), token=token)
    await gql(client, op("CheckIn"), token=token)  # ALREADY_CHECKED_IN
    for _ in range(2):
        await gql(client, op("MemberCentre"), token=token)  # computed, then stored
    await gql(client, "{ me { tier { code } } }", token=token)  # the tier view, cached
    await gql(client, "{ nope }")
    text = (await client.get("/metrics")).text
    requests = "member_api_graphql_requests_total"
    assert sample(text, requests, endpoint="member", operation="CheckIn", outcome="ok") == 1
    assert sample(text, requests, endpoint="member", operation="CheckIn", outcome="error") == 1
    assert sample(text, requests, operation="MemberCentre", outcome="ok") == 2
    assert sample(text, "member_api_errors_total", code="ALREADY_CHECKED_IN") == 1
    assert sample(text, "member_api_errors_total", code="GRAPHQL_ERROR") == 1
    count = "member_api_graphql_request_seconds_count"
    assert sample(text, count, operation="MemberCentre") == 2
    assert (sample(text, "member_api_cache_reads_total", result="hit") or 0) >= 1
    assert (sample(text, "member_api_cache_reads_total", result="miss") or 0) >= 1
    stored = "member_api_response_cache_total"
    assert sample(text, stored, operation="MemberCentre", result="miss") == 1
    assert sample(text, stored, operation="MemberCentre", result="hit") == 1
    assert (
        sample(text, "member_api_http_responses_total", route="/graphql", status="2xx") or 0
    ) >= 5
    pool = sample(text, "member_api_db_pool_connections", state="open")
    assert (pool is not None) is (backend == "postgres")


async def test_operation_names_are_bounded(client: httpx.AsyncClient) -> None:
    for name in ("Odd-Name", "x" * 80):
        await client.post("/graphql", json={"query": "{ __typename }", "operationName": name})
    await gql(client, "query Fine { __typename }")
    text = (await client.get("/metrics")).text
    assert sample(text, "member_api_graphql_requests_total", operation="Fine") == 1
    assert "Odd-Name" not in text
    assert "x" * 80 not in text


async def test_one_log_line_per_operation_with_the_member_and_never_a_phone(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    member_id, token = await new_member(client, PHONE)
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="member_api.access"):
        await gql(client, op("MemberCentre"), token=token, path="/graphql")
    records = [r for r in caplog.records if r.name == "member_api.access"]
    assert len(records) == 1
    line = json.loads(JsonFormatter().format(records[0]))
    assert line["operation"] == "MemberCentre"
    assert line["subject_id"] == member_id
    assert line["endpoint"] == "member"
    assert line["outcome"] == "ok"
    assert line["duration_ms"] > 0
    assert line["request_id"] not in ("", "-")
    assert PHONE not in json.dumps(line)


async def test_metrics_can_require_a_token(settings: Settings) -> None:
    app = create_app(dataclasses.replace(settings, metrics_token="s3cret"))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            assert (await c.get("/metrics")).status_code == 401
            ok = await c.get("/metrics", headers={"authorization": "Bearer s3cret"})
            assert ok.status_code == 200
            assert ok.headers["content-type"].startswith("text/plain")
