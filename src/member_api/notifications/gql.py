"""The member's inbox as a connection, newest first."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry

from member_api.graphql.pagination import PageInfo, newest_first_page
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
    rows, page_info = await newest_first_page(
        NotificationRow.filter(member_id=member_id),
        first=first,
        after=after,
        time_field="created_at",
    )
    edges = [
        NotificationEdge(
            cursor=cursor,
            node=Notification(
                id=strawberry.ID(str(row.id)),
                kind=row.kind,
                title=row.title,
                body=row.body,
                created_at=row.created_at,
                read_at=row.read_at,
            ),
        )
        for cursor, row in rows
    ]
    return NotificationConnection(edges=edges, page_info=page_info)
