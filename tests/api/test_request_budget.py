"""Request budgets per member and per client address: a typed error, 429 and Retry-After;
counted in Redis on the PostgreSQL runs, in memory otherwise."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.settings import Settings
from tests.commerce_support import new_member
from tests.support import login

ME = "{ me { id } }"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, requests_per_member=3, requests_per_address=6, request_window_seconds=60
    )


async def post(client: httpx.AsyncClient, token: str | None = None) -> httpx.Response:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return await client.post("/graphql", json={"query": ME}, headers=headers)


async def test_a_member_over_budget_gets_429_with_retry_after(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    # Registering, then one request as the member; two more fill the member's budget.
    _, token = await new_member(client, "13900000001")
    for _ in range(2):
        assert (await post(client, token)).status_code == 200
    refused = await post(client, token)
    assert refused.status_code == 429
    retry = int(refused.headers["retry-after"])
    assert 0 < retry <= 60
    error = refused.json()["errors"][0]
    assert error["extensions"] == {"code": "RATE_LIMITED", "retryAfterSeconds": retry}
    clock.advance(timedelta(seconds=retry))
    token = (await login(client))["accessToken"]
    assert (await post(client, token)).status_code == 200


async def test_an_address_over_budget_is_refused_even_without_a_token(
    client: httpx.AsyncClient,
) -> None:
    answers = [(await post(client)).status_code for _ in range(7)]
    assert answers == [200] * 6 + [429]
    staff = await client.post("/admin/graphql", json={"query": "{ __typename }"})
    assert staff.status_code == 429


@pytest.fixture
async def app_behind_proxy(settings: Settings, clock: FrozenClock) -> AsyncIterator[object]:
    from member_api.app import create_app

    trusting = dataclasses.replace(settings, trusted_proxies=("10.0.0.0/8",))
    application = create_app(trusting, clock=clock)
    async with application.router.lifespan_context(application):
        yield application


def _from(app: object, peer: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(peer, 40000))  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=transport, base_url="http://member-api.test")


async def test_behind_a_trusted_proxy_each_client_has_its_own_budget(
    app_behind_proxy: object,
) -> None:
    async with _from(app_behind_proxy, "10.0.0.1") as proxy:
        first = {"x-forwarded-for": "203.0.113.9"}
        answers = [
            (await proxy.post("/graphql", json={"query": ME}, headers=first)).status_code
            for _ in range(7)
        ]
        assert answers == [200] * 6 + [429]
        second = {"x-forwarded-for": "203.0.113.10"}
        assert (await proxy.post("/graphql", json={"query": ME}, headers=second)).status_code == 200


async def test_a_forwarded_for_header_from_anyone_else_is_not_believed(
    app_behind_proxy: object,
) -> None:
    async with _from(app_behind_proxy, "198.51.100.7") as stranger:
        answers = [
            (
                await stranger.post(
                    "/graphql", json={"query": ME}, headers={"x-forwarded-for": f"203.0.113.{n}"}
                )
            ).status_code
            for n in range(7)
        ]
    assert answers == [200] * 6 + [429]
