"""Tier rules at their boundaries: thresholds, windows, reviews, progress, overrides."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from member_api.business_calendar import add_months, business_date, trailing_window_start
from member_api.errors import Conflict, InvalidInput
from member_api.tiers.domain import (
    Condition,
    MemberFacts,
    active_weeks_percent,
    all_met,
    check_override,
    describe_missing,
    highest_earned_tier,
    keeps_tier,
    may_invite_to_black_diamond,
    monthly_active_days_average,
    next_review_date,
    progress,
    qualifying_conditions,
    retention_conditions,
    tier_after_event,
    tier_after_review,
)
from member_api.tiers.rules import TierCode, TierRules

RULES = TierRules()
AS_OF = date(2026, 11, 23)  # a Monday
LONG_AGO = date(2024, 1, 1)


def _weeks(*backs: int) -> frozenset[date]:
    """The Monday of each week `back` weeks before AS_OF's week."""
    return frozenset(AS_OF - timedelta(weeks=back) for back in backs)


# Two active days in each of the three counted months (Sep, Oct, Nov 2026).
MONTHLY_2 = frozenset(date(2026, m, d) for m in (9, 10, 11) for d in (1, 2))
WEEKLY_ALL = _weeks(*range(13))


def facts(**values: Any) -> MemberFacts:
    values.setdefault("as_of", AS_OF)
    values.setdefault("joined_on", LONG_AGO)
    return MemberFacts(**values)


def meets(tier: TierCode, member: MemberFacts) -> bool:
    return all_met(qualifying_conditions(tier, member, RULES))


def diamond(**values: Any) -> MemberFacts:
    base: dict[str, Any] = {"spend_12m_fen": 5_000_000, "events_12m": 2, "active_days": WEEKLY_ALL}
    return facts(**{**base, **values})


# --- Silver -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lifetime_spend", "lifetime_orders", "active_days", "expected"),
    [
        (500_000, 0, MONTHLY_2, True),  # spend alone, exactly on threshold
        (499_999, 0, MONTHLY_2, False),  # one fen under
        (0, 3, MONTHLY_2, True),  # orders alone, exactly on threshold
        (0, 2, MONTHLY_2, False),  # one order under
        (499_999, 2, MONTHLY_2, False),  # neither alternative
        (500_000, 3, MONTHLY_2, True),  # both alternatives
        (500_000, 3, MONTHLY_2 - {date(2026, 9, 1)}, False),  # 5 days / 3 months < 2
        (500_000, 3, frozenset(), False),
    ],
)
def test_silver_boundaries(
    lifetime_spend: int, lifetime_orders: int, active_days: frozenset[date], expected: bool
) -> None:
    member = facts(
        lifetime_spend_fen=lifetime_spend, lifetime_orders=lifetime_orders, active_days=active_days
    )
    assert meets(TierCode.SILVER, member) is expected
    assert (highest_earned_tier(member, RULES) is TierCode.SILVER) is expected


def test_silver_activity_average_exactly_two() -> None:
    assert monthly_active_days_average(facts(active_days=MONTHLY_2), 3) == 2.0


def test_active_days_after_as_of_do_not_count() -> None:
    later = MONTHLY_2 - {date(2026, 11, 2)} | {date(2026, 11, 24)}
    assert monthly_active_days_average(facts(active_days=later), 3) == pytest.approx(5 / 3)


# --- Gold -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spend_12m", "orders_12m", "referrals", "expected"),
    [
        (2_000_000, 2, 1, True),  # spend exactly on threshold (average 1,000,000)
        (1_999_999, 2, 1, False),  # one fen under
        (2_400_000, 3, 1, False),  # average exactly 800,000: not strictly above
        (2_400_003, 3, 1, True),  # average 800,001
        (2_000_000, 2, 0, False),  # no referral
        (2_000_000, 0, 1, False),  # no order, no average
    ],
)
def test_gold_boundaries(spend_12m: int, orders_12m: int, referrals: int, expected: bool) -> None:
    member = facts(spend_12m_fen=spend_12m, orders_12m=orders_12m, referrals=referrals)
    assert meets(TierCode.GOLD, member) is expected


def test_gold_fractional_average_just_above_threshold_qualifies() -> None:
    # 2,400,001 fen over 3 orders averages 800,000.33 fen: strictly above 8,000 yuan.
    member = facts(spend_12m_fen=2_400_001, orders_12m=3, referrals=1)
    assert meets(TierCode.GOLD, member)


def test_gold_stands_on_its_own_without_silver_activity() -> None:
    member = facts(spend_12m_fen=2_000_000, orders_12m=2, referrals=1, lifetime_orders=2)
    assert not meets(TierCode.SILVER, member)
    assert highest_earned_tier(member, RULES) is TierCode.GOLD


# --- Diamond ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, True),
        ({"spend_12m_fen": 4_999_999}, False),
        ({"events_12m": 1}, False),
        ({"active_days": _weeks(*range(12))}, True),  # 12 of 13 weeks: 92.3 %
        ({"active_days": _weeks(*range(11))}, False),  # 11 of 13 weeks: 84.6 %
        ({"joined_on": AS_OF - timedelta(weeks=9), "active_days": _weeks(*range(9))}, True),
        ({"joined_on": AS_OF - timedelta(weeks=9), "active_days": _weeks(*range(8))}, False),
    ],
)
def test_diamond_boundaries(values: dict[str, Any], expected: bool) -> None:
    assert meets(TierCode.DIAMOND, diamond(**values)) is expected


def test_weekly_activity_exactly_ninety_percent() -> None:
    member = diamond(joined_on=AS_OF - timedelta(weeks=9), active_days=_weeks(*range(9)))
    assert active_weeks_percent(member, 13) == 90.0


def test_diamond_stands_on_its_own_without_gold_referral() -> None:
    member = diamond(orders_12m=10, referrals=0)
    assert not meets(TierCode.GOLD, member)
    assert highest_earned_tier(member, RULES) is TierCode.DIAMOND


# --- Black Diamond ----------------------------------------------------------------------


def test_black_diamond_is_never_earned_by_rules() -> None:
    member = diamond(spend_12m_fen=100_000_000, orders_12m=10, referrals=5, events_12m=9)
    assert highest_earned_tier(member, RULES) is TierCode.DIAMOND
    assert not meets(TierCode.BLACK_DIAMOND, member)
    assert tier_after_event(TierCode.DIAMOND, member, RULES) is TierCode.DIAMOND


@pytest.mark.parametrize(("spend_12m", "expected"), [(15_000_000, True), (14_999_999, False)])
def test_may_invite_to_black_diamond(spend_12m: int, expected: bool) -> None:
    assert may_invite_to_black_diamond(facts(spend_12m_fen=spend_12m), RULES) is expected


# --- Events and reviews -----------------------------------------------------------------


GOLD_AFTER_REFUND = facts(spend_12m_fen=1_999_999, orders_12m=2, referrals=1)


def test_event_raises_a_tier_immediately() -> None:
    member = facts(spend_12m_fen=2_000_000, orders_12m=2, referrals=1)
    assert tier_after_event(TierCode.NEW, member, RULES) is TierCode.GOLD


def test_refund_below_threshold_does_not_lower_tier_on_event() -> None:
    assert tier_after_event(TierCode.GOLD, GOLD_AFTER_REFUND, RULES) is TierCode.GOLD
    assert tier_after_event(TierCode.DIAMOND, facts(), RULES) is TierCode.DIAMOND


def test_refund_below_threshold_drops_one_tier_at_review() -> None:
    assert tier_after_review(TierCode.GOLD, GOLD_AFTER_REFUND, RULES) is TierCode.SILVER


@pytest.mark.parametrize(
    ("current", "expected"),
    [
        (TierCode.BLACK_DIAMOND, TierCode.DIAMOND),
        (TierCode.DIAMOND, TierCode.GOLD),
        (TierCode.GOLD, TierCode.SILVER),
        (TierCode.SILVER, TierCode.NEW),
        (TierCode.NEW, TierCode.NEW),
    ],
)
def test_review_with_nothing_drops_exactly_one_tier(current: TierCode, expected: TierCode) -> None:
    assert tier_after_review(current, facts(), RULES) is expected


def test_review_keeps_tier_when_retention_holds() -> None:
    assert tier_after_review(TierCode.DIAMOND, diamond(events_12m=0), RULES) is TierCode.DIAMOND
    assert tier_after_review(TierCode.DIAMOND, diamond(), RULES) is TierCode.DIAMOND


def test_review_never_lands_below_the_earned_tier() -> None:
    assert tier_after_review(TierCode.SILVER, diamond(), RULES) is TierCode.DIAMOND


@pytest.mark.parametrize(
    ("spend_12m", "expected"),
    [(15_000_000, TierCode.BLACK_DIAMOND), (14_999_999, TierCode.DIAMOND)],
)
def test_black_diamond_review_by_spend_alone(spend_12m: int, expected: TierCode) -> None:
    member = facts(spend_12m_fen=spend_12m)  # no activity, orders or events at all
    assert tier_after_review(TierCode.BLACK_DIAMOND, member, RULES) is expected


def test_retention_condition_keys() -> None:
    def keys(tier: TierCode) -> list[str]:
        return [c.key for c in retention_conditions(tier, facts(), RULES)]

    assert keys(TierCode.NEW) == []
    assert keys(TierCode.SILVER) == ["lifetime_spend", "lifetime_orders", "monthly_active_days"]
    assert keys(TierCode.GOLD) == ["spend_12m", "average_order_12m"]
    assert keys(TierCode.DIAMOND) == ["spend_12m", "weekly_activity"]
    assert keys(TierCode.BLACK_DIAMOND) == ["spend_12m"]


# --- Windows and dates ------------------------------------------------------------------


def test_trailing_window_start() -> None:
    assert trailing_window_start(date(2026, 11, 23), 12) == date(2025, 11, 24)
    assert trailing_window_start(date(2027, 1, 1), 12) == date(2026, 1, 2)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 12, 15), 1, date(2027, 1, 15)),
        (date(2026, 1, 15), -1, date(2025, 12, 15)),
        (date(2026, 5, 31), 0, date(2026, 5, 31)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC), date(2026, 11, 23)),
        (datetime(2026, 11, 23, 16, 0, 0, tzinfo=UTC), date(2026, 11, 24)),
        (datetime(2026, 12, 31, 16, 0, 0, tzinfo=UTC), date(2027, 1, 1)),
        (datetime(2026, 11, 22, 16, 0, 0, tzinfo=UTC), date(2026, 11, 23)),
    ],
)
def test_business_date_in_shanghai(moment: datetime, expected: date) -> None:
    assert business_date(moment) == expected


@pytest.mark.parametrize(
    ("as_of", "expected"),
    [
        (date(2026, 10, 1), date(2027, 1, 1)),
        (date(2026, 12, 31), date(2027, 1, 1)),
        (date(2026, 9, 30), date(2026, 10, 1)),
        (date(2026, 1, 1), date(2026, 4, 1)),
        (date(2026, 3, 31), date(2026, 4, 1)),
        (date(2026, 11, 23), date(2027, 1, 1)),
    ],
)
def test_next_review_date(as_of: date, expected: date) -> None:
    assert next_review_date(as_of, RULES) == expected


# --- Young members ----------------------------------------------------------------------


NOVEMBER_2 = frozenset({date(2026, 11, 20), date(2026, 11, 21)})


@pytest.mark.parametrize(
    ("joined_on", "average", "silver"),
    [
        (date(2026, 11, 10), 2.0, True),  # joined this month: one month counted
        (date(2026, 10, 31), 1.0, False),  # joined last month: two months counted
        (date(2026, 9, 1), 2 / 3, False),  # three months counted
    ],
)
def test_monthly_average_for_young_members(joined_on: date, average: float, silver: bool) -> None:
    member = facts(joined_on=joined_on, lifetime_orders=3, active_days=NOVEMBER_2)
    assert monthly_active_days_average(member, 3) == pytest.approx(average)
    assert meets(TierCode.SILVER, member) is silver


@pytest.mark.parametrize(
    ("joined_on", "backs", "expected"),
    [
        (AS_OF, (0,), 100.0),  # joined this week, active this week
        (AS_OF, (), 0.0),  # joined this week, no activity yet: no week counted
        (AS_OF - timedelta(days=12), (1, 2), 100.0),  # current week skipped while idle
        (AS_OF - timedelta(days=12), (0, 1), 200 / 3),  # joined Wednesday two weeks back
        (LONG_AGO, tuple(range(13)), 100.0),
        (LONG_AGO, (0, 1, 2), 300 / 13),
    ],
)
def test_active_weeks_percent_for_young_members(
    joined_on: date, backs: tuple[int, ...], expected: float
) -> None:
    member = facts(joined_on=joined_on, active_days=_weeks(*backs))
    assert active_weeks_percent(member, 13) == pytest.approx(expected)


# --- Progress ---------------------------------------------------------------------------


def _silver_member(**values: Any) -> MemberFacts:
    base: dict[str, Any] = {
        "lifetime_spend_fen": 1_770_000,
        "lifetime_orders": 2,
        "spend_12m_fen": 1_770_000,
        "orders_12m": 2,
        "active_days": MONTHLY_2,
    }
    return facts(**{**base, **values})


def test_progress_from_silver_to_gold() -> None:
    result = progress(TierCode.SILVER, _silver_member(), RULES)
    assert result.next_tier is TierCode.GOLD
    assert [c.key for c in result.conditions] == ["spend_12m", "average_order_12m", "referrals"]
    assert [c.met for c in result.conditions] == [False, True, False]
    assert all_met(result.retention)
    assert result.downgrade_risk is False
    assert result.next_review == date(2027, 1, 1)
    expected = "2,300 yuan more spend in 12 months and 1 more successful referral(s)"
    assert describe_missing(result.conditions) == expected


def test_progress_flags_downgrade_risk_when_retention_fails() -> None:
    result = progress(TierCode.SILVER, _silver_member(active_days=frozenset()), RULES)
    assert result.downgrade_risk is True
    assert describe_missing(result.retention) == "2 more active day(s) a month on average"


def test_progress_at_top_and_towards_black_diamond() -> None:
    top = progress(TierCode.BLACK_DIAMOND, facts(spend_12m_fen=15_000_000), RULES)
    assert (top.next_tier, top.conditions, top.downgrade_risk) == (None, [], False)
    towards = progress(TierCode.DIAMOND, diamond(), RULES)
    assert towards.next_tier is TierCode.BLACK_DIAMOND
    expected = "100,000 yuan more spend in 12 months and a staff invitation"
    assert describe_missing(towards.conditions) == expected


def test_describe_missing_or_group_and_fractions() -> None:
    silver = qualifying_conditions(TierCode.SILVER, facts(), RULES)
    assert describe_missing(silver) == (
        "5,000 yuan more spend or 3 more completed order(s)"
        " and 2 more active day(s) a month on average"
    )
    gold = qualifying_conditions(
        TierCode.GOLD, facts(spend_12m_fen=2_400_000, orders_12m=3, referrals=1), RULES
    )
    assert describe_missing(gold) == "0.01 yuan more average order value"
    assert describe_missing(qualifying_conditions(TierCode.GOLD, GOLD_AFTER_REFUND, RULES)) == (
        "0.01 yuan more spend in 12 months"
    )


# --- Rules overrides --------------------------------------------------------------------


def test_from_mapping_overrides_a_threshold() -> None:
    rules = TierRules.from_mapping({"gold_spend_12m_fen": 1_000_000})
    assert rules.gold_spend_12m_fen == 1_000_000
    assert rules.diamond_spend_12m_fen == RULES.diamond_spend_12m_fen
    member = facts(spend_12m_fen=1_000_000, orders_12m=1, referrals=1)
    assert all_met(qualifying_conditions(TierCode.GOLD, member, rules))
    assert not meets(TierCode.GOLD, member)


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"gold_spend_fen": 1}, "unknown tier rule"),
        ({"gold_referrals": -1}, "non-negative"),
        ({"silver_lifetime_orders": True}, "non-negative"),
        ({"review_months": [0, 13]}, "review_months"),
    ],
)
def test_from_mapping_rejects_bad_values(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TierRules.from_mapping(values)


def test_from_mapping_zero_is_allowed() -> None:
    assert TierRules.from_mapping({"gold_referrals": 0}).gold_referrals == 0


# --- Exact thresholds -------------------------------------------------------------------


def _monthly(days_per_month: dict[int, int], months: int) -> frozenset[date]:
    """`days_per_month[back]` active days (default 2) in each of the last `months` months."""
    first = date(AS_OF.year, AS_OF.month, 1)
    return frozenset(
        add_months(first, -back) + timedelta(days=n)
        for back in range(months)
        for n in range(days_per_month.get(back, 2))
    )


def _activity(tier: TierCode, member: MemberFacts, rules: TierRules) -> Condition:
    key = "monthly_active_days" if tier is TierCode.SILVER else "weekly_activity"
    return next(c for c in qualifying_conditions(tier, member, rules) if c.key == key)


@pytest.mark.parametrize(("short", "met"), [(1, False), (0, True)])
def test_monthly_average_just_below_the_threshold_is_not_met(short: int, met: bool) -> None:
    # 499 days over 250 months average 1.996, which rounds to 2.00 but is below 2.
    rules = TierRules(silver_activity_months=250)
    active = _monthly({0: 2 - short}, 250)
    member = facts(joined_on=date(1990, 1, 1), lifetime_orders=3, active_days=active)
    condition = _activity(TierCode.SILVER, member, rules)
    assert condition.met is met
    assert condition.current == Fraction(500 - short, 250)
    assert all_met(qualifying_conditions(TierCode.SILVER, member, rules)) is met
    assert (highest_earned_tier(member, rules) is TierCode.SILVER) is met
    if not met:
        assert (condition.shown_current, condition.shown_missing) == (
            Fraction(199, 100),
            Fraction(1, 100),
        )
        assert describe_missing([condition]) == "0.01 more active day(s) a month on average"


@pytest.mark.parametrize(("active_weeks", "met"), [(1999, False), (2000, True)])
def test_weekly_percent_just_below_the_threshold_is_not_met(active_weeks: int, met: bool) -> None:
    # 1,999 active weeks of 2,500 are 79.96 %, which rounds to 80.0 but is below 80.
    rules = TierRules(diamond_activity_weeks=2500, diamond_active_weeks_percent=80)
    member = diamond(joined_on=date(1970, 1, 1), active_days=_weeks(*range(active_weeks)))
    condition = _activity(TierCode.DIAMOND, member, rules)
    assert condition.met is met
    assert condition.current == Fraction(active_weeks * 100, 2500)
    assert keeps_tier(TierCode.DIAMOND, member, rules) is met
    assert (highest_earned_tier(member, rules) is TierCode.DIAMOND) is met
    if not met:
        assert (condition.shown_current, condition.shown_missing) == (
            Fraction(799, 10),
            Fraction(1, 10),
        )


def test_average_order_is_compared_exactly() -> None:
    member = facts(spend_12m_fen=2_400_001, orders_12m=3)
    assert member.average_order_12m_fen == Fraction(2_400_001, 3)
    average = next(
        c for c in qualifying_conditions(TierCode.GOLD, member, RULES) if c.strictly_above
    )
    assert average.met
    assert average.shown_current == 800_000  # money is shown in whole fen, cut down


def test_money_conditions_are_whole_fen_and_never_look_met_too_early() -> None:
    member = facts(spend_12m_fen=2_399_999, orders_12m=3)  # 799,999.67 fen an order
    average = next(
        c for c in qualifying_conditions(TierCode.GOLD, member, RULES) if c.strictly_above
    )
    assert not average.met
    assert (average.shown_current, average.shown_missing) == (799_999, 1)


def test_an_override_needs_a_reason_a_new_tier_and_never_gives_black_diamond() -> None:
    black, gold = TierCode.BLACK_DIAMOND, TierCode.GOLD
    assert check_override(black, gold, "  Terms broken  ") == "Terms broken"
    for reason in ("", "  ", "x" * 501):
        with pytest.raises(InvalidInput) as no_reason:
            check_override(black, gold, reason)
        assert (no_reason.value.code, no_reason.value.field) == ("REASON_REQUIRED", "reason")
    with pytest.raises(InvalidInput) as invitation:
        check_override(gold, black, "Friend of the house")
    assert invitation.value.code == "USE_INVITATION"
    with pytest.raises(Conflict) as same:
        check_override(gold, gold, "Again")
    assert same.value.code == "TIER_UNCHANGED"
