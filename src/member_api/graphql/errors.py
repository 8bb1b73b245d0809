"""Error types as data: every one implements `Error { code message }`."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import strawberry
from graphql import GraphQLError

from member_api.error_codes import ERROR_CODE_ENUMS, ErrorCode
from member_api.errors import AccountDeletionPending, DomainError, RateLimited


@strawberry.interface(description="Every expected failure: a stable code and a readable message.")
class Error:
    code: str = strawberry.field(
        description=(
            "Stable and machine-readable: one of the values of the `*ErrorCode` enums "
            "(AuthErrorCode, MemberErrorCode, RewardErrorCode, ...), by area. New codes may "
            "be added; a client shows `message` for a code it does not know."
        )
    )
    message: str = strawberry.field(description="For people; may change wording.")


@strawberry.type(description="The input broke a rule; `field` names the input field.")
class ValidationError(Error):
    field: str | None = None


@strawberry.type(description="Missing, expired or wrong credentials or tokens.")
class AuthenticationError(Error):
    pass


@strawberry.type(
    description=(
        "Sign-in refused: the account is closed and waits for erasure at `erasesAt`. "
        "Until then `cancelToken` (a bearer token good for `cancelAccountDeletion` only) "
        "can keep the account."
    )
)
class AccountDeletionPendingError(Error):
    erases_at: datetime
    cancel_token: str


@strawberry.type(description="Signed in, but not allowed to do this.")
class ForbiddenError(Error):
    pass


@strawberry.type(description="The change conflicts with what exists already.")
class ConflictError(Error):
    field: str | None = None


@strawberry.type(description="What the input refers to does not exist.")
class NotFoundError(Error):
    pass


@strawberry.type(description="Too many attempts; try again after `retryAfterSeconds`.")
class RateLimitedError(Error):
    retry_after_seconds: int


@strawberry.type(description="A system we depend on failed or did not answer; retrying may help.")
class UpstreamError(Error):
    pass


# Every mutation result union is `Success | AnyError`, so a client can always
# select `... on Error { code message }` and a new failure never breaks the schema.
AnyError = (
    ValidationError
    | AuthenticationError
    | ForbiddenError
    | ConflictError
    | NotFoundError
    | RateLimitedError
    | UpstreamError
)


def _code_enum(enum: type[StrEnum]) -> Any:
    area = enum.__name__.removesuffix("ErrorCode") or "Request"
    return strawberry.enum(
        enum,
        description=(
            f"The `code` values of errors from the {area} area. "
            "`Error.code` is a String so that a new code never breaks a client."
        ),
    )


# Listed in the schema so clients can generate a switch over every known code.
ERROR_CODE_TYPES: tuple[Any, ...] = tuple(_code_enum(e) for e in ERROR_CODE_ENUMS)

ERROR_TYPES: tuple[type, ...] = (
    ValidationError,
    AuthenticationError,
    ForbiddenError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    UpstreamError,
)


def error_from(exc: DomainError) -> AnyError:
    """The error type a domain failure is shown as."""
    if isinstance(exc, AccountDeletionPending):
        return AccountDeletionPendingError(  # type: ignore[return-value]
            code=exc.code,
            message=exc.message,
            erases_at=exc.erases_at,
            cancel_token=exc.cancel_token,
        )
    if isinstance(exc, RateLimited):
        return RateLimitedError(
            code=exc.code, message=exc.message, retry_after_seconds=exc.retry_after_seconds
        )
    if exc.kind == "validation":
        return ValidationError(code=exc.code, message=exc.message, field=exc.field)
    if exc.kind == "conflict":
        return ConflictError(code=exc.code, message=exc.message, field=exc.field)
    if exc.kind == "authentication":
        return AuthenticationError(code=exc.code, message=exc.message)
    if exc.kind == "forbidden":
        return ForbiddenError(code=exc.code, message=exc.message)
    if exc.kind == "not_found":
        return NotFoundError(code=exc.code, message=exc.message)
    if exc.kind == "upstream":
        return UpstreamError(code=exc.code, message=exc.message)
    return ValidationError(code=exc.code, message=exc.message, field=exc.field)


class ClientError(GraphQLError):
    """A GraphQL error meant for the client (never masked), with `extensions.code`."""

    def __init__(self, code: ErrorCode, message: str, **extensions: Any) -> None:
        super().__init__(message, extensions={"code": code, **extensions})
