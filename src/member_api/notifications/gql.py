"""The member's inbox as a connection, newest first."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from tortoise.expressions import Q

from member_api.graphql.pagination import PageInfo, check_first, decode_cursor, encode_cursor
from member_api.notifications.models import Notification as NotificationRow


@strawberry.type
class Notification:
    id: strawberry.ID
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


@strawberry.type
class NotificationEdge:
    cursor: str
    node: Notification


@strawberry.type
class NotificationConnection:
    edges: list[NotificationEdge]
    page_info: PageInfo


async def notifications_page(
    member_id: uuid.UUID, first: int, after: str | None
) -> NotificationConnection:
    check_first(first)
    query = NotificationRow.filter(member_id=member_id)
    position = decode_cursor(after, 2)
    if position is not None:
        at, last_id = datetime.fromisoformat(position[0]), position[1]
        query = query.filter(Q(created_at__lt=at) | Q(created_at=at, id__lt=last_id))
    rows = await query.order_by("-created_at", "-id").limit(first + 1)
    edges = [
        NotificationEdge(
            cursor=encode_cursor(row.created_at.isoformat(), str(row.id)),
            node=Notification(
                id=strawberry.ID(str(row.id)),
                kind=row.kind,
                title=row.title,
                body=row.body,
                created_at=row.created_at,
                read_at=row.read_at,
            ),
        )
        for row in rows[:first]
    ]
    return NotificationConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=len(rows) > first, end_cursor=edges[-1].cursor if edges else None
        ),
    )
