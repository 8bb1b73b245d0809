"""Sign-in sessions: an access token plus an opaque refresh token rotated on every use."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from tortoise.transactions import in_transaction

from member_api.auth.models import RefreshToken
from member_api.auth.tokens import SubjectKind, TokenService
from member_api.clock import Clock
from member_api.error_codes import AuthErrorCode
from member_api.errors import NotAuthenticated


@dataclass(frozen=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invalid() -> NotAuthenticated:
    return NotAuthenticated(AuthErrorCode.INVALID_REFRESH_TOKEN, "The refresh token is not valid.")


class SessionService:
    def __init__(self, *, tokens: TokenService, clock: Clock, refresh_ttl_seconds: int) -> None:
        self._tokens = tokens
        self._clock = clock
        self._refresh_ttl = timedelta(seconds=refresh_ttl_seconds)

    async def _new_refresh(
        self,
        kind: SubjectKind,
        subject_id: uuid.UUID,
        family_id: uuid.UUID,
        device: str | None = None,
    ) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        await RefreshToken.create(
            token_hash=hash_refresh_token(token),
            family_id=family_id,
            subject_kind=kind,
            subject_id=subject_id,
            issued_at=now,
            expires_at=now + self._refresh_ttl,
            device=device[:200] if device else None,
        )
        return token

    async def start(
        self,
        kind: SubjectKind,
        subject_id: uuid.UUID,
        roles: tuple[str, ...] = (),
        *,
        device: str | None = None,
    ) -> IssuedTokens:
        refresh = await self._new_refresh(kind, subject_id, uuid.uuid4(), device)
        return IssuedTokens(
            access_token=self._tokens.issue(subject_id, kind, roles),
            refresh_token=refresh,
            expires_in=self._tokens.ttl_seconds,
        )

    async def rotate(self, kind: SubjectKind, token: str) -> tuple[uuid.UUID, str]:
        """Spend a refresh token and return (subject, new refresh token).

        A token that was already spent is a sign of theft: the whole family is
        revoked, so neither the thief nor the member can go on with it.
        """
        now = self._clock.now()
        row = await RefreshToken.get_or_none(token_hash=hash_refresh_token(token))
        if row is None or row.subject_kind != kind:
            raise _invalid()
        if row.used_at is not None:
            # Spent before, whatever happened to the family since: reuse.
            await self.revoke_family(row.family_id)
            raise _reused()
        family_revoked = await RefreshToken.filter(
            family_id=row.family_id, revoked_at__isnull=False
        ).exists()
        if row.revoked_at is not None or family_revoked:
            # A token minted while its family was being revoked is dead too.
            raise NotAuthenticated(
                AuthErrorCode.REFRESH_TOKEN_REVOKED, "This session has been signed out."
            )
        if row.expires_at <= now:
            raise NotAuthenticated(
                AuthErrorCode.REFRESH_TOKEN_EXPIRED, "The session has expired; sign in."
            )
        async with in_transaction():
            # Conditional update: of two concurrent uses, exactly one wins.
            won = await RefreshToken.filter(
                id=row.id, used_at__isnull=True, revoked_at__isnull=True
            ).update(used_at=now)
            if won:
                new_token = await self._new_refresh(kind, row.subject_id, row.family_id, row.device)
        if not won:
            await self.revoke_family(row.family_id)
            raise _reused()
        return row.subject_id, new_token

    async def refresh(
        self,
        kind: SubjectKind,
        token: str,
        roles_of: Callable[[uuid.UUID], Awaitable[tuple[str, ...]]],
    ) -> IssuedTokens:
        """Rotate the refresh token; `roles_of` re-reads the subject (and refuses a gone one)."""
        subject_id, new_refresh = await self.rotate(kind, token)
        roles = await roles_of(subject_id)
        return IssuedTokens(
            access_token=self._tokens.issue(subject_id, kind, roles),
            refresh_token=new_refresh,
            expires_in=self._tokens.ttl_seconds,
        )

    async def revoke_family(self, family_id: uuid.UUID) -> None:
        await RefreshToken.filter(family_id=family_id, revoked_at__isnull=True).update(
            revoked_at=self._clock.now()
        )

    async def end_all(self, kind: SubjectKind, subject_id: uuid.UUID) -> int:
        """Revoke every refresh token of the subject: no session of theirs refreshes again."""
        return await RefreshToken.filter(
            subject_kind=kind, subject_id=subject_id, revoked_at__isnull=True
        ).update(revoked_at=self._clock.now())

    async def logout(self, kind: SubjectKind, token: str) -> None:
        row = await RefreshToken.get_or_none(token_hash=hash_refresh_token(token))
        if row is None or row.subject_kind != kind:
            raise _invalid()
        await self.revoke_family(row.family_id)


def _reused() -> NotAuthenticated:
    return NotAuthenticated(
        AuthErrorCode.REFRESH_TOKEN_REUSED,
        "This refresh token was already used; the session has been signed out.",
    )
