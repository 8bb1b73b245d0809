"""The cache from CACHE_URL, on the memory backend and on a real Redis."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from member_api.auth.throttle import LoginThrottle
from member_api.cache import cache_ping, create_cache, key
from member_api.errors import RateLimited
from tests.conftest import REDIS_URL, need_service


@pytest.fixture
def cache_url(backend: str) -> str:
    if backend == "sqlite":
        return "memory://"
    need_service("Redis", REDIS_URL)
    return REDIS_URL


async def test_set_get_increment_expire(cache_url: str) -> None:
    cache = create_cache(cache_url)
    try:
        await cache.delete(key("test", "value"))
        await cache.delete(key("test", "counter"))
        await cache.set(key("test", "value"), {"tier": "GOLD", "n": 3}, ttl=30)
        assert await cache.get(key("test", "value")) == {"tier": "GOLD", "n": 3}
        assert await cache.increment(key("test", "counter"), 1) == 1
        assert await cache.increment(key("test", "counter"), 1) == 2
        await cache.expire(key("test", "counter"), 1)
        await asyncio.sleep(1.2)
        assert await cache.get(key("test", "counter")) is None
        assert await cache_ping(cache)
    finally:
        await cache.close()


@pytest.mark.parametrize("backend", ["postgres"])
async def test_redis_keys_are_namespaced(backend: str, cache_url: str) -> None:
    from redis import asyncio as aioredis

    cache = create_cache(cache_url)
    raw = aioredis.from_url(cache_url)
    try:
        await cache.set(key("probe"), 1, ttl=30)
        assert await raw.exists("member-api:probe") == 1
    finally:
        await cache.close()
        await raw.aclose()


async def test_login_throttle_is_shared_between_processes(cache_url: str, backend: str) -> None:
    """Two app processes on one Redis count failures together (memory: one process)."""
    first, second = create_cache(cache_url), create_cache(cache_url)
    if backend == "sqlite":
        second = first
    subject = f"phone-{uuid.uuid4().hex}"
    try:
        throttles = [
            LoginThrottle(c, max_per_subject=4, max_per_address=100, window_seconds=60)
            for c in (first, second)
        ]
        for n in range(4):
            await throttles[n % 2].check(subject, "10.0.0.1")
            await throttles[n % 2].record_failure(subject, "10.0.0.1")
        for throttle in throttles:
            with pytest.raises(RateLimited):
                await throttle.check(subject, "10.0.0.1")
        await throttles[0].reset(subject)
        await throttles[1].check(subject, "10.0.0.1")
    finally:
        await first.close()
        if second is not first:
            await second.close()


def test_unknown_cache_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="CACHE_URL"):
        create_cache("memcached://x")
