"""Offline events in the staff GraphQL: create events and record attendance."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from member_api.error_codes import EventErrorCode
from member_api.events import service
from member_api.events.gql import Event
from member_api.events.models import OfflineEvent as EventRow
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.staff.domain import StaffRole
from member_api.tiers.gql import TierCode
from member_api.tiers.rules import TierCode as TierCodeValue


@strawberry.input
class CreateEventInput:
    title: str
    city: str
    starts_at: datetime
    seats: int
    min_tier: TierCode | None = None


@strawberry.input
class RecordEventAttendanceInput:
    event_id: strawberry.ID
    member_id: strawberry.ID


@strawberry.type
class AttendanceRecorded:
    recorded: bool = strawberry.field(description="False when it had been recorded already.")


EventResult = Annotated[Event | AnyError, strawberry.union("EventResult")]
AttendanceResult = Annotated[
    AttendanceRecorded | AnyError, strawberry.union("RecordEventAttendanceResult")
]


@strawberry.type
class EventAdminMutation:
    @strawberry.mutation(
        description="Create an offline event.", extensions=[Roles(StaffRole.OPERATOR)]
    )
    async def create_event(self, info: GqlInfo, input: CreateEventInput) -> EventResult:
        async def work() -> EventRow:
            return await service.create_event(
                info.context.services,
                title=input.title,
                city=input.city,
                starts_at=input.starts_at,
                seats=input.seats,
                min_tier=TierCodeValue(input.min_tier.value) if input.min_tier else None,
            )

        return await outcome(work(), Event.of)

    @strawberry.mutation(
        description="Record that a member attended.", extensions=[Roles(StaffRole.OPERATOR)]
    )
    async def record_event_attendance(
        self, info: GqlInfo, input: RecordEventAttendanceInput
    ) -> AttendanceResult:
        async def work() -> bool:
            return await service.record_event_attendance(
                info.context.services,
                event_id=parse_id(input.event_id, code=EventErrorCode.UNKNOWN_EVENT, what="event"),
                member_id=parse_id(
                    input.member_id, code=EventErrorCode.UNKNOWN_MEMBER, what="member"
                ),
            )

        return await outcome(work(), lambda done: AttendanceRecorded(recorded=done))
