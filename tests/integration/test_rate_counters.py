"""On Redis, a request's budgets (its address and its caller) are counted in one round
trip, and every counter is created with its time to live."""

from __future__ import annotations

import dataclasses
from typing import Any

import httpx
import pytest
from redis.asyncio.connection import Connection

from member_api.cache import NAMESPACE
from member_api.settings import Settings
from tests.commerce_support import new_member


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, request_window_seconds=60)


async def test_both_budgets_take_one_round_trip_and_always_expire(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await new_member(client, "13900000001")
    cache = app.state.services.cache
    headers = {"authorization": f"Bearer {token}"}
    await client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)
    trips: list[str] = []
    send = Connection.send_command

    async def counted(self: Any, *args: Any, **kwargs: Any) -> Any:
        trips.append(str(args[0]))
        return await send(self, *args, **kwargs)

    monkeypatch.setattr(Connection, "send_command", counted)
    response = await client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)
    assert response.status_code == 200
    # The two budgets and whether the member's sessions were ended: one script, by hash.
    assert trips == ["EVALSHA"]
    keys = [k.decode() async for k in cache.client.scan_iter(match=f"{NAMESPACE}*rate*")]
    assert {k.split("rate:")[1].split(":")[0] for k in keys} == {
        "requests-address",
        "requests-member",
    }
    for name in keys:
        assert 60 < await cache.client.ttl(name) <= 120
