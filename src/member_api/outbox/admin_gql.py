"""Staff GraphQL for the outbox: what is queued, sent or dead, and replaying the dead."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry.scalars import JSON

from member_api.audit import service as audit
from member_api.error_codes import OutboxErrorCode
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.outbox import service
from member_api.outbox.domain import Channel, OutboxStatus
from member_api.outbox.models import OutboxMessage as OutboxRow
from member_api.staff.domain import StaffRole

strawberry.enum(Channel, name="OutboxChannel")
strawberry.enum(OutboxStatus, name="OutboxMessageStatus")


@strawberry.type(description="A message that leaves the service, and how its delivery went.")
class OutboxMessage:
    id: strawberry.ID
    channel: Channel
    recipient: str = strawberry.field(
        description="A member id (push, SMS), an openid (WeChat) or an event type (webhook)."
    )
    payload: JSON
    dedupe_key: str
    status: OutboxStatus
    attempts: int = strawberry.field(description="Failed attempts so far.")
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def message_of(row: OutboxRow) -> OutboxMessage:
    return OutboxMessage(
        id=strawberry.ID(str(row.id)),
        channel=Channel(row.channel),
        recipient=row.recipient,
        payload=JSON(row.payload),
        dedupe_key=row.dedupe_key,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )


@strawberry.type
class OutboxMessageEdge:
    cursor: str
    node: OutboxMessage


@strawberry.type
class OutboxMessageConnection:
    edges: list[OutboxMessageEdge]
    page_info: PageInfo


@strawberry.input
class ReplayOutboxMessageInput:
    id: strawberry.ID


ReplayResult = Annotated[OutboxMessage | AnyError, strawberry.union("ReplayOutboxMessageResult")]


@strawberry.type
class OutboxAdminQuery:
    @strawberry.field(
        description="Outbox messages, newest first; `status: DEAD` lists the dead letters.",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def outbox_messages(
        self,
        info: GqlInfo,
        status: OutboxStatus | None = None,
        channel: Channel | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> OutboxMessageConnection:
        query = OutboxRow.all()
        if status is not None:
            query = query.filter(status=status.value)
        if channel is not None:
            query = query.filter(channel=channel.value)
        rows, page = await newest_first_page(
            query, first=first, after=after, time_field="created_at"
        )
        if rows:
            # Recipients and payloads are members' ids, openids and message texts.
            messages = [str(r.id) for _, r in rows]
            shown = {"status": status, "channel": channel, "first": first, "messages": messages}
            await audit.record_read(info, "outboxMessages", details=shown)
        return OutboxMessageConnection(
            edges=[OutboxMessageEdge(cursor=c, node=message_of(r)) for c, r in rows],
            page_info=page,
        )


@strawberry.type
class OutboxAdminMutation:
    @strawberry.mutation(
        description="Send a dead message again: pending, due now, its attempts reset.",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def replay_outbox_message(
        self, info: GqlInfo, input: ReplayOutboxMessageInput
    ) -> ReplayResult:
        async def replay() -> OutboxRow:
            message_id = parse_id(
                input.id, code=OutboxErrorCode.UNKNOWN_MESSAGE, what="outbox message"
            )
            return await service.replay_message(info.context.services, message_id)

        return await outcome(replay(), message_of)
