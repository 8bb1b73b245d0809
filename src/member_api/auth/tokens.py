"""Access tokens: short-lived JWTs signed with Ed25519, published as a JWKS."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from member_api.bounded import Bounded
from member_api.clock import Clock
from member_api.error_codes import AuthErrorCode
from member_api.errors import NotAuthenticated

ALGORITHM = "EdDSA"
VERIFIED_TOKENS = 4096  # signatures remembered, least recently used forgotten first
SubjectKind = Literal["member", "staff"]
# The only role of a member token handed out while the account waits for erasure: it
# can cancel the deletion and do nothing else.
CANCEL_DELETION_ROLE = "cancel-deletion"


@dataclass(frozen=True)
class AccessClaims:
    subject_id: uuid.UUID
    kind: SubjectKind
    roles: tuple[str, ...]
    token_id: str
    issued_at: int = 0


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class TokenService:
    def __init__(
        self,
        *,
        signing_key: Ed25519PrivateKey,
        key_id: str,
        issuer: str,
        audiences: dict[SubjectKind, str],
        ttl_seconds: int,
        clock: Clock,
    ) -> None:
        self._key = signing_key
        self._public = signing_key.public_key()
        self._kid = key_id
        self._issuer = issuer
        self._audiences = audiences
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._verified: Bounded[tuple[str, SubjectKind], tuple[int, int, AccessClaims]] = Bounded(
            VERIFIED_TOKENS
        )

    def issue(self, subject_id: uuid.UUID, kind: SubjectKind, roles: tuple[str, ...] = ()) -> str:
        now = self._clock.now()
        claims: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audiences[kind],
            "sub": str(subject_id),
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + timedelta(seconds=self.ttl_seconds)).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        if roles:
            claims["roles"] = list(roles)
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self._kid})

    def verify(self, token: str, kind: SubjectKind) -> AccessClaims:
        """Check signature, key id, issuer, audience and lifetime; anything else is refused.

        A token whose signature was checked before is not checked again (clients send the
        same token for its whole life); its lifetime is checked on every use."""
        known = self._verified.get((token, kind))
        if known is None:
            known = self._check_signature(token, kind)
            self._verified.put((token, kind), known)
        expires, not_before, claims = known
        now = int(self._clock.now().timestamp())
        if expires <= now:
            self._verified.forget((token, kind))
            raise NotAuthenticated(AuthErrorCode.TOKEN_EXPIRED, "The access token has expired.")
        if not_before > now + 30:
            raise NotAuthenticated(
                AuthErrorCode.INVALID_TOKEN, "The access token is not valid yet."
            )
        return claims

    def _check_signature(self, token: str, kind: SubjectKind) -> tuple[int, int, AccessClaims]:
        try:
            header = jwt.get_unverified_header(token)
            if header.get("kid") != self._kid:
                raise NotAuthenticated(
                    AuthErrorCode.INVALID_TOKEN, "The access token was not issued by us."
                )
            claims = jwt.decode(
                token,
                self._public,
                algorithms=[ALGORITHM],
                audience=self._audiences[kind],
                issuer=self._issuer,
                leeway=0,
                # Lifetime is checked below against the injected clock.
                options={
                    "require": ["exp", "iat", "sub", "aud", "iss"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.InvalidAudienceError as exc:
            raise NotAuthenticated(
                AuthErrorCode.WRONG_AUDIENCE, "This token is not valid on this endpoint."
            ) from exc
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(
                AuthErrorCode.INVALID_TOKEN, "The access token is not valid."
            ) from exc
        try:
            expires, not_before = int(claims["exp"]), int(claims.get("nbf", claims["iat"]))
            issued_at = int(claims["iat"])
        except (TypeError, ValueError) as exc:
            raise NotAuthenticated(
                AuthErrorCode.INVALID_TOKEN, "The access token is not valid."
            ) from exc
        try:
            subject = uuid.UUID(str(claims["sub"]))
        except ValueError as exc:
            raise NotAuthenticated(
                AuthErrorCode.INVALID_TOKEN, "The access token is not valid."
            ) from exc
        roles = claims.get("roles", [])
        return (
            expires,
            not_before,
            AccessClaims(
                subject_id=subject,
                kind=kind,
                roles=tuple(str(r) for r in roles) if isinstance(roles, list) else (),
                token_id=str(claims.get("jti", "")),
                issued_at=issued_at,
            ),
        )

    def jwks(self) -> dict[str, Any]:
        raw = self._public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return {
            "keys": [
                {
                    "kty": "OKP",
                    "crv": "Ed25519",
                    "x": _b64(raw),
                    "kid": self._kid,
                    "alg": ALGORITHM,
                    "use": "sig",
                }
            ]
        }
