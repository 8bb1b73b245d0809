"""Attendance at offline events: it earns points later, and counts toward Diamond now."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from member_api.error_codes import EventErrorCode
from member_api.errors import NotFound
from member_api.events import domain
from member_api.events.domain import EventDraft, SignupStatus
from member_api.events.models import EventAttendance, EventSignup, OfflineEvent
from member_api.members.activity import bump_facts_version, mark_active
from member_api.members.models import Member
from member_api.points import service as points
from member_api.points.domain import Reason
from member_api.services import Services
from member_api.tasks import service as tasks
from member_api.tasks.domain import Action
from member_api.tiers import service as tiers
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
    domain.check_draft(EventDraft(title, city, starts_at, seats, min_tier), services.clock.now())
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
        raise NotFound(EventErrorCode.UNKNOWN_EVENT, "No event has that id.")
    domain.check_open(event.starts_at, services.clock.now())
    return event


async def sign_up(services: Services, *, member_id: uuid.UUID, event_id: uuid.UUID) -> EventSignup:
    """Take a seat: never more seats than exist, one seat per member."""
    event = await _open_event(services, event_id)
    member = await Member.get(id=member_id)
    min_tier = TierCode(event.min_tier) if event.min_tier else None
    domain.check_tier(TierCode(member.tier), min_tier)
    try:
        async with in_transaction():
            signup = await EventSignup.get_or_none(event_id=event.id, member_id=member_id)
            if signup is None:
                # The unique key (event, member) stops a second seat for one member.
                signup = await EventSignup.create(
                    event_id=event.id, member_id=member_id, created_at=services.clock.now()
                )
            else:
                domain.check_may_sign_up_again(signup.status)
                reopened = await EventSignup.filter(
                    id=signup.id, status=SignupStatus.CANCELLED.value
                ).update(status=SignupStatus.ACTIVE.value)
                if not reopened:
                    raise domain.already_signed_up()
                signup.status = SignupStatus.ACTIVE.value
            await tasks.record(
                services, member_id=member_id, action=Action.EVENT_SIGN_UP, reference=str(event.id)
            )
            seated = await OfflineEvent.filter(id=event.id, seats_taken__lt=F("seats")).update(
                seats_taken=F("seats_taken") + 1
            )
            if not seated:
                raise domain.no_seats_left()
    except IntegrityError as exc:
        raise domain.already_signed_up() from exc
    return signup


async def cancel_sign_up(
    services: Services, *, member_id: uuid.UUID, event_id: uuid.UUID
) -> EventSignup:
    await _open_event(services, event_id)
    async with in_transaction():
        signup = await EventSignup.get_or_none(event_id=event_id, member_id=member_id)
        cancelled = 0
        if signup is not None:
            cancelled = await EventSignup.filter(
                id=signup.id, status=SignupStatus.ACTIVE.value
            ).update(status=SignupStatus.CANCELLED.value)
        if not cancelled or signup is None:
            raise domain.no_seat_to_give_back()
        await OfflineEvent.filter(id=event_id).update(seats_taken=F("seats_taken") - 1)
        signup.status = SignupStatus.CANCELLED.value
    return signup


async def record_event_attendance(
    services: Services, *, event_id: uuid.UUID, member_id: uuid.UUID
) -> bool:
    """Staff: the member came. Needs their seat; earns points and counts toward Diamond."""
    event = await OfflineEvent.get_or_none(id=event_id)
    if event is None:
        raise NotFound(EventErrorCode.UNKNOWN_EVENT, "No event has that id.")
    holds_seat = await EventSignup.exists(
        event_id=event_id, member_id=member_id, status=SignupStatus.ACTIVE.value
    )
    domain.check_may_attend(holds_seat)
    return await record_attendance(
        services,
        member_id=member_id,
        event_ref=str(event.id),
        attended_on=domain.attendance_day(event.starts_at),
    )
