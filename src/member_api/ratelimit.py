"""Fixed-window counters in the shared cache (Redis in production): N actions per window."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiocache.backends.redis import RedisBackend

from member_api.cache import key, run_script
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


# The first ARGV[1] keys are counters, each up by one and created with its time to live
# (ARGV[1 + i], seconds) if it is new; the keys after them are only read.
_INCREMENT = """
local counters = tonumber(ARGV[1])
local replies = {}
for i, name in ipairs(KEYS) do
  if i <= counters then
    redis.call('SET', name, 0, 'EX', ARGV[1 + i], 'NX')
    replies[i] = redis.call('INCR', name)
  else
    replies[i] = redis.call('GET', name) or false
  end
end
return replies
"""


async def _increment(
    cache: Any, counters: list[tuple[str, int]], reads: Sequence[str] = ()
) -> tuple[list[int], list[Any]]:
    """Each counter up by one, created with its time to live, and the values of `reads`
    (cache keys as the backend names them, see `freshness.read_keys`); on Redis, all in
    one atomic script, so no counter is ever left without a TTL."""
    if isinstance(cache, RedisBackend):
        names = [cache.build_key(counter) for counter, _ in counters]
        replies = await run_script(
            cache, _INCREMENT, [*names, *reads], [len(names), *[ttl for _, ttl in counters]]
        )
        return [int(r) for r in replies[: len(names)]], [
            r if r is not None and r is not False else None for r in replies[len(names) :]
        ]
    counts = []
    for counter, ttl in counters:
        count = int(await cache.increment(counter, 1))
        if count == 1:
            await cache.expire(counter, ttl)
        counts.append(count)
    values = list(await cache.multi_get(list(reads))) if reads else []
    return counts, values


async def spend(
    cache: Any, clock: Clock, budgets: list[Budget], reads: Sequence[str] = ()
) -> list[Any] | None:
    """Count one action against each budget; refuse it, typed and with a retry time, when
    any is over its limit. Returns the values of the keys in `reads`, fetched in the same
    round trip, or None when the cache could not be reached.

    When the shared cache cannot be reached, this process counts on its own until it
    comes back: limits hold per worker rather than not at all.
    """
    now = clock.now().timestamp()
    slots = [int(now // b.window_seconds) for b in budgets]
    counters = [
        (key("rate", b.scope, b.subject, slot), b.window_seconds * 2)
        for b, slot in zip(budgets, slots, strict=True)
    ]
    values: list[Any] | None
    try:
        counts, values = await _increment(cache, counters, reads)
    except Exception:  # any cache failure: count here instead, loudly
        scopes = ", ".join(b.scope for b in budgets)
        logger.warning("rate limits %s counted locally: the cache failed", scopes, exc_info=True)
        counts = [_count_locally(c, slot) for (c, _), slot in zip(counters, slots, strict=True)]
        values = None
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
    return values


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
