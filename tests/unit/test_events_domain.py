"""The offline events rules: what an event needs, the sign-up window, tier gates, one seat
per member, seats left, giving a seat back, and attendance."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from member_api.events.domain import (
    MAX_SEATS,
    EventChanges,
    EventDraft,
    SignupStatus,
    already_signed_up,
    attendance_day,
    check_capacity,
    check_draft,
    check_editable,
    check_may_attend,
    check_may_sign_up_again,
    check_open,
    check_tier,
    clean_reason,
    no_seat_to_give_back,
    no_seats_left,
    seats_left,
    sign_up_open,
    tier_allows,
)
from member_api.tiers.rules import TIER_ORDER, TierCode

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
STARTS = NOW + timedelta(days=7)
SHANGHAI = ZoneInfo("Asia/Shanghai")
DRAFT = EventDraft(title="Bag Study Club salon", city="Shanghai", starts_at=STARTS, seats=10)


def refusal(check: Any, *args: Any) -> DomainError:
    with pytest.raises(DomainError) as raised:
        check(*args)
    return raised.value


# --- What an event needs ------------------------------------------------------------------


def test_a_plain_event_is_accepted() -> None:
    check_draft(DRAFT, NOW)
    check_draft(replace(DRAFT, min_tier=TierCode.DIAMOND), NOW)


@pytest.mark.parametrize("title", ["x", "t" * 120, " padded "])
def test_titles_of_one_to_120_characters_are_accepted(title: str) -> None:
    check_draft(replace(DRAFT, title=title), NOW)


@pytest.mark.parametrize("title", ["", "  ", "t" * 121])
def test_an_empty_or_too_long_title_is_refused(title: str) -> None:
    error = refusal(check_draft, replace(DRAFT, title=title), NOW)
    assert isinstance(error, InvalidInput)
    assert (error.code, error.field) == ("INVALID_TITLE", "title")


@pytest.mark.parametrize("city", ["上海", "c" * 60])
def test_cities_of_one_to_60_characters_are_accepted(city: str) -> None:
    check_draft(replace(DRAFT, city=city), NOW)


@pytest.mark.parametrize("city", ["", "\t", "c" * 61])
def test_an_empty_or_too_long_city_is_refused(city: str) -> None:
    error = refusal(check_draft, replace(DRAFT, city=city), NOW)
    assert (error.code, error.field) == ("INVALID_CITY", "city")


@pytest.mark.parametrize("starts_at", [NOW + TICK, NOW + timedelta(days=365)])
def test_an_event_may_start_at_any_later_instant(starts_at: datetime) -> None:
    check_draft(replace(DRAFT, starts_at=starts_at), NOW)


@pytest.mark.parametrize(
    "starts_at",
    [
        NOW,  # starting now is not in the future
        NOW - TICK,
        NOW - timedelta(days=1),
        datetime(2027, 1, 1, 12, 0),  # later, but without an offset
    ],
)
def test_a_start_that_is_not_later_or_has_no_offset_is_refused(starts_at: datetime) -> None:
    error = refusal(check_draft, replace(DRAFT, starts_at=starts_at), NOW)
    assert (error.code, error.field) == ("INVALID_START", "startsAt")


def test_the_start_is_compared_as_an_instant() -> None:
    # 20:00 in Shanghai is 12:00 UTC: the same instant as NOW, so not in the future.
    same = datetime(2026, 5, 1, 20, 0, tzinfo=SHANGHAI)
    assert refusal(check_draft, replace(DRAFT, starts_at=same), NOW).code == "INVALID_START"
    check_draft(replace(DRAFT, starts_at=same + TICK), NOW)


@pytest.mark.parametrize("seats", [1, 2, MAX_SEATS])
def test_one_to_100000_seats_are_accepted(seats: int) -> None:
    assert MAX_SEATS == 100_000
    check_draft(replace(DRAFT, seats=seats), NOW)


@pytest.mark.parametrize("seats", [0, -1, MAX_SEATS + 1])
def test_any_other_number_of_seats_is_refused(seats: int) -> None:
    error = refusal(check_draft, replace(DRAFT, seats=seats), NOW)
    assert (error.code, error.field) == ("INVALID_SEATS", "seats")


def test_the_first_problem_is_reported() -> None:
    bad = EventDraft(title="", city="", starts_at=NOW, seats=0)
    assert refusal(check_draft, bad, NOW).code == "INVALID_TITLE"
    assert refusal(check_draft, replace(bad, title="t"), NOW).code == "INVALID_CITY"
    assert refusal(check_draft, replace(bad, title="t", city="c"), NOW).code == "INVALID_START"


# --- The sign-up window: open until the event starts --------------------------------------


@pytest.mark.parametrize(
    ("at", "open_"),
    [
        (NOW, True),
        (STARTS - TICK, True),  # the last instant before the start
        (STARTS, False),  # from the start, closed
        (STARTS + timedelta(hours=2), False),
    ],
)
def test_seats_are_taken_and_given_back_only_before_the_start(at: datetime, open_: bool) -> None:
    assert sign_up_open(STARTS, at) is open_
    if open_:
        check_open(STARTS, at)
    else:
        error = refusal(check_open, STARTS, at)
        assert isinstance(error, Conflict)
        assert (error.code, error.message) == ("EVENT_STARTED", "This event has started already.")


@given(st.integers(min_value=-(10**7), max_value=10**7))
def test_the_window_is_open_exactly_before_the_start(offset_seconds: int) -> None:
    at = STARTS + timedelta(seconds=offset_seconds)
    assert sign_up_open(STARTS, at) is (offset_seconds < 0)


# --- Tier gates ---------------------------------------------------------------------------


@pytest.mark.parametrize("member", TIER_ORDER)
@pytest.mark.parametrize("needed", TIER_ORDER)
def test_an_event_is_open_to_its_minimum_tier_and_above(member: TierCode, needed: TierCode) -> None:
    allowed = member.rank >= needed.rank
    assert tier_allows(member, needed) is allowed
    if allowed:
        check_tier(member, needed)
    else:
        error = refusal(check_tier, member, needed)
        assert isinstance(error, Forbidden)
        assert error.code == "TIER_TOO_LOW"
        assert error.message == f"This event is for tier {needed.value} and above."


@pytest.mark.parametrize("member", TIER_ORDER)
def test_an_event_without_a_minimum_tier_is_open_to_all(member: TierCode) -> None:
    assert tier_allows(member, None)
    check_tier(member, None)


def test_one_tier_below_is_refused_and_the_tier_itself_accepted() -> None:
    check_tier(TierCode.DIAMOND, TierCode.DIAMOND)
    assert refusal(check_tier, TierCode.GOLD, TierCode.DIAMOND).code == "TIER_TOO_LOW"


# --- One seat per member ------------------------------------------------------------------


def test_a_member_holding_a_seat_cannot_take_another() -> None:
    error = refusal(check_may_sign_up_again, SignupStatus.ACTIVE.value)
    assert isinstance(error, Conflict)
    assert (error.code, error.message) == (
        "ALREADY_SIGNED_UP",
        "You have a seat at this event already.",
    )


def test_a_member_who_gave_the_seat_back_may_take_one_again() -> None:
    check_may_sign_up_again(SignupStatus.CANCELLED.value)


def test_the_statuses_are_the_stored_strings() -> None:
    assert [s.value for s in SignupStatus] == ["ACTIVE", "CANCELLED"]


# --- Seats --------------------------------------------------------------------------------


@pytest.mark.parametrize(("seats", "taken", "left"), [(10, 0, 10), (10, 9, 1), (10, 10, 0)])
def test_seats_left_are_the_seats_not_taken(seats: int, taken: int, left: int) -> None:
    assert seats_left(seats, taken) == left


@given(st.integers(min_value=1, max_value=MAX_SEATS), st.data())
def test_taking_a_seat_leaves_one_fewer(seats: int, data: st.DataObject) -> None:
    taken = data.draw(st.integers(min_value=0, max_value=seats - 1))
    assert seats_left(seats, taken + 1) == seats_left(seats, taken) - 1 >= 0


def test_the_refusals_for_seats() -> None:
    full = no_seats_left()
    assert isinstance(full, Conflict)
    assert (full.code, full.message) == ("NO_SEATS_LEFT", "Every seat is taken.")
    twice = already_signed_up()
    assert isinstance(twice, Conflict)
    assert twice.code == "ALREADY_SIGNED_UP"
    nothing = no_seat_to_give_back()
    assert isinstance(nothing, NotFound)
    assert (nothing.code, nothing.message) == ("NOT_SIGNED_UP", "You have no seat at this event.")


# --- Attendance ---------------------------------------------------------------------------


def test_attendance_needs_a_seat() -> None:
    check_may_attend(True)
    error = refusal(check_may_attend, False)
    assert isinstance(error, Conflict)
    assert (error.code, error.message) == ("NOT_SIGNED_UP", "The member has no seat at this event.")


@pytest.mark.parametrize(
    ("starts_at", "day"),
    [
        (datetime(2026, 5, 1, 15, 59, 59, tzinfo=UTC), date(2026, 5, 1)),  # 23:59:59 Shanghai
        (datetime(2026, 5, 1, 16, 0, tzinfo=UTC), date(2026, 5, 2)),  # midnight in Shanghai
        (datetime(2026, 5, 1, 19, 0, tzinfo=SHANGHAI), date(2026, 5, 1)),
        (datetime(2026, 5, 1, 23, 0, tzinfo=ZoneInfo("America/New_York")), date(2026, 5, 2)),
    ],
)
def test_attendance_counts_on_the_business_date_the_event_started(
    starts_at: datetime, day: date
) -> None:
    assert attendance_day(starts_at) == day


def test_staff_edits_keep_seats_at_or_above_the_seats_taken() -> None:
    check_capacity(5, 5)
    check_capacity(6, 0)
    with pytest.raises(Conflict) as refused:
        check_capacity(4, 5)
    assert (refused.value.code, refused.value.field) == ("SEATS_BELOW_SIGN_UPS", "seats")


def test_an_event_is_editable_until_it_starts_and_never_once_cancelled() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    check_editable(now + timedelta(minutes=1), None, now)
    with pytest.raises(Conflict, match="started"):
        check_editable(now, None, now)
    with pytest.raises(Conflict) as cancelled:
        check_editable(now + timedelta(days=1), now, now)
    assert cancelled.value.code == "EVENT_CANCELLED"


def test_a_cancellation_needs_a_reason_and_changes_list_only_what_is_given() -> None:
    assert clean_reason("  Flooded  ") == "Flooded"
    for bad in ("", "   ", "x" * 501):
        with pytest.raises(InvalidInput) as refused:
            clean_reason(bad)
        assert refused.value.code == "REASON_REQUIRED"
    assert EventChanges(title="T", seats=3).given() == {"title": "T", "seats": 3}
    assert EventChanges().given() == {}


def test_a_description_holds_at_most_two_thousand_characters() -> None:
    now = datetime(2026, 5, 1, tzinfo=UTC)
    draft = EventDraft("Salon", "Shanghai", now + timedelta(days=1), 10, description="x" * 2000)
    check_draft(draft, now)
    with pytest.raises(InvalidInput) as refused:
        check_draft(replace(draft, description="x" * 2001), now)
    assert refused.value.code == "INVALID_DESCRIPTION"
