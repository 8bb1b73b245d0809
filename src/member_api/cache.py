"""Cache set-up from CACHE_URL and the key builders every feature shares."""

from __future__ import annotations

import urllib.parse
from typing import Any

from aiocache import Cache

NAMESPACE = "member-api"


def create_cache(url: str) -> Any:
    """`memory://` for one process, `redis://host:port/db` for shared state.

    Redis stores JSON and the memory cache stores the objects themselves: cache
    only JSON-shaped values so both behave alike. Counters use `increment`.
    """
    scheme = urllib.parse.urlparse(url).scheme
    if scheme not in {"memory", "redis", "rediss"}:
        raise ValueError(f"CACHE_URL must be memory:// or redis://, got {url!r}")
    if scheme == "rediss":
        raise ValueError("CACHE_URL: TLS to Redis is not supported yet; use redis://")
    cache = Cache.from_url(url)
    cache.namespace = NAMESPACE
    return cache


def key(*parts: str | int) -> str:
    """A namespaced key such as `login-failures:phone:<digest>`."""
    return ":".join(str(part) for part in parts)


async def cache_ping(cache: Any) -> bool:
    probe = key("readyz")
    await cache.set(probe, 1, ttl=5)
    return bool(await cache.get(probe) == 1)
