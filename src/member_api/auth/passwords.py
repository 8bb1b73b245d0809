"""Memory-hard password hashing (Argon2id), run off the event loop."""

from __future__ import annotations

import asyncio

import argon2
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from member_api.error_codes import AuthErrorCode
from member_api.errors import InvalidInput

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128


def check_password_policy(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            AuthErrorCode.PASSWORD_TOO_SHORT,
            f"Password must be at least {MIN_PASSWORD_LENGTH} characters.",
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            AuthErrorCode.PASSWORD_TOO_LONG,
            f"Password must be at most {MAX_PASSWORD_LENGTH} characters.",
            field="password",
        )


class PasswordHasher:
    def __init__(self, *, memory_kib: int = 65536, time_cost: int = 3) -> None:
        self._hasher = argon2.PasswordHasher(memory_cost=memory_kib, time_cost=time_cost)
        # Verified against when the account does not exist, so that an unknown
        # phone costs as much time as a wrong password.
        self._decoy = self._hasher.hash("decoy password never matches")

    async def hash(self, password: str) -> str:
        return await asyncio.to_thread(self._hasher.hash, password)

    async def verify(self, stored_hash: str | None, password: str) -> bool:
        target = stored_hash or self._decoy
        try:
            ok = await asyncio.to_thread(self._hasher.verify, target, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False
        return bool(ok) and stored_hash is not None
