"""Expected failures as values: a stable code, a message a person can read."""

from __future__ import annotations

from datetime import datetime

from member_api.error_codes import ErrorCode


class DomainError(Exception):
    """A business rule said no. `code` is stable; clients switch on it."""

    kind = "domain"

    def __init__(self, code: ErrorCode, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field


class InvalidInput(DomainError):
    kind = "validation"


class NotAuthenticated(DomainError):
    kind = "authentication"


class AccountDeletionPending(NotAuthenticated):
    """Sign-in to an account waiting for erasure: refused, with the date and a token that
    can only cancel the deletion."""

    def __init__(
        self, code: ErrorCode, message: str, *, erases_at: datetime, cancel_token: str
    ) -> None:
        super().__init__(code, message)
        self.erases_at = erases_at
        self.cancel_token = cancel_token


class Forbidden(DomainError):
    kind = "forbidden"


class Conflict(DomainError):
    kind = "conflict"


class NotFound(DomainError):
    kind = "not_found"


class RateLimited(DomainError):
    kind = "rate_limited"

    def __init__(self, code: ErrorCode, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(code, message)
        self.retry_after_seconds = retry_after_seconds


class UpstreamFailure(DomainError):
    kind = "upstream"
