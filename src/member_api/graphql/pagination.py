"""Relay-style connections with keyset cursors: `first` (at most 100) and `after`."""

from __future__ import annotations

import base64
import json
from typing import Any

import strawberry

from member_api.graphql.errors import ClientError

MAX_FIRST = 100


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def check_first(first: int) -> int:
    if first < 0 or first > MAX_FIRST:
        raise ClientError("INVALID_ARGUMENT", f"first must be between 0 and {MAX_FIRST}.")
    return first


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ClientError("INVALID_CURSOR", "The cursor is not one we gave out.") from exc
    if not isinstance(values, list) or len(values) != size:
        raise ClientError("INVALID_CURSOR", "The cursor is not one we gave out.")
    return values
