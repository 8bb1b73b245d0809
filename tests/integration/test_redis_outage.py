"""A Redis of our own, stopped and started under a running app: requests keep working
(the cache is bypassed, rate limits count in process) and Redis is used again on return."""

from __future__ import annotations

import asyncio
import dataclasses
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from member_api.app import create_app
from member_api.settings import Settings
from tests.commerce_support import new_member
from tests.conftest import need_tools
from tests.support import gql, op


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class OwnRedis:
    def __init__(self) -> None:
        self.port = _free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError("redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def own_redis() -> Iterator[OwnRedis]:
    need_tools("redis-server")
    server = OwnRedis()
    server.start()
    yield server
    server.stop()


@pytest.fixture
async def outage_app(settings: Settings, own_redis: OwnRedis) -> AsyncIterator[Any]:
    app = create_app(dataclasses.replace(settings, cache_url=own_redis.url))
    async with app.router.lifespan_context(app):
        yield app


async def _keys(url: str) -> list[bytes]:
    client = aioredis.from_url(url)
    try:
        return list(await client.keys("*"))
    finally:
        await client.aclose()


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_requests_succeed_while_redis_is_down_and_use_it_again(
    outage_app: Any, own_redis: OwnRedis
) -> None:
    transport = httpx.ASGITransport(app=outage_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        _, token = await new_member(client, "13900000001")
        assert (await gql(client, op("MemberCentre"), token=token))["data"]["me"]["tier"]
        assert await _keys(own_redis.url)  # tier views and request counters live there

        own_redis.stop()
        centre = await gql(client, op("MemberCentre"), token=token)
        assert "errors" not in centre
        assert centre["data"]["me"]["tier"]["code"] == "NEW"
        checked = await gql(client, op("CheckIn"), token=token)
        assert checked["data"]["checkIn"]["__typename"] == "CheckInSuccess"
        ready = await client.get("/readyz")
        assert ready.status_code == 503

        own_redis.start()
        await asyncio.sleep(0.2)
        assert not await _keys(own_redis.url)  # a fresh, empty Redis
        for _ in range(3):  # the first call may spend itself on a dead connection
            await gql(client, op("MemberCentre"), token=token)
        assert await _keys(own_redis.url)
        assert (await client.get("/readyz")).status_code == 200
