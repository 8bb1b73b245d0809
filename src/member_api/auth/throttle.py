"""Failed-login counters per phone and per client address, kept in the shared cache.

Counters are keyed on a digest of the subject and the address, never on the text a
client sent: a key has a fixed size however long the username, and a phone number does
not appear in the cache."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from member_api.cache import key
from member_api.error_codes import AuthErrorCode
from member_api.errors import RateLimited


class LoginThrottle:
    def __init__(
        self,
        cache: Any,
        *,
        max_per_subject: int,
        max_per_address: int,
        window_seconds: int,
        digest: Callable[[str], str] | None = None,
    ) -> None:
        self._cache = cache
        self._digest = digest or (lambda text: hashlib.sha256(text.encode()).hexdigest())
        self._limits = {"subject": max_per_subject, "address": max_per_address}
        self._window = window_seconds

    def _keys(self, subject: str, address: str | None) -> dict[str, str]:
        keys = {"subject": key("login-failures", "subject", self._digest(subject))}
        if address:
            keys["address"] = key("login-failures", "address", self._digest(address))
        return keys

    async def check(self, subject: str, address: str | None) -> None:
        """Refuse before any password is checked once a counter is at its limit."""
        for scope, cache_key in self._keys(subject, address).items():
            count = await self._cache.get(cache_key)
            if count is not None and int(count) >= self._limits[scope]:
                raise RateLimited(
                    AuthErrorCode.TOO_MANY_ATTEMPTS,
                    "Too many failed sign-in attempts. Try again later.",
                    retry_after_seconds=self._window,
                )

    async def record_failure(self, subject: str, address: str | None) -> None:
        for cache_key in self._keys(subject, address).values():
            count = await self._cache.increment(cache_key, 1)
            if int(count) == 1:
                await self._cache.expire(cache_key, self._window)

    async def reset(self, subject: str) -> None:
        await self._cache.delete(self._keys(subject, None)["subject"])
