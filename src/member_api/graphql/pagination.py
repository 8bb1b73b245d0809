"""Relay-style connections with keyset cursors: `first` (at most 100) and `after`."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, TypeVar

import strawberry
from tortoise import fields
from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from member_api.error_codes import RequestErrorCode
from member_api.graphql.errors import ClientError

MAX_FIRST = 100
M = TypeVar("M", bound=Model)


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


def check_first(first: int) -> int:
    if first < 0 or first > MAX_FIRST:
        raise ClientError(
            RequestErrorCode.INVALID_ARGUMENT, f"first must be between 0 and {MAX_FIRST}."
        )
    return first


def encode_cursor(*values: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(values, default=str).encode()).decode()


def decode_cursor(cursor: str | None, size: int) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        if len(cursor) > 512:
            raise ValueError("too long")
        values = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ClientError(
            RequestErrorCode.INVALID_CURSOR, "The cursor is not one we gave out."
        ) from exc
    if not isinstance(values, list) or len(values) != size:
        raise ClientError(RequestErrorCode.INVALID_CURSOR, "The cursor is not one we gave out.")
    return values


async def newest_first_page(
    query: QuerySet[M],
    *,
    first: int,
    after: str | None,
    time_field: str,
    oldest_first: bool = False,
) -> tuple[list[tuple[str, M]], PageInfo]:
    """A page of rows newest (or oldest) first, by (`time_field`, id); cursors neither skip
    nor repeat a row when new rows arrive."""
    ordered = _keyset(query, first=first, after=after, time_field=time_field, old=oldest_first)
    rows = await ordered
    page = rows[:first]
    cursors = [
        encode_cursor(getattr(row, time_field).isoformat(), _cursor_id(row.pk)) for row in page
    ]
    info = PageInfo(has_next_page=len(rows) > first, end_cursor=cursors[-1] if cursors else None)
    return list(zip(cursors, page, strict=True)), info


async def newest_first_values(
    query: QuerySet[M],
    fields: Sequence[str],
    *,
    first: int,
    after: str | None,
    time_field: str,
    oldest_first: bool = False,
    related: Mapping[str, str] | None = None,
) -> tuple[list[tuple[str, dict[str, Any]]], PageInfo]:
    """The page `newest_first_page` gives, as plain dicts of `fields` (which must hold
    `time_field` and the key): no model instance is built for a row. `related` adds
    columns of related rows, read in the same statement: {"key in the dict": "relation__field"}.
    """
    ordered = _keyset(query, first=first, after=after, time_field=time_field, old=oldest_first)
    key = query.model._meta.pk_attr
    rows = await ordered.values(*fields, **(related or {}))
    page = rows[:first]
    cursors = [encode_cursor(row[time_field].isoformat(), _cursor_id(row[key])) for row in page]
    info = PageInfo(has_next_page=len(rows) > first, end_cursor=cursors[-1] if cursors else None)
    return list(zip(cursors, page, strict=True)), info


def _keyset(
    query: QuerySet[M], *, first: int, after: str | None, time_field: str, old: bool
) -> QuerySet[M]:
    """`query` past the cursor `after`, ordered by (`time_field`, id), one row beyond
    `first` (so the page knows whether more follow)."""
    check_first(first)
    position = decode_cursor(after, 2)
    if position is not None:
        at = _cursor_time(position[0])
        last = _cursor_pk(position[1], query.model)
        op = "gt" if old else "lt"
        beyond: dict[str, Any] = {f"{time_field}__{op}": at}
        same_time: dict[str, Any] = {time_field: at, f"id__{op}": last}
        query = query.filter(Q(**beyond) | Q(**same_time))
    sign = "" if old else "-"
    return query.order_by(f"{sign}{time_field}", f"{sign}id").limit(first + 1)


def _invalid_cursor() -> ClientError:
    return ClientError(RequestErrorCode.INVALID_CURSOR, "The cursor is not one we gave out.")


def _cursor_time(value: object) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise _invalid_cursor() from exc
    if moment.tzinfo is None or not 2000 <= moment.year <= 9000:
        raise _invalid_cursor()
    return moment


def _cursor_pk(value: object, model: type[Model]) -> int | str:
    """The id part must have the type of the table's key, within its range."""
    if isinstance(model._meta.pk, fields.UUIDField):
        try:
            return str(uuid.UUID(str(value)))
        except ValueError as exc:
            raise _invalid_cursor() from exc
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 2**63:
        raise _invalid_cursor()
    return value


def _cursor_id(pk: Any) -> int | str:
    return pk if isinstance(pk, int) else str(pk)
