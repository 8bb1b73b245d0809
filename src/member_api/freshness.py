"""Versions of the data that stored answers are built from, shared by every process
through the cache (Redis in production), so that no answer built before a write is
served after the write has committed.

A *scope* names a part of the data: one member's own data (`member:<id>`), one group's
feed, the rewards catalogue, and so on. Each scope has a version and a count of writes
in progress. A write announces the scopes it touches before its transaction commits
(`touch`: the version moves and the in-progress count goes up, in one atomic step) and
closes them after the commit (`Writes.close`: the version moves again and the count
comes down). A reader reads the versions and counts of its scopes in one round trip; it
keys what it stores on the versions, and stores nothing while any count is above zero.
So an answer stored under the versions a reader sees was computed after every write
that had announced itself by then had committed, and a write that commits later has
moved the versions first.

A write whose process dies before closing leaves its count up: the count lives
`PENDING_SECONDS` (far longer than any transaction), and until then answers for those
scopes are computed, not stored. An *epoch* key, made afresh when the cache has lost
it (a restarted Redis), is part of every key, so versions that start again from zero
never match answers stored before.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiocache.backends.redis import RedisBackend

from member_api.cache import key, run_script

logger = logging.getLogger(__name__)

PENDING_SECONDS = 300
EPOCH = key("fresh", "epoch")

# Scopes shared by everyone: bumped by every staff change and background job
# (`EVERYTHING`), and by the writes to the catalogues every member sees.
EVERYTHING = "all"
REWARDS = "rewards"
EVENTS = "events"
GROUPS = "groups"
PROFILES = "profiles"  # names, avatars and tiers shown beside posts and comments
POSTS = "posts"  # which posts are visible anywhere (recommended posts): moved when one hides
PROVENANCE = "provenance"  # items, their events and the log's checkpoint


def member(member_id: uuid.UUID | str) -> str:
    return f"member:{member_id}"


def group(group_id: uuid.UUID | str) -> str:
    return f"group:{group_id}"


def post(post_id: uuid.UUID | str) -> str:
    return f"post:{post_id}"


def item(public_id: str) -> str:
    return f"item:{public_id}"


def _version_key(scope: str) -> str:
    return key("fresh", "v", scope)


def _pending_key(scope: str) -> str:
    return key("fresh", "p", scope)


# KEYS: versions then pending counts, as many of each; ARGV[1]: the counts' lifetime.
_OPEN = """
local n = #KEYS / 2
for i = 1, n do
  redis.call('INCR', KEYS[i])
  redis.call('INCR', KEYS[n + i])
  redis.call('EXPIRE', KEYS[n + i], ARGV[1])
end
return n
"""
_CLOSE = """
local n = #KEYS / 2
for i = 1, n do
  redis.call('INCR', KEYS[i])
  local pending = tonumber(redis.call('GET', KEYS[n + i]) or '0')
  if pending > 1 then
    redis.call('DECR', KEYS[n + i])
  elseif pending == 1 then
    redis.call('DEL', KEYS[n + i])
  end
end
return n
"""


def _keys(cache: Any, scopes: Sequence[str]) -> list[str]:
    names = [_version_key(s) for s in scopes] + [_pending_key(s) for s in scopes]
    if isinstance(cache, RedisBackend):
        return [cache.build_key(name) for name in names]
    return names


async def _open(cache: Any, scopes: Sequence[str]) -> None:
    if isinstance(cache, RedisBackend):
        names = _keys(cache, scopes)
        await run_script(cache, _OPEN, names, [PENDING_SECONDS])
        return
    for scope in scopes:
        await cache.increment(_version_key(scope), 1)
        await cache.increment(_pending_key(scope), 1)
        await cache.expire(_pending_key(scope), PENDING_SECONDS)


async def _close(cache: Any, scopes: Sequence[str]) -> None:
    if isinstance(cache, RedisBackend):
        names = _keys(cache, scopes)
        await run_script(cache, _CLOSE, names, [])
        return
    for scope in scopes:
        await cache.increment(_version_key(scope), 1)
        pending = await cache.get(_pending_key(scope))
        if pending is not None and int(pending) > 1:
            await cache.increment(_pending_key(scope), -1)
        elif pending is not None:
            await cache.delete(_pending_key(scope))


@dataclass
class Writes:
    """The scopes one unit of work (a request, a job's chunk) has announced; closed
    once, after the work's transactions have committed or rolled back."""

    cache: Any
    scopes: set[str] = field(default_factory=set)
    failed: bool = False

    async def touch(self, *scopes: str) -> None:
        new = [s for s in dict.fromkeys(scopes) if s not in self.scopes]
        if not new:
            return
        try:
            await _open(self.cache, new)
        except Exception:
            # Without the cache nobody can read versions either; answers computed
            # meanwhile are not stored (see `Versions.storable`).
            self.failed = True
            logger.warning("could not announce a write to %s", ", ".join(new), exc_info=True)
        self.scopes.update(new)

    async def close(self) -> None:
        if not self.scopes:
            return
        try:
            await _close(self.cache, sorted(self.scopes))
        except Exception:
            logger.warning(
                "could not close the write to %s; stored answers wait %d s",
                ", ".join(sorted(self.scopes)),
                PENDING_SECONDS,
                exc_info=True,
            )
        self.scopes.clear()


_current: ContextVar[Writes | None] = ContextVar("fresh_writes", default=None)
_default_cache: list[Any] = []


def configure(cache: Any) -> None:
    """The cache that writes outside any `writing` block announce themselves in."""
    _default_cache[:] = [cache]


def forget(cache: Any) -> None:
    """`cache` is closing: writes outside a `writing` block no longer use it."""
    if _default_cache and _default_cache[0] is cache:
        _default_cache.clear()


@asynccontextmanager
async def writing(cache: Any) -> AsyncIterator[Writes]:
    """A unit of work whose touched scopes are closed when it ends. Nested blocks join
    the outer one, which closes everything at its end."""
    outer = _current.get()
    if outer is not None:
        yield outer
        return
    writes = Writes(cache)
    token = _current.set(writes)
    try:
        yield writes
    finally:
        _current.reset(token)
        await writes.close()


async def touch(*scopes: str) -> None:
    """Announce, before the transaction commits, that this work changes `scopes`.

    Outside a `writing` block the scopes are announced and never closed: their stored
    answers are not used until the in-progress counts lapse (`PENDING_SECONDS`), which
    is slow but never stale."""
    writes = _current.get()
    if writes is not None:
        await writes.touch(*scopes)
        return
    if not _default_cache:
        return
    stray = Writes(_default_cache[0])
    await stray.touch(*scopes)


@dataclass(frozen=True)
class Versions:
    """What a reader saw: the epoch, each scope's version (as the cache holds them:
    compared, never computed with), and whether an answer computed now may be stored."""

    epoch: object
    values: tuple[object, ...]
    storable: bool


def read_keys(cache: Any, scopes: Iterable[str]) -> list[str]:
    """The cache keys a reader fetches for `scopes`, in the order `versions_of` reads."""
    listed = list(scopes)
    names = [EPOCH] + [_version_key(s) for s in listed] + [_pending_key(s) for s in listed]
    if isinstance(cache, RedisBackend):
        return [cache.build_key(name) for name in names]
    return names


def versions_of(values: Sequence[Any]) -> Versions:
    """Interpret the values fetched for `read_keys` (None where a key is absent). An
    in-progress count exists only while above zero: closing the last write deletes it."""
    epoch = values[0]
    n = (len(values) - 1) // 2
    pending = any(v is not None for v in values[1 + n :])
    return Versions(epoch, tuple(values[1 : 1 + n]), not pending and epoch is not None)


async def new_epoch(cache: Any) -> None:
    """Start an epoch when the cache has none (first use, or it lost its data)."""
    try:
        await cache.add(EPOCH, secrets.token_hex(8))
    except ValueError:
        pass  # another process made it first
    except Exception:
        logger.warning("could not start a cache epoch", exc_info=True)
