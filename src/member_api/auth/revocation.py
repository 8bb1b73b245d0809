"""Ending a member's sessions at once: refresh tokens are revoked in the database, and the
access tokens already handed out (stateless, valid until they expire) are refused through
a marker in the shared cache that outlives the longest of them."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from aiocache.backends.redis import RedisBackend

from member_api.auth.models import RefreshToken
from member_api.auth.tokens import AccessClaims
from member_api.cache import key
from member_api.clock import Clock

logger = logging.getLogger(__name__)
# Beyond the access tokens' lifetime: clocks of the processes may differ a little.
MARGIN_SECONDS = 60


def marker_key(subject_id: uuid.UUID) -> str:
    return key("sessions-ended", "member", str(subject_id))


def raw_marker_key(cache: Any, member_id: uuid.UUID) -> str:
    """The marker's key as a raw read of the cache names it (with Redis's namespace)."""
    name = marker_key(member_id)
    return str(cache.build_key(name)) if isinstance(cache, RedisBackend) else name


async def end_member_sessions(
    cache: Any, clock: Clock, member_id: uuid.UUID, *, access_ttl_seconds: int
) -> None:
    """Revoke every refresh token of the member; access tokens issued until now stop
    working on their next request."""
    now = clock.now()
    await RefreshToken.filter(
        subject_kind="member", subject_id=member_id, revoked_at__isnull=True
    ).update(revoked_at=now)
    try:
        await cache.set(
            marker_key(member_id),
            int(now.timestamp()),
            ttl=access_ttl_seconds + MARGIN_SECONDS,
        )
    except Exception:  # the refresh tokens are revoked; access tokens lapse by themselves
        logger.warning("could not mark the sessions of %s as ended", member_id, exc_info=True)


async def sessions_ended(cache: Any, claims: AccessClaims) -> bool:
    """True when the token was issued before its member's sessions were ended."""
    try:
        ended = await cache.get(marker_key(claims.subject_id))
    except Exception:  # an unreachable cache refuses nobody; refresh tokens stay revoked
        logger.warning("could not read the session marker", exc_info=True)
        return False
    return ended is not None and claims.issued_at <= int(ended)
