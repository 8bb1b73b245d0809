"""Fixed-window counters in the shared cache (Redis in production): N actions per window."""

from __future__ import annotations

import logging
import math
from typing import Any

from member_api.cache import key
from member_api.clock import Clock
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
    """Count one action of `subject`; refuse it, typed and with a retry time, over `limit`.

    When the shared cache cannot be reached, this process counts on its own until it
    comes back: limits hold per worker rather than not at all.
    """
    now = clock.now().timestamp()
    slot = int(now // window_seconds)
    counter = key("rate", scope, subject, slot)
    try:
        count = int(await cache.increment(counter, 1))
        if count == 1:
            await cache.expire(counter, window_seconds * 2)
    except Exception:  # any cache failure: count here instead, loudly
        logger.warning("rate limit %s counted locally: the cache failed", scope, exc_info=True)
        count = _count_locally(counter, slot)
    if count > limit:
        retry = max(1, math.ceil((slot + 1) * window_seconds - now))
        span = (
            f"{window_seconds // 60} minutes"
            if window_seconds % 60 == 0 and window_seconds > 60
            else f"{window_seconds} seconds"
        )
        raise RateLimited(
            "RATE_LIMITED",
            f"At most {limit} {what} in {span}; try again in {retry} s.",
            retry_after_seconds=retry,
        )
