"""Offline events in the staff GraphQL: create, edit and cancel events, list them with
their sign-ups and attendance, and record attendance."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import strawberry
from tortoise.functions import Count

from member_api.error_codes import EventErrorCode
from member_api.errors import DomainError
from member_api.events import domain, service
from member_api.events.domain import EventChanges
from member_api.events.gql import Event
from member_api.events.models import EventAttendance
from member_api.events.models import EventSignup as SignupRow
from member_api.events.models import OfflineEvent as EventRow
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.members.masked import MaskedMember, masked_member
from member_api.staff.domain import StaffRole
from member_api.tiers.gql import TierCode
from member_api.tiers.rules import TierCode as TierCodeValue


def _event_id(value: strawberry.ID) -> uuid.UUID:
    return parse_id(value, code=EventErrorCode.UNKNOWN_EVENT, what="event")


@strawberry.type(description="A member's seat at an event and whether they came.")
class StaffEventSignup:
    row: strawberry.Private[SignupRow]
    id: strawberry.ID
    status: str = strawberry.field(description="ACTIVE (holds a seat) or CANCELLED (gave it back).")
    signed_up_at: datetime
    attended: bool
    attendance_recorded_at: datetime | None

    @strawberry.field(description="The member, masked.")
    async def member(self, info: GqlInfo) -> MaskedMember | None:
        return await masked_member(info, self.row.member_id)


@strawberry.type
class StaffEventSignupEdge:
    cursor: str
    node: StaffEventSignup


@strawberry.type
class StaffEventSignupConnection:
    edges: list[StaffEventSignupEdge]
    page_info: PageInfo


async def _signups_page(
    event_id: uuid.UUID, status: str | None, first: int, after: str | None
) -> StaffEventSignupConnection:
    query = SignupRow.filter(event_id=event_id)
    if status is not None:
        query = query.filter(status=status)
    rows, page = await newest_first_page(
        query, first=first, after=after, time_field="created_at", oldest_first=True
    )
    attended = {
        a.member_id: a.recorded_at
        for a in await EventAttendance.filter(
            event_ref=str(event_id), member_id__in=[r.member_id for _, r in rows]
        )
    }
    edges = [
        StaffEventSignupEdge(
            cursor=cursor,
            node=StaffEventSignup(
                row=row,
                id=strawberry.ID(str(row.id)),
                status=row.status,
                signed_up_at=row.created_at,
                attended=row.member_id in attended,
                attendance_recorded_at=attended.get(row.member_id),
            ),
        )
        for cursor, row in rows
    ]
    return StaffEventSignupConnection(edges=edges, page_info=page)


@strawberry.type(description="An offline event as staff see it: seats, sign-ups, cancellation.")
class StaffEvent:
    row: strawberry.Private[EventRow]
    id: strawberry.ID
    title: str
    description: str
    city: str
    starts_at: datetime
    seats: int
    seats_taken: int
    min_tier: TierCode | None
    created_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None

    @classmethod
    def of(cls, row: EventRow) -> StaffEvent:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            title=row.title,
            description=row.description,
            city=row.city,
            starts_at=row.starts_at,
            seats=row.seats,
            seats_taken=row.seats_taken,
            min_tier=TierCode(row.min_tier) if row.min_tier else None,
            created_at=row.created_at,
            cancelled_at=row.cancelled_at,
            cancel_reason=row.cancel_reason,
        )

    @strawberry.field(description="Members who signed up, oldest first, each with attendance.")
    async def sign_ups(
        self, active_only: bool = False, first: int = 20, after: str | None = None
    ) -> StaffEventSignupConnection:
        status = domain.SignupStatus.ACTIVE.value if active_only else None
        return await _signups_page(self.row.id, status, first, after)

    @strawberry.field(description="How many members' attendance has been recorded.")
    async def attended_count(self, info: GqlInfo) -> int:
        count: int = await _attended_counts(info).load(str(self.row.id))
        return count


def _attended_counts(info: GqlInfo) -> Any:
    """Attendance per event, for every event of the page in one query."""

    async def load(refs: list[str]) -> list[int]:
        rows = (
            await EventAttendance.filter(event_ref__in=refs)
            .annotate(n=Count("id"))
            .group_by("event_ref")
            .values_list("event_ref", "n")
        )
        counts = {ref: int(n) for ref, n in rows}
        return [counts.get(ref, 0) for ref in refs]

    return info.context.loader("event-attendance-counts", load)


@strawberry.type
class StaffEventEdge:
    cursor: str
    node: StaffEvent


@strawberry.type
class StaffEventConnection:
    edges: list[StaffEventEdge]
    page_info: PageInfo


@strawberry.type(description="The event is cancelled; `notified` members held a seat.")
class EventCancelled:
    event: StaffEvent
    notified: int


@strawberry.input
class CreateEventInput:
    title: str
    city: str
    starts_at: datetime
    seats: int
    min_tier: TierCode | None = None
    description: str = ""


@strawberry.input(description="Only the fields given change.")
class UpdateEventInput:
    event_id: strawberry.ID
    title: str | None = None
    description: str | None = None
    city: str | None = strawberry.field(default=None, description="Where it takes place.")
    starts_at: datetime | None = None
    seats: int | None = strawberry.field(
        default=None, description="Never fewer than the members holding a seat."
    )


@strawberry.input
class CancelEventInput:
    event_id: strawberry.ID
    reason: str = strawberry.field(description="Told to every member holding a seat.")


@strawberry.input
class RecordEventAttendanceInput:
    event_id: strawberry.ID
    member_id: strawberry.ID


@strawberry.type
class AttendanceRecorded:
    recorded: bool = strawberry.field(description="False when it had been recorded already.")


EventResult = Annotated[Event | AnyError, strawberry.union("EventResult")]
UpdateEventResult = Annotated[StaffEvent | AnyError, strawberry.union("UpdateEventResult")]
CancelEventResult = Annotated[EventCancelled | AnyError, strawberry.union("CancelEventResult")]
AttendanceResult = Annotated[
    AttendanceRecorded | AnyError, strawberry.union("RecordEventAttendanceResult")
]


@strawberry.type
class EventAdminQuery:
    @strawberry.field(
        description=(
            "Offline events, latest start first; `upcoming` picks those not started (true) "
            "or started (false), `cancelled` those cancelled or not."
        ),
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def events(
        self,
        info: GqlInfo,
        upcoming: bool | None = None,
        cancelled: bool | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> StaffEventConnection:
        query = EventRow.all()
        now = info.context.services.clock.now()
        if upcoming is not None:
            query = (
                query.filter(starts_at__gt=now) if upcoming else query.filter(starts_at__lte=now)
            )
        if cancelled is not None:
            query = query.filter(cancelled_at__isnull=not cancelled)
        rows, page = await newest_first_page(
            query, first=first, after=after, time_field="starts_at"
        )
        return StaffEventConnection(
            edges=[StaffEventEdge(cursor=c, node=StaffEvent.of(r)) for c, r in rows],
            page_info=page,
        )

    @strawberry.field(
        description="One event with its sign-ups; null for an unknown id.",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def event(self, id: strawberry.ID) -> StaffEvent | None:
        try:
            event_id = _event_id(id)
        except DomainError:
            return None
        row = await EventRow.get_or_none(id=event_id)
        return StaffEvent.of(row) if row else None


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
                description=input.description,
            )

        return await outcome(work(), Event.of)

    @strawberry.mutation(
        description=(
            "Change an event's title, description, place, start or seats, until it starts."
        ),
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def update_event(self, info: GqlInfo, input: UpdateEventInput) -> UpdateEventResult:
        async def work() -> EventRow:
            changes = EventChanges(
                title=input.title,
                description=input.description,
                city=input.city,
                starts_at=input.starts_at,
                seats=input.seats,
            )
            return await service.update_event(
                info.context.services, event_id=_event_id(input.event_id), changes=changes
            )

        return await outcome(work(), StaffEvent.of)

    @strawberry.mutation(
        description=(
            "Cancel an event: members holding a seat are notified; attendance and its "
            "points stay; no seat is taken or attendance recorded after."
        ),
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def cancel_event(self, info: GqlInfo, input: CancelEventInput) -> CancelEventResult:
        async def work() -> tuple[EventRow, int]:
            staff_id = info.context.require_subject()
            return await service.cancel_event(
                info.context.services,
                event_id=_event_id(input.event_id),
                staff_id=staff_id,
                reason=input.reason,
            )

        return await outcome(
            work(), lambda done: EventCancelled(event=StaffEvent.of(done[0]), notified=done[1])
        )

    @strawberry.mutation(
        description="Record that a member attended.", extensions=[Roles(StaffRole.OPERATOR)]
    )
    async def record_event_attendance(
        self, info: GqlInfo, input: RecordEventAttendanceInput
    ) -> AttendanceResult:
        async def work() -> bool:
            return await service.record_event_attendance(
                info.context.services,
                event_id=_event_id(input.event_id),
                member_id=parse_id(
                    input.member_id, code=EventErrorCode.UNKNOWN_MEMBER, what="member"
                ),
            )

        return await outcome(work(), lambda done: AttendanceRecorded(recorded=done))
