"""GraphQL types shared by the member and staff sign-in mutations."""

from __future__ import annotations

from typing import Annotated

import strawberry

from member_api.auth.sessions import IssuedTokens
from member_api.graphql.errors import AccountDeletionPendingError, AnyError


@strawberry.type(description="A signed-in session.")
class AuthTokens:
    access_token: str = strawberry.field(description="Send as 'Authorization: Bearer ...'.")
    refresh_token: str = strawberry.field(description="Opaque; single use; rotate it.")
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")

    @classmethod
    def from_issued(cls, issued: IssuedTokens) -> AuthTokens:
        return cls(
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            expires_in=issued.expires_in,
        )


@strawberry.type(description="The session was signed out.")
class LogoutSuccess:
    ok: bool = True


@strawberry.input
class RefreshTokensInput:
    refresh_token: str


@strawberry.input
class LogoutInput:
    refresh_token: str


AuthResult = Annotated[
    AuthTokens | AccountDeletionPendingError | AnyError, strawberry.union("AuthResult")
]
LogoutResult = Annotated[LogoutSuccess | AnyError, strawberry.union("LogoutResult")]


def logged_out(_: None) -> LogoutSuccess:
    return LogoutSuccess()
