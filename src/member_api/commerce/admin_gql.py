"""Staff GraphQL: record a commerce event by hand."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from member_api.commerce.domain import parse_event
from member_api.commerce.service import apply_event
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.graphql.scalars import Fen
from member_api.staff.domain import StaffRole


@strawberry.enum
class CommerceEventType(Enum):
    ORDER_PAID = "order.paid"
    ORDER_REFUNDED = "order.refunded"
    CONSIGNMENT_COMPLETED = "consignment.completed"
    AUTHENTICATION_COMPLETED = "authentication.completed"


@strawberry.input
class CommerceEventInput:
    event_id: str
    type: CommerceEventType
    occurred_at: datetime
    member_id: strawberry.ID
    amount_fen: Fen | None = None
    order_id: str | None = None
    consignment_id: str | None = None
    item_public_id: str | None = None


@strawberry.type
class CommerceEventRecorded:
    event_id: str
    status: str = strawberry.field(description="APPLIED, or DUPLICATE for a replayed eventId.")


RecordCommerceEventResult = Annotated[
    CommerceEventRecorded | AnyError, strawberry.union("RecordCommerceEventResult")
]


@strawberry.type
class CommerceAdminMutation:
    @strawberry.mutation(
        description="Apply a commerce event, exactly as the webhook would.",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def record_commerce_event(
        self, info: GqlInfo, input: CommerceEventInput
    ) -> RecordCommerceEventResult:
        async def work() -> str:
            staff_id = info.context.require_subject()
            event = parse_event(
                {
                    "eventId": input.event_id,
                    "type": input.type.value,
                    "occurredAt": input.occurred_at,
                    "memberId": str(input.member_id),
                    "amountFen": input.amount_fen,
                    "orderId": input.order_id,
                    "consignmentId": input.consignment_id,
                    "itemPublicId": input.item_public_id,
                },
                now=info.context.services.clock.now(),
            )
            return await apply_event(info.context.services, event, source=f"staff:{staff_id}")

        return await outcome(
            work(),
            lambda status: CommerceEventRecorded(event_id=input.event_id, status=status.upper()),
        )
