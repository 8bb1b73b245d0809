"""Attendance at offline events: it earns points later, and counts toward Diamond now."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from member_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from member_api.events.models import EventAttendance, EventSignup, OfflineEvent
from member_api.members.activity import bump_facts_version, mark_active
from member_api.members.models import Member
from member_api.points import service as points
from member_api.points.domain import Reason
from member_api.services import Services
from member_api.tasks import service as tasks
from member_api.tasks.domain import Action
from member_api.tiers import service as tiers
from member_api.tiers.domain import business_date
from member_api.tiers.rules import TierCode


async def record_attendance(
    services: Services, *, member_id: uuid.UUID, event_ref: str, attended_on: date
) -> bool:
    """Record that the member attended; False when it was recorded already."""
    try:
        async with in_transaction():
            member = await tiers.lock_member(member_id)
            if await EventAttendance.filter(member_id=member_id, event_ref=event_ref).exists():
                return False
            await EventAttendance.create(
                member_id=member_id,
                event_ref=event_ref,
                attended_on=attended_on,
                recorded_at=services.clock.now(),
            )
            await mark_active(member_id, attended_on)
            await points.credit_activity(
                services,
                member_id=member_id,
                reason=Reason.EVENT,
                points=services.settings.points_rules.event_attendance_points,
                reference=f"attendance:{event_ref}",
            )
            await bump_facts_version(member_id)
            await tiers.upgrade_if_earned(services, member, reference=f"attendance:{event_ref}")
    except IntegrityError:
        return False
    return True


async def create_event(
    services: Services,
    *,
    title: str,
    city: str,
    starts_at: datetime,
    seats: int,
    min_tier: TierCode | None,
) -> OfflineEvent:
    if not title.strip() or len(title) > 120:
        raise InvalidInput("INVALID_TITLE", "Title: 1 to 120 characters.", field="title")
    if not city.strip() or len(city) > 60:
        raise InvalidInput("INVALID_CITY", "City: 1 to 60 characters.", field="city")
    if starts_at.tzinfo is None or starts_at <= services.clock.now():
        raise InvalidInput(
            "INVALID_START", "Give a future start time with a UTC offset.", field="startsAt"
        )
    if not 1 <= seats <= 100_000:
        raise InvalidInput("INVALID_SEATS", "Seats: 1 to 100,000.", field="seats")
    return await OfflineEvent.create(
        title=title.strip(),
        city=city.strip(),
        starts_at=starts_at,
        seats=seats,
        min_tier=min_tier.value if min_tier else None,
        created_at=services.clock.now(),
    )


async def _open_event(services: Services, event_id: uuid.UUID) -> OfflineEvent:
    event = await OfflineEvent.get_or_none(id=event_id)
    if event is None:
        raise NotFound("UNKNOWN_EVENT", "No event has that id.")
    if event.starts_at <= services.clock.now():
        raise Conflict("EVENT_STARTED", "This event has started already.")
    return event


async def sign_up(services: Services, *, member_id: uuid.UUID, event_id: uuid.UUID) -> EventSignup:
    """Take a seat: never more seats than exist, one seat per member."""
    event = await _open_event(services, event_id)
    member = await Member.get(id=member_id)
    if event.min_tier and TierCode(member.tier).rank < TierCode(event.min_tier).rank:
        raise Forbidden("TIER_TOO_LOW", f"This event is for tier {event.min_tier} and above.")
    try:
        async with in_transaction():
            signup = await EventSignup.get_or_none(event_id=event.id, member_id=member_id)
            if signup is not None and signup.status == "ACTIVE":
                raise Conflict("ALREADY_SIGNED_UP", "You have a seat at this event already.")
            if signup is None:
                # The unique key (event, member) stops a second seat for one member.
                signup = await EventSignup.create(
                    event_id=event.id, member_id=member_id, created_at=services.clock.now()
                )
            else:
                reopened = await EventSignup.filter(id=signup.id, status="CANCELLED").update(
                    status="ACTIVE"
                )
                if not reopened:
                    raise Conflict("ALREADY_SIGNED_UP", "You have a seat at this event already.")
                signup.status = "ACTIVE"
            await tasks.record(
                services, member_id=member_id, action=Action.EVENT_SIGN_UP, reference=str(event.id)
            )
            seated = await OfflineEvent.filter(id=event.id, seats_taken__lt=F("seats")).update(
                seats_taken=F("seats_taken") + 1
            )
            if not seated:
                raise Conflict("NO_SEATS_LEFT", "Every seat is taken.")
    except IntegrityError as exc:
        raise Conflict("ALREADY_SIGNED_UP", "You have a seat at this event already.") from exc
    return signup


async def cancel_sign_up(
    services: Services, *, member_id: uuid.UUID, event_id: uuid.UUID
) -> EventSignup:
    await _open_event(services, event_id)
    async with in_transaction():
        signup = await EventSignup.get_or_none(event_id=event_id, member_id=member_id)
        cancelled = 0
        if signup is not None:
            cancelled = await EventSignup.filter(id=signup.id, status="ACTIVE").update(
                status="CANCELLED"
            )
        if not cancelled or signup is None:
            raise NotFound("NOT_SIGNED_UP", "You have no seat at this event.")
        await OfflineEvent.filter(id=event_id).update(seats_taken=F("seats_taken") - 1)
        signup.status = "CANCELLED"
    return signup


async def record_event_attendance(
    services: Services, *, event_id: uuid.UUID, member_id: uuid.UUID
) -> bool:
    """Staff: the member came. Needs their seat; earns points and counts toward Diamond."""
    event = await OfflineEvent.get_or_none(id=event_id)
    if event is None:
        raise NotFound("UNKNOWN_EVENT", "No event has that id.")
    if not await EventSignup.exists(event_id=event_id, member_id=member_id, status="ACTIVE"):
        raise Conflict("NOT_SIGNED_UP", "The member has no seat at this event.")
    return await record_attendance(
        services,
        member_id=member_id,
        event_ref=str(event.id),
        attended_on=business_date(event.starts_at),
    )
