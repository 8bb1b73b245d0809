"""Attendance at offline events: it earns points later, and counts toward Diamond now."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.business_calendar import business_date
from member_api.error_codes import EventErrorCode
from member_api.errors import NotFound
from member_api.events import domain
from member_api.events.domain import EventChanges, EventDraft, SignupStatus
from member_api.events.models import EventAttendance, EventSignup, OfflineEvent
from member_api.members.activity import bump_facts_version, mark_active
from member_api.members.models import Member
from member_api.notifications.service import notify
from member_api.outbox.domain import Channel
from member_api.outbox.service import enqueue
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
    description: str = "",
) -> OfflineEvent:
    draft = EventDraft(title, city, starts_at, seats, min_tier, description.strip())
    domain.check_draft(draft, services.clock.now())
    return await OfflineEvent.create(
        title=title.strip(),
        description=draft.description,
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
    domain.check_not_cancelled(event.cancelled_at)
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
            await freshness.touch(freshness.EVENTS)
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
            # The seat is taken only while the event is not cancelled and has one free.
            seated = await OfflineEvent.filter(
                id=event.id, seats_taken__lt=F("seats"), cancelled_at__isnull=True
            ).update(seats_taken=F("seats_taken") + 1)
            if not seated:
                if await OfflineEvent.exists(id=event.id, cancelled_at__isnull=False):
                    raise domain.event_cancelled()
                raise domain.no_seats_left()
    except IntegrityError as exc:
        raise domain.already_signed_up() from exc
    return signup


async def cancel_sign_up(
    services: Services, *, member_id: uuid.UUID, event_id: uuid.UUID
) -> EventSignup:
    await _open_event(services, event_id)
    async with in_transaction():
        await freshness.touch(freshness.EVENTS)
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
    """Staff: the member came. Needs their seat and an event not cancelled; earns points
    and counts toward Diamond."""
    async with in_transaction():
        # The member first, then the event: the order a sign-up takes them in. The event
        # row stays locked, so a cancellation cannot slip in before the attendance commits.
        await tiers.lock_member(member_id)
        event = await OfflineEvent.select_for_update(no_key=True).get_or_none(id=event_id)
        if event is None:
            raise NotFound(EventErrorCode.UNKNOWN_EVENT, "No event has that id.")
        domain.check_not_cancelled(event.cancelled_at)
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


async def _locked_event(event_id: uuid.UUID) -> OfflineEvent:
    event = await OfflineEvent.select_for_update(no_key=True).get_or_none(id=event_id)
    if event is None:
        raise NotFound(EventErrorCode.UNKNOWN_EVENT, "No event has that id.")
    return event


async def update_event(
    services: Services, *, event_id: uuid.UUID, changes: EventChanges
) -> OfflineEvent:
    """Staff: change the title, description, city, start or seats of an event that has not
    started and is not cancelled. Never fewer seats than members holding one: checked
    with the event row locked, and the table's check constraint holds it too."""
    now = services.clock.now()
    given = changes.given()
    for name in ("title", "description", "city"):
        if name in given:
            given[name] = given[name].strip()
    try:
        async with in_transaction():
            event = await _locked_event(event_id)
            domain.check_editable(event.starts_at, event.cancelled_at, now)
            if not given:
                return event
            for name, value in given.items():
                setattr(event, name, value)
            min_tier = TierCode(event.min_tier) if event.min_tier else None
            draft = EventDraft(
                event.title, event.city, event.starts_at, event.seats, min_tier, event.description
            )
            domain.check_draft(draft, now)
            domain.check_capacity(event.seats, event.seats_taken)
            await event.save(update_fields=list(given))
    except IntegrityError:
        # The check constraint: seats were taken between the check and the write.
        taken = (await OfflineEvent.get(id=event_id)).seats_taken
        domain.check_capacity(given.get("seats", taken), taken)
        raise
    return event


async def cancel_event(
    services: Services, *, event_id: uuid.UUID, staff_id: uuid.UUID, reason: str
) -> tuple[OfflineEvent, int]:
    """Staff: cancel the event. Every member holding a seat gets an in-app notification
    and a push through the outbox, in the same transaction; attendance recorded already,
    and the points it earned, stay. Returns the event and how many members were told."""
    reason = domain.clean_reason(reason)
    now = services.clock.now()
    async with in_transaction():
        event = await _locked_event(event_id)
        domain.check_not_cancelled(event.cancelled_at)
        event.cancelled_at, event.cancelled_by, event.cancel_reason = now, staff_id, reason
        await event.save(update_fields=["cancelled_at", "cancelled_by", "cancel_reason"])
        holders: list[uuid.UUID] = await EventSignup.filter(
            event_id=event.id, status=SignupStatus.ACTIVE.value
        ).values_list("member_id", flat=True)  # type: ignore[assignment]
        title = f"Cancelled: {event.title}"
        body = (
            f"The event in {event.city} on {business_date(event.starts_at).isoformat()} "
            f"is cancelled. {reason}"
        )
        dedupe_key = f"event-cancelled:{event.id}"
        for member_id in holders:
            await notify(
                member_id=member_id,
                kind="EVENT_CANCELLED",
                title=title,
                body=body,
                at=now,
                dedupe_key=dedupe_key,
            )
            await enqueue(
                channel=Channel.APP_PUSH,
                recipient=str(member_id),
                payload={
                    "kind": "EVENT_CANCELLED",
                    "title": title,
                    "body": body,
                    "eventId": str(event.id),
                },
                dedupe_key=f"{dedupe_key}:{member_id}",
                at=now,
            )
    return event, len(holders)
