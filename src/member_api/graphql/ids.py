"""Ids in GraphQL are opaque strings; a malformed one names nothing."""

from __future__ import annotations

import uuid

from member_api.error_codes import ErrorCode
from member_api.errors import NotFound


def parse_id(value: str, *, code: ErrorCode, what: str) -> uuid.UUID:
    """The UUID behind a GraphQL id; a malformed id is simply not found."""
    try:
        return uuid.UUID(str(value))
    except ValueError as exc:
        raise NotFound(code, f"No {what} has that id.") from exc
