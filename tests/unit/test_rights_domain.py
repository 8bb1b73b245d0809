"""Rights by tier, consignment commission, and the periods of countable rights."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from member_api.rights.domain import FIRST_AUTHENTICATION_FREE, Period, RightsRules, period_bounds
from member_api.tiers.rules import TIER_ORDER, TierCode, TierRules

DEFAULTS = RightsRules()
CATALOGUE = DEFAULTS.catalogue
BY_CODE = {right.code: right for right in CATALOGUE}
COMMISSION_PERCENT = {tier: TierRules().commission_percent[tier.value] for tier in TIER_ORDER}
rights_for = DEFAULTS.rights_for

ADDED_AT = {
    TierCode.NEW: {
        "AUTHENTICITY_GUARANTEE",
        "FREE_PACKAGING",
        "NO_REASON_RETURN_7D",
        "FIRST_AUTHENTICATION_FREE",
    },
    TierCode.SILVER: {"PRIORITY_AUTHENTICATION", "BIRTHDAY_DISCOUNT"},
    TierCode.GOLD: {"POINTS_MULTIPLIER", "PRESALE_ACCESS", "MASTERCLASSES", "VIP_AUCTIONS"},
    TierCode.DIAMOND: {
        "FREE_MAINTENANCE",
        "DEDICATED_SERVICE",
        "ANNIVERSARY_GIFT",
        "REPAIR_AND_BUYBACK",
        "AUTHENTICATION_COMPENSATION",
    },
    TierCode.BLACK_DIAMOND: {
        "PERSONAL_ADVISOR",
        "CURATED_SELECTION",
        "LIMITED_EDITION_PRIORITY",
        "EVENT_PRIORITY",
        "CUSTOM_PROVENANCE_REPORT",
    },
}


def codes(tier: TierCode) -> set[str]:
    return {right.code for right in rights_for(tier)}


@pytest.mark.parametrize("tier", TIER_ORDER)
def test_each_tier_has_exactly_the_rights_of_its_layer_and_those_below(tier: TierCode) -> None:
    expected = set().union(*(ADDED_AT[t] for t in TIER_ORDER[: tier.rank + 1]))
    assert codes(tier) == expected


def test_a_new_member_has_the_base_rights_and_a_free_first_authentication() -> None:
    assert codes(TierCode.NEW) == {
        "AUTHENTICITY_GUARANTEE",
        "FREE_PACKAGING",
        "NO_REASON_RETURN_7D",
        "FIRST_AUTHENTICATION_FREE",
    }


@pytest.mark.parametrize("tier", TIER_ORDER)
def test_every_tier_holds_the_free_first_authentication_once_ever(tier: TierCode) -> None:
    """Tiers stand on their own: a member who reached Gold without being New still had a
    first authentication, and it is the free one."""
    (right,) = [r for r in rights_for(tier) if r.code == FIRST_AUTHENTICATION_FREE]
    assert (right.limit, right.period) == (1, Period.ONCE)
    assert "once" in right.description


def test_free_maintenance_starts_at_diamond_not_gold() -> None:
    assert "FREE_MAINTENANCE" not in codes(TierCode.GOLD)
    assert "FREE_MAINTENANCE" in codes(TierCode.DIAMOND)
    assert BY_CODE["FREE_MAINTENANCE"].min_tier is TierCode.DIAMOND


def test_the_points_multiplier_starts_at_gold() -> None:
    assert "POINTS_MULTIPLIER" not in codes(TierCode.SILVER)
    assert "POINTS_MULTIPLIER" in codes(TierCode.GOLD)


@given(st.sampled_from(TIER_ORDER), st.sampled_from(TIER_ORDER))
def test_a_higher_tier_never_loses_a_right(lower: TierCode, higher: TierCode) -> None:
    if lower.rank <= higher.rank:
        assert codes(lower) <= codes(higher)


def test_rights_keep_the_catalogue_order() -> None:
    assert rights_for(TierCode.BLACK_DIAMOND) == list(CATALOGUE)


def test_right_codes_are_unique() -> None:
    assert len(BY_CODE) == len(CATALOGUE)


@pytest.mark.parametrize(
    ("code", "limit", "period"),
    [
        ("BIRTHDAY_DISCOUNT", 1, Period.YEAR),
        ("FREE_MAINTENANCE", 1, Period.YEAR),
        ("ANNIVERSARY_GIFT", 1, Period.YEAR),
        ("CURATED_SELECTION", 3, Period.MONTH),
        ("FIRST_AUTHENTICATION_FREE", 1, Period.ONCE),
    ],
)
def test_countable_rights_have_a_limit_per_period(code: str, limit: int, period: Period) -> None:
    right = BY_CODE[code]
    assert (right.limit, right.period) == (limit, period)


def test_a_right_has_a_limit_exactly_when_it_has_a_period() -> None:
    countable = {r.code for r in CATALOGUE if r.limit is not None}
    assert countable == {r.code for r in CATALOGUE if r.period is not None}
    assert countable == {
        "FIRST_AUTHENTICATION_FREE",
        "BIRTHDAY_DISCOUNT",
        "FREE_MAINTENANCE",
        "ANNIVERSARY_GIFT",
        "CURATED_SELECTION",
    }
    assert all(r.limit is None or r.limit >= 1 for r in CATALOGUE)


@pytest.mark.parametrize(
    ("tier", "percent"),
    [
        (TierCode.NEW, 15),
        (TierCode.SILVER, 10),
        (TierCode.GOLD, 10),
        (TierCode.DIAMOND, 8),
        (TierCode.BLACK_DIAMOND, 8),
    ],
)
def test_consignment_commission_by_tier(tier: TierCode, percent: int) -> None:
    assert COMMISSION_PERCENT[tier] == percent


def test_commission_never_rises_with_the_tier() -> None:
    percents = [COMMISSION_PERCENT[t] for t in TIER_ORDER]
    assert percents == sorted(percents, reverse=True)


# --- Periods ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "bounds"),
    [
        (date(2026, 1, 1), (date(2026, 1, 1), date(2026, 12, 31))),
        (date(2026, 12, 31), (date(2026, 1, 1), date(2026, 12, 31))),
        (date(2028, 2, 29), (date(2028, 1, 1), date(2028, 12, 31))),
    ],
)
def test_a_year_runs_from_first_january_to_thirty_first_december(
    day: date, bounds: tuple[date, date]
) -> None:
    assert period_bounds(Period.YEAR, day) == bounds


@pytest.mark.parametrize(
    ("day", "bounds"),
    [
        (date(2026, 1, 31), (date(2026, 1, 1), date(2026, 1, 31))),
        (date(2026, 2, 1), (date(2026, 2, 1), date(2026, 2, 28))),
        (date(2028, 2, 15), (date(2028, 2, 1), date(2028, 2, 29))),  # leap year
        (date(2026, 4, 30), (date(2026, 4, 1), date(2026, 4, 30))),
        (date(2026, 12, 1), (date(2026, 12, 1), date(2026, 12, 31))),  # year end
    ],
)
def test_a_month_runs_from_its_first_to_its_last_day(day: date, bounds: tuple[date, date]) -> None:
    assert period_bounds(Period.MONTH, day) == bounds


_DAYS = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(st.sampled_from([Period.YEAR, Period.MONTH]), _DAYS)
def test_a_period_contains_its_day_and_the_next_period_starts_the_day_after(
    period: Period, day: date
) -> None:
    start, end = period_bounds(period, day)
    assert start <= day <= end
    assert period_bounds(period, start) == period_bounds(period, end) == (start, end)
    next_start, _ = period_bounds(period, end + timedelta(days=1))
    assert next_start == end + timedelta(days=1)
    assert start.day == 1


@given(_DAYS, _DAYS)
def test_once_is_one_period_for_every_day_so_a_use_never_lapses(day: date, later: date) -> None:
    """Uses are counted per period start: every day has the same once-ever period, so a use
    recorded on any day is still counted on every other, however far apart."""
    start, end = period_bounds(Period.ONCE, day)
    assert start <= min(day, later)
    assert max(day, later) <= end
    assert period_bounds(Period.ONCE, later) == (start, end)


def test_once_runs_over_all_of_time() -> None:
    assert period_bounds(Period.ONCE, date(2026, 11, 18)) == (date.min, date.max)
    assert period_bounds(Period.ONCE, date.min) == period_bounds(Period.ONCE, date.max)
