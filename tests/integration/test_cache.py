"""The cache from CACHE_URL, on the memory backend and on a real Redis."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest

from member_api.auth.throttle import LoginThrottle
from member_api.cache import NAMESPACE, cache_ping, create_cache, key
from member_api.errors import RateLimited
from tests.conftest import REDIS_URL, need_service


@pytest.fixture
def cache_url(backend: str) -> str:
    if backend == "sqlite":
        return "memory://"
    need_service("Redis", REDIS_URL)
    return REDIS_URL


class LoopClock:
    """A fake clock for the running event loop, whose timers expire memory-cache keys:
    it stands still until advanced, however slow the machine."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.loop = asyncio.get_running_loop()
        self.now = self.loop.time()
        monkeypatch.setattr(self.loop, "time", lambda: self.now)

    async def advance(self, seconds: float) -> None:
        """Move time on, then let every timer due by now run."""
        self.now += seconds
        due = self.loop.create_future()
        self.loop.call_at(self.loop.time(), due.set_result, None)
        await due  # timers run in time order: the ones due earlier have run by now


async def _expires_after_one_second(
    cache: Any, cache_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = key("test", "counter")
    if backend == "sqlite":
        clock = LoopClock(monkeypatch)
        await cache.expire(counter, 1)
        await clock.advance(0.9)
        assert await cache.get(counter) == 2
        await clock.advance(0.2)
        assert await cache.get(counter) is None
        return
    # Redis keeps the time itself: the key carries a TTL of at most one second.
    from redis import asyncio as aioredis

    raw = aioredis.from_url(cache_url)
    try:
        assert await raw.pttl(f"{NAMESPACE}:{counter}") == -1  # no expiry yet
        await cache.expire(counter, 1)
        assert 0 < await raw.pttl(f"{NAMESPACE}:{counter}") <= 1_000
    finally:
        await raw.aclose()


async def test_set_get_increment_expire(
    cache_url: str, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = create_cache(cache_url)
    try:
        await cache.delete(key("test", "value"))
        await cache.delete(key("test", "counter"))
        await cache.set(key("test", "value"), {"tier": "GOLD", "n": 3}, ttl=30)
        assert await cache.get(key("test", "value")) == {"tier": "GOLD", "n": 3}
        assert await cache.increment(key("test", "counter"), 1) == 1
        assert await cache.increment(key("test", "counter"), 1) == 2
        await _expires_after_one_second(cache, cache_url, backend, monkeypatch)
        assert await cache_ping(cache)
    finally:
        await cache.close()


async def test_cache_is_shared_between_clients_only_on_redis(cache_url: str, backend: str) -> None:
    """Two caches made from one CACHE_URL, as two app processes make them: on Redis one
    sees the other's writes; memory:// is private to its instance, so it suits one process."""
    first, second = create_cache(cache_url), create_cache(cache_url)
    probe = key("test", "shared", uuid.uuid4().hex)
    try:
        await first.set(probe, {"n": 1}, ttl=30)
        assert await first.increment(key(probe, "count"), 1) == 1
        seen = await second.get(probe), await second.increment(key(probe, "count"), 1)
        assert seen == (({"n": 1}, 2) if backend == "postgres" else (None, 1))
    finally:
        await first.delete(probe)
        await first.delete(key(probe, "count"))
        await first.close()
        await second.close()


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


@pytest.mark.parametrize("backend", ["postgres"])
async def test_login_throttle_is_shared_between_processes(cache_url: str, backend: str) -> None:
    """Two app processes on one Redis count failures together. (memory:// serves one
    process; the test above shows two of its instances share nothing.)"""
    first, second = create_cache(cache_url), create_cache(cache_url)
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
        await second.close()


def test_unknown_cache_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="CACHE_URL"):
        create_cache("memcached://x")


async def test_login_failures_are_counted_under_fixed_size_digests(
    client: Any, app: Any, backend: str
) -> None:
    """However long or odd the usernames a client tries, each counter's key has the same
    size and holds neither the name nor the phone number."""
    from tests.support import STAFF_LOGIN, gql, login

    tried = ["x" * 4_000, "ünïcødé 用户", "13900000009"]
    for username in tried:
        await gql(client, STAFF_LOGIN, {"u": username, "p": "wrong"}, path="/admin/graphql")
    await login(client, "13900000008", "wrong-password")
    cache = app.state.services.cache
    if backend == "sqlite":
        keys = [str(k) for k in cache._cache]
    else:
        keys = [k.decode() async for k in cache.client.scan_iter(match=f"{NAMESPACE}:*")]
    counters = [k for k in keys if "login-failures" in k]
    assert len(counters) >= len(tried) + 1
    assert len({len(k.rsplit(":", 1)[1]) for k in counters}) == 1, counters
    for secret in [*tried, "13900000008"]:
        assert not any(secret in k for k in counters)
