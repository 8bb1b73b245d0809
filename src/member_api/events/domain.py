"""The rules of offline events (salons, masterclasses), as plain functions.

An event has a start, a number of seats and an optional minimum tier. Members take and
give back seats until it starts, one seat each; staff record who came, which earns points
and counts toward Diamond on the business date the event started. The service reads and
writes the rows and takes seats with conditional updates; it asks these functions what is
allowed.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from member_api.business_calendar import business_date
from member_api.error_codes import EventErrorCode
from member_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from member_api.tiers.rules import TierCode

MAX_TITLE_CHARS = 120
MAX_CITY_CHARS = 60
MAX_SEATS = 100_000
MAX_DESCRIPTION_CHARS = 2000
MAX_REASON_CHARS = 500


class SignupStatus(StrEnum):
    ACTIVE = "ACTIVE"  # holds a seat
    CANCELLED = "CANCELLED"  # gave the seat back; may take one again before the start


@dataclass(frozen=True)
class EventDraft:
    """An event as an operator describes it, before it is checked."""

    title: str
    city: str
    starts_at: datetime
    seats: int
    min_tier: TierCode | None = None
    description: str = ""


@dataclass(frozen=True)
class EventChanges:
    """What staff change in an event; None leaves a field as it is."""

    title: str | None = None
    description: str | None = None
    city: str | None = None
    starts_at: datetime | None = None
    seats: int | None = None

    def given(self) -> dict[str, Any]:
        return {
            f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None
        }


def check_draft(draft: EventDraft, now: datetime) -> None:
    """Refuse an event that cannot be held: it needs a title, a city, a start after
    `now` and between one and `MAX_SEATS` seats."""
    if not draft.title.strip() or len(draft.title) > MAX_TITLE_CHARS:
        raise InvalidInput(
            EventErrorCode.INVALID_TITLE, "Title: 1 to 120 characters.", field="title"
        )
    if len(draft.description) > MAX_DESCRIPTION_CHARS:
        raise InvalidInput(
            EventErrorCode.INVALID_DESCRIPTION,
            f"Description: at most {MAX_DESCRIPTION_CHARS:,} characters.",
            field="description",
        )
    if not draft.city.strip() or len(draft.city) > MAX_CITY_CHARS:
        raise InvalidInput(EventErrorCode.INVALID_CITY, "City: 1 to 60 characters.", field="city")
    if draft.starts_at.tzinfo is None or draft.starts_at <= now:
        raise InvalidInput(
            EventErrorCode.INVALID_START,
            "Give a future start time with a UTC offset.",
            field="startsAt",
        )
    if not 1 <= draft.seats <= MAX_SEATS:
        raise InvalidInput(EventErrorCode.INVALID_SEATS, "Seats: 1 to 100,000.", field="seats")


def check_not_cancelled(cancelled_at: datetime | None) -> None:
    """A cancelled event takes no seats, gives none back and records no attendance."""
    if cancelled_at is not None:
        raise event_cancelled()


def event_cancelled() -> Conflict:
    return Conflict(EventErrorCode.EVENT_CANCELLED, "This event has been cancelled.")


def check_editable(starts_at: datetime, cancelled_at: datetime | None, now: datetime) -> None:
    """Staff edit an event until it starts, and never once it is cancelled."""
    check_not_cancelled(cancelled_at)
    check_open(starts_at, now)


def check_capacity(seats: int, taken: int) -> None:
    """An event never has fewer seats than members holding one."""
    if seats < taken:
        raise Conflict(
            EventErrorCode.SEATS_BELOW_SIGN_UPS,
            f"{taken} members hold a seat; the event needs at least {taken} seats.",
            field="seats",
        )


def clean_reason(reason: str) -> str:
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON_CHARS:
        raise InvalidInput(
            EventErrorCode.REASON_REQUIRED,
            f"Give a reason of 1 to {MAX_REASON_CHARS} characters.",
            field="reason",
        )
    return reason


def sign_up_open(starts_at: datetime, now: datetime) -> bool:
    """Seats are taken and given back until the event starts; from its start, never."""
    return now < starts_at


def check_open(starts_at: datetime, now: datetime) -> None:
    if not sign_up_open(starts_at, now):
        raise Conflict(EventErrorCode.EVENT_STARTED, "This event has started already.")


def tier_allows(member_tier: TierCode, min_tier: TierCode | None) -> bool:
    return min_tier is None or member_tier.rank >= min_tier.rank


def check_tier(member_tier: TierCode, min_tier: TierCode | None) -> None:
    if not tier_allows(member_tier, min_tier):
        raise Forbidden(
            EventErrorCode.TIER_TOO_LOW, f"This event is for tier {min_tier} and above."
        )


def already_signed_up() -> Conflict:
    return Conflict(EventErrorCode.ALREADY_SIGNED_UP, "You have a seat at this event already.")


def check_may_sign_up_again(earlier_status: str) -> None:
    """One seat per member: a member who signed up before may take a seat again only if
    they gave theirs back."""
    if earlier_status == SignupStatus.ACTIVE:
        raise already_signed_up()


def seats_left(seats: int, taken: int) -> int:
    return seats - taken


def no_seats_left() -> Conflict:
    """Never more seats taken than the event has: the seat is taken only while fewer are
    taken than it has (the service's conditional update), or the member is told this."""
    return Conflict(EventErrorCode.NO_SEATS_LEFT, "Every seat is taken.")


def no_seat_to_give_back() -> NotFound:
    return NotFound(EventErrorCode.NOT_SIGNED_UP, "You have no seat at this event.")


def check_may_attend(holds_seat: bool) -> None:
    """Attendance is recorded only for a member holding a seat."""
    if not holds_seat:
        raise Conflict(EventErrorCode.NOT_SIGNED_UP, "The member has no seat at this event.")


def attendance_day(starts_at: datetime) -> date:
    """The business date attendance counts on: the day the event started."""
    return business_date(starts_at)
