"""The member's inbox as a connection, newest first, and marking a notification read."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from member_api.error_codes import NotificationErrorCode
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome
from member_api.notifications import service
from member_api.notifications.models import Notification as NotificationRow


@strawberry.type
class Notification:
    id: strawberry.ID
    kind: str
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None


def notification_of(row: NotificationRow) -> Notification:
    return Notification(
        id=strawberry.ID(str(row.id)),
        kind=row.kind,
        title=row.title,
        body=row.body,
        created_at=row.created_at,
        read_at=row.read_at,
    )


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
    edges = [NotificationEdge(cursor=cursor, node=notification_of(row)) for cursor, row in rows]
    return NotificationConnection(edges=edges, page_info=page_info)


@strawberry.input
class MarkNotificationReadInput:
    id: strawberry.ID


MarkNotificationReadResult = Annotated[
    Notification | AnyError, strawberry.union("MarkNotificationReadResult")
]


@strawberry.type
class NotificationMutation:
    @strawberry.mutation(description="Mark one of your notifications read (once; idempotent).")
    async def mark_notification_read(
        self, info: GqlInfo, input: MarkNotificationReadInput
    ) -> MarkNotificationReadResult:
        async def work() -> NotificationRow:
            member_id = await info.context.record_member_action()
            notification_id = parse_id(
                input.id, code=NotificationErrorCode.UNKNOWN_NOTIFICATION, what="notification"
            )
            now = info.context.services.clock.now()
            return await service.mark_read(member_id, notification_id, now)

        return await outcome(work(), notification_of)
