"""Fixed-window counters in the shared cache (Redis in production): N actions per window."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

from aiocache.backends.redis import RedisBackend

from member_api.cache import key
from member_api.clock import Clock
from member_api.error_codes import RequestErrorCode
from member_api.errors import RateLimited

logger = logging.getLogger(__name__)


_local: dict[str, int] = {}
_local_slot: dict[str, int] = {}


def _count_locally(counter: str, slot: int) -> int:
    for stale in [k for k, s in _local_slot.items() if s < slot - 1]:
        _local.pop(stale, None)
        _local_slot.pop(stale, None)
    _local[counter] = _local.get(counter, 0) + 1
    _local_slot[counter] = slot
    return _local[counter]


@dataclass(frozen=True)
class Budget:
    """At most `limit` actions of `subject` per window, under `scope`."""

    scope: str
    subject: str
    limit: int
    window_seconds: int
    what: str


# Each key up by one, created with its time to live (ARGV[i], seconds) if it is new.
_INCREMENT = """
local counts = {}
for i, name in ipairs(KEYS) do
  redis.call('SET', name, 0, 'EX', ARGV[i], 'NX')
  counts[i] = redis.call('INCR', name)
end
return counts
"""


async def _increment(cache: Any, counters: list[tuple[str, int]]) -> list[int]:
    """Each counter up by one, created with its time to live; on Redis, all of them in
    one atomic script, so no counter is ever left without a TTL."""
    if isinstance(cache, RedisBackend):
        names = [cache.build_key(counter) for counter, _ in counters]
        replies = await cache.client.eval(
            _INCREMENT, len(names), *names, *[ttl for _, ttl in counters]
        )
        return [int(reply) for reply in replies]
    counts = []
    for counter, ttl in counters:
        count = int(await cache.increment(counter, 1))
        if count == 1:
            await cache.expire(counter, ttl)
        counts.append(count)
    return counts


async def spend(cache: Any, clock: Clock, budgets: list[Budget]) -> None:
    """Count one action against each budget; refuse it, typed and with a retry time, when
    any is over its limit.

    When the shared cache cannot be reached, this process counts on its own until it
    comes back: limits hold per worker rather than not at all.
    """
    now = clock.now().timestamp()
    slots = [int(now // b.window_seconds) for b in budgets]
    counters = [
        (key("rate", b.scope, b.subject, slot), b.window_seconds * 2)
        for b, slot in zip(budgets, slots, strict=True)
    ]
    try:
        counts = await _increment(cache, counters)
    except Exception:  # any cache failure: count here instead, loudly
        scopes = ", ".join(b.scope for b in budgets)
        logger.warning("rate limits %s counted locally: the cache failed", scopes, exc_info=True)
        counts = [_count_locally(c, slot) for (c, _), slot in zip(counters, slots, strict=True)]
    for budget, slot, count in zip(budgets, slots, counts, strict=True):
        if count > budget.limit:
            window = budget.window_seconds
            retry = max(1, math.ceil((slot + 1) * window - now))
            span = (
                f"{window // 60} minutes"
                if window % 60 == 0 and window > 60
                else f"{window} seconds"
            )
            raise RateLimited(
                RequestErrorCode.RATE_LIMITED,
                f"At most {budget.limit} {budget.what} in {span}; try again in {retry} s.",
                retry_after_seconds=retry,
            )


async def hit(
    cache: Any,
    clock: Clock,
    scope: str,
    subject: str,
    *,
    limit: int,
    window_seconds: int,
    what: str,
) -> None:
    """`spend` on one budget."""
    await spend(cache, clock, [Budget(scope, subject, limit, window_seconds, what)])
