"""Offline events in GraphQL: upcoming events, seats, sign-ups."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry

from member_api.error_codes import EventErrorCode
from member_api.events import domain, service
from member_api.events.models import EventSignup as SignupRow
from member_api.events.models import OfflineEvent as EventRow
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome


@strawberry.type
class Event:
    event_id: strawberry.Private[uuid.UUID]
    id: strawberry.ID
    title: str
    description: str
    city: str
    starts_at: datetime
    seats: int
    seats_left: int
    cancelled_at: datetime | None = strawberry.field(
        description="When staff cancelled the event; null while it goes ahead."
    )

    @classmethod
    def of(cls, row: EventRow) -> Event:
        return cls(
            event_id=row.id,
            id=strawberry.ID(str(row.id)),
            title=row.title,
            description=row.description,
            city=row.city,
            starts_at=row.starts_at,
            seats=row.seats,
            seats_left=domain.seats_left(row.seats, row.seats_taken),
            cancelled_at=row.cancelled_at,
        )

    @strawberry.field(description="Whether the signed-in member holds a seat.")
    async def signed_up_by_me(self, info: GqlInfo) -> bool:
        member_id = info.context.viewer_id()
        if member_id is None:
            return False

        async def load(event_ids: list[uuid.UUID]) -> list[bool]:
            held = set(
                await SignupRow.filter(
                    event_id__in=event_ids,
                    member_id=member_id,
                    status=domain.SignupStatus.ACTIVE.value,
                ).values_list("event_id", flat=True)
            )
            return [event_id in held for event_id in event_ids]

        # A page of events reads the member's seats among them in one query.
        signed_up = info.context.loader("events-signed-up-by-me", load)
        found: bool = await signed_up.load(self.event_id)
        return found


@strawberry.type
class EventEdge:
    cursor: str
    node: Event


@strawberry.type
class EventConnection:
    edges: list[EventEdge]
    page_info: PageInfo


@strawberry.type
class EventSignup:
    id: strawberry.ID
    status: str
    event: Event


@strawberry.input
class SignUpForEventInput:
    event_id: strawberry.ID


SignupResult = Annotated[EventSignup | AnyError, strawberry.union("EventSignupResult")]


async def _signup_of(row: SignupRow) -> EventSignup:
    event = await EventRow.get(id=row.event_id)
    return EventSignup(id=strawberry.ID(str(row.id)), status=row.status, event=Event.of(event))


@strawberry.type
class EventQuery:
    @strawberry.field(
        description="Upcoming offline events, soonest first; cancelled ones left out."
    )
    async def events(
        self, info: GqlInfo, first: int = 20, after: str | None = None
    ) -> EventConnection:
        query = EventRow.filter(
            starts_at__gt=info.context.services.clock.now(), cancelled_at__isnull=True
        )
        rows, page_info = await newest_first_page(
            query, first=first, after=after, time_field="starts_at", oldest_first=True
        )
        return EventConnection(
            edges=[EventEdge(cursor=c, node=Event.of(r)) for c, r in rows], page_info=page_info
        )


@strawberry.type
class EventMutation:
    @strawberry.mutation(description="Take a seat at an event.")
    async def sign_up_for_event(self, info: GqlInfo, input: SignUpForEventInput) -> SignupResult:
        async def work() -> EventSignup:
            member_id = await info.context.record_member_action()
            row = await service.sign_up(
                info.context.services,
                member_id=member_id,
                event_id=parse_id(input.event_id, code=EventErrorCode.UNKNOWN_EVENT, what="event"),
            )
            return await _signup_of(row)

        return await outcome(work(), lambda signup: signup)

    @strawberry.mutation(description="Give the seat back.")
    async def cancel_event_sign_up(self, info: GqlInfo, input: SignUpForEventInput) -> SignupResult:
        async def work() -> EventSignup:
            member_id = await info.context.record_member_action()
            row = await service.cancel_sign_up(
                info.context.services,
                member_id=member_id,
                event_id=parse_id(input.event_id, code=EventErrorCode.UNKNOWN_EVENT, what="event"),
            )
            return await _signup_of(row)

        return await outcome(work(), lambda signup: signup)
