"""Cache set-up from CACHE_URL and the key builders every feature shares."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiocache import Cache
from redis.exceptions import NoScriptError

NAMESPACE = "member-api"
logger = logging.getLogger(__name__)


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
    pool = getattr(getattr(cache, "client", None), "connection_pool", None)
    if pool is not None:
        # Every call names its own time limit (aiocache's `timeout`, `within` for the
        # scripts): a socket timeout as well would wrap each send in a task of its own.
        pool.connection_kwargs["socket_timeout"] = None
    return cache


REDIS_SECONDS = 5.0


def within(seconds: float = REDIS_SECONDS) -> Any:
    """The time limit of one call to Redis made past aiocache (a script)."""
    return asyncio.timeout(seconds)


_SHAS: dict[str, str] = {}


async def run_script(cache: Any, script: str, keys: Sequence[Any], args: Sequence[Any]) -> Any:
    """Run a Lua script on the cache's Redis, by its hash once Redis knows it, on a
    connection taken from the client's pool (one round trip, none of the client's
    per-command wrapping)."""
    sha = _SHAS.get(script)
    if sha is None:
        sha = _SHAS[script] = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
    pool = cache.client.connection_pool
    async with within():
        connection = await pool.get_connection()
        try:
            try:
                await connection.send_command("EVALSHA", sha, len(keys), *keys, *args)
                return await connection.read_response()
            except NoScriptError:
                await connection.send_command("EVAL", script, len(keys), *keys, *args)
                return await connection.read_response()
        except BaseException:
            await connection.disconnect()
            raise
        finally:
            await pool.release(connection)


def key(*parts: str | int) -> str:
    """A namespaced key such as `login-failures:phone:<digest>`."""
    return ":".join(str(part) for part in parts)


async def cache_ping(cache: Any) -> bool:
    probe = key("readyz")
    await cache.set(probe, 1, ttl=5)
    return bool(await cache.get(probe) == 1)


class CacheAside:
    """Read-through caching with one computation per key at a time in this process.

    A burst of readers that miss together waits for a single computation. A cache
    that fails (Redis down) is bypassed: the value is computed and served anyway.
    """

    def __init__(self, cache: Any, *, on_read: Callable[[str], Any] | None = None) -> None:
        self._cache = cache
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        self._on_read = on_read

    def _count(self, result: str) -> None:
        if self._on_read is not None:
            self._on_read(result).inc()

    async def get_or_compute(
        self, cache_key: str, compute: Callable[[], Awaitable[Any]], *, ttl: int
    ) -> Any:
        try:
            hit = await self._cache.get(cache_key)
        except Exception:  # the cache is an optimisation; never fail a request on it
            logger.warning("cache read failed for %s", cache_key, exc_info=True)
            self._count("error")
            hit = None
        else:
            self._count("hit" if hit is not None else "miss")
        if hit is not None:
            return hit
        running = self._inflight.get(cache_key)
        if running is not None:
            return await asyncio.shield(running)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[cache_key] = future
        try:
            value = await compute()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # the waiters, if any, get it; nobody else must
            raise
        finally:
            self._inflight.pop(cache_key, None)
        future.set_result(value)
        try:
            await self._cache.set(cache_key, value, ttl=ttl)
        except Exception:
            logger.warning("cache write failed for %s", cache_key, exc_info=True)
        return value
