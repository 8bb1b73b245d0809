"""The tier rules as plain functions over a member's facts on a business date."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction

from member_api.business_calendar import add_months
from member_api.error_codes import TierErrorCode
from member_api.errors import Conflict, InvalidInput
from member_api.tiers.rules import TIER_ORDER, TierCode, TierRules

MAX_OVERRIDE_REASON_CHARS = 500


def next_review_date(as_of: date, rules: TierRules) -> date:
    """The first review date strictly after `as_of` (reviews fall on the 1st of a month)."""
    for months_ahead in range(1, 13):
        candidate = add_months(date(as_of.year, as_of.month, 1), months_ahead)
        if candidate.month in rules.review_months:
            return candidate
    raise ValueError("no review month configured")


@dataclass(frozen=True)
class MemberFacts:
    """What the rules look at, all derived from stored events, as of one business date."""

    as_of: date
    joined_on: date
    lifetime_spend_fen: int = 0
    lifetime_orders: int = 0
    spend_12m_fen: int = 0
    orders_12m: int = 0
    referrals: int = 0
    events_12m: int = 0
    active_days: frozenset[date] = frozenset()

    @property
    def average_order_12m_fen(self) -> Fraction:
        """Exact (not rounded): 2,400,001 fen over 3 orders is above 800,000."""
        return Fraction(self.spend_12m_fen, self.orders_12m) if self.orders_12m else Fraction(0)


def activity_months(facts: MemberFacts, months: int) -> list[tuple[int, int]]:
    """The calendar months counted for monthly activity: the last `months` up to and
    including the current one, or those since joining for a younger member."""
    first = date(facts.as_of.year, facts.as_of.month, 1)
    joined = date(facts.joined_on.year, facts.joined_on.month, 1)
    counted = []
    for back in range(months):
        month = add_months(first, -back)
        if month < joined:
            break
        counted.append((month.year, month.month))
    return counted


def monthly_active_days_average(facts: MemberFacts, months: int) -> Fraction:
    """Exact: five days over three months is 5/3, below 2 however it is displayed."""
    counted = set(activity_months(facts, months))
    if not counted:
        return Fraction(0)
    days = sum(1 for d in facts.active_days if (d.year, d.month) in counted and d <= facts.as_of)
    return Fraction(days, len(counted))


def active_weeks_percent(facts: MemberFacts, weeks: int) -> Fraction:
    """Share of the last `weeks` weeks (Monday to Sunday) with an active day.

    The current week counts when it already has activity (otherwise the `weeks`
    complete weeks before it are used); weeks before joining do not count at all.
    """
    this_monday = facts.as_of - timedelta(days=facts.as_of.weekday())
    joined_monday = facts.joined_on - timedelta(days=facts.joined_on.weekday())
    active_mondays = {
        d - timedelta(days=d.weekday()) for d in facts.active_days if d <= facts.as_of
    }
    counted = active = 0
    monday = this_monday
    if monday not in active_mondays:  # an idle current week is not held against anyone
        monday -= timedelta(weeks=1)
    while counted < weeks and monday >= joined_monday:
        counted += 1
        active += monday in active_mondays
        monday -= timedelta(weeks=1)
    return Fraction(100 * active, counted) if counted else Fraction(0)


class Unit(StrEnum):
    FEN = "FEN"
    COUNT = "COUNT"
    DAYS_PER_MONTH = "DAYS_PER_MONTH"
    PERCENT = "PERCENT"
    FLAG = "FLAG"


# Places shown for values that are not whole: averages and percentages. Money is shown in
# whole fen (an average order value of 2,400,001 / 3 fen shows as 800,000 with 1 missing).
DISPLAY_PLACES = {Unit.DAYS_PER_MONTH: 2, Unit.PERCENT: 1}


def _shown(value: Fraction | int, places: int, *, up: bool) -> Fraction:
    """`value` cut to `places` decimals, towards the side that keeps a condition honest:
    a current value rounded down never looks met, a missing one rounded up never looks
    enough. Still exact: a fraction whose denominator divides 10**places."""
    scale: int = 10**places
    scaled = Fraction(value) * scale
    whole: int = math.ceil(scaled) if up else math.floor(scaled)
    return Fraction(whole, scale)


@dataclass(frozen=True)
class Condition:
    """One condition of a tier: `met` when `current` reaches `target`.

    `current` is exact (an integer or a fraction), so `met` never depends on rounding;
    `shown_current` and `shown_missing` are the rounded values for display.
    Conditions sharing a `group` are alternatives: one of them is enough.
    `strictly_above` marks a `>` condition (the average order value).
    """

    key: str
    current: Fraction | int
    target: int
    unit: Unit
    group: str | None = None
    strictly_above: bool = False

    @property
    def met(self) -> bool:
        return self.current > self.target if self.strictly_above else self.current >= self.target

    @property
    def missing(self) -> Fraction | int:
        if self.met:
            return 0
        if self.strictly_above:  # the least whole step that goes above the target
            return math.floor(self.target - self.current) + 1
        return self.target - self.current

    @property
    def shown_current(self) -> Fraction:
        return _shown(self.current, DISPLAY_PLACES.get(self.unit, 0), up=False)

    @property
    def shown_missing(self) -> Fraction:
        return _shown(self.missing, DISPLAY_PLACES.get(self.unit, 0), up=True)


def all_met(conditions: list[Condition]) -> bool:
    """Every ungrouped condition holds, and each group has one that holds."""
    groups: dict[str, bool] = {}
    for condition in conditions:
        if condition.group is None:
            if not condition.met:
                return False
        else:
            groups[condition.group] = groups.get(condition.group, False) or condition.met
    return all(groups.values())


def _spend_12m(facts: MemberFacts, target: int) -> Condition:
    return Condition("spend_12m", facts.spend_12m_fen, target, Unit.FEN)


def _silver_spend(facts: MemberFacts, rules: TierRules) -> list[Condition]:
    return [
        Condition(
            "lifetime_spend",
            facts.lifetime_spend_fen,
            rules.silver_lifetime_spend_fen,
            Unit.FEN,
            group="spend_or_orders",
        ),
        Condition(
            "lifetime_orders",
            facts.lifetime_orders,
            rules.silver_lifetime_orders,
            Unit.COUNT,
            group="spend_or_orders",
        ),
    ]


def _silver_activity(facts: MemberFacts, rules: TierRules) -> Condition:
    average = monthly_active_days_average(facts, rules.silver_activity_months)
    return Condition(
        "monthly_active_days", average, rules.silver_active_days_per_month, Unit.DAYS_PER_MONTH
    )


def _gold_spend(facts: MemberFacts, rules: TierRules) -> list[Condition]:
    return [
        _spend_12m(facts, rules.gold_spend_12m_fen),
        Condition(
            "average_order_12m",
            facts.average_order_12m_fen,
            rules.gold_average_order_above_fen,
            Unit.FEN,
            strictly_above=True,
        ),
    ]


def _diamond_activity(facts: MemberFacts, rules: TierRules) -> Condition:
    percent = active_weeks_percent(facts, rules.diamond_activity_weeks)
    return Condition("weekly_activity", percent, rules.diamond_active_weeks_percent, Unit.PERCENT)


def qualifying_conditions(tier: TierCode, facts: MemberFacts, rules: TierRules) -> list[Condition]:
    """What it takes to reach `tier` (each tier's conditions stand on their own)."""
    if tier is TierCode.SILVER:
        return [*_silver_spend(facts, rules), _silver_activity(facts, rules)]
    if tier is TierCode.GOLD:
        referrals = Condition("referrals", facts.referrals, rules.gold_referrals, Unit.COUNT)
        return [*_gold_spend(facts, rules), referrals]
    if tier is TierCode.DIAMOND:
        return [
            _spend_12m(facts, rules.diamond_spend_12m_fen),
            _diamond_activity(facts, rules),
            Condition("events_12m", facts.events_12m, rules.diamond_events_12m, Unit.COUNT),
        ]
    if tier is TierCode.BLACK_DIAMOND:
        return [
            _spend_12m(facts, rules.black_diamond_spend_12m_fen),
            Condition("invitation", 0, 1, Unit.FLAG),
        ]
    return []


def retention_conditions(tier: TierCode, facts: MemberFacts, rules: TierRules) -> list[Condition]:
    """What keeps `tier` at a review: its spend and activity conditions."""
    if tier is TierCode.SILVER:
        return [*_silver_spend(facts, rules), _silver_activity(facts, rules)]
    if tier is TierCode.GOLD:
        return _gold_spend(facts, rules)
    if tier is TierCode.DIAMOND:
        return [_spend_12m(facts, rules.diamond_spend_12m_fen), _diamond_activity(facts, rules)]
    if tier is TierCode.BLACK_DIAMOND:
        return [_spend_12m(facts, rules.black_diamond_spend_12m_fen)]
    return []


def highest_earned_tier(facts: MemberFacts, rules: TierRules) -> TierCode:
    """The highest tier the facts reach by themselves (Black Diamond needs an invitation)."""
    for tier in reversed(TIER_ORDER):
        if tier is TierCode.BLACK_DIAMOND:
            continue
        if tier is TierCode.NEW or all_met(qualifying_conditions(tier, facts, rules)):
            return tier
    return TierCode.NEW


def tier_after_event(current: TierCode, facts: MemberFacts, rules: TierRules) -> TierCode:
    """Events only ever raise a tier; lowering waits for the review."""
    earned = highest_earned_tier(facts, rules)
    return earned if earned.rank > current.rank else current


def keeps_tier(current: TierCode, facts: MemberFacts, rules: TierRules) -> bool:
    return all_met(retention_conditions(current, facts, rules))


def tier_after_review(current: TierCode, facts: MemberFacts, rules: TierRules) -> TierCode:
    """Keep the tier if its conditions hold, else drop one; never below what is earned."""
    kept = current if keeps_tier(current, facts, rules) else current.below()
    earned = highest_earned_tier(facts, rules)
    return earned if earned.rank > kept.rank else kept


def may_invite_to_black_diamond(facts: MemberFacts, rules: TierRules) -> bool:
    return facts.spend_12m_fen >= rules.black_diamond_spend_12m_fen


def check_override(current: TierCode, target: TierCode, reason: str) -> str:
    """A manual override names a reason (kept in the tier history) and a different tier;
    it may take Black Diamond away but never give it: that is the invitation, with its
    spend condition. Returns the reason, trimmed."""
    reason = reason.strip()
    if not reason or len(reason) > MAX_OVERRIDE_REASON_CHARS:
        raise InvalidInput(
            TierErrorCode.REASON_REQUIRED,
            f"Give a reason of 1 to {MAX_OVERRIDE_REASON_CHARS} characters.",
            field="reason",
        )
    if target is TierCode.BLACK_DIAMOND:
        raise InvalidInput(
            TierErrorCode.USE_INVITATION,
            "Black Diamond is by invitation only: use inviteToBlackDiamond.",
            field="tier",
        )
    if target is current:
        raise Conflict(TierErrorCode.TIER_UNCHANGED, f"The member is {current} already.")
    return reason


@dataclass(frozen=True)
class Progress:
    tier: TierCode
    next_tier: TierCode | None
    conditions: list[Condition]
    retention: list[Condition]
    next_review: date
    downgrade_risk: bool


def progress(current: TierCode, facts: MemberFacts, rules: TierRules) -> Progress:
    upcoming = current.above()
    return Progress(
        tier=current,
        next_tier=upcoming,
        conditions=qualifying_conditions(upcoming, facts, rules) if upcoming else [],
        retention=retention_conditions(current, facts, rules),
        next_review=next_review_date(facts.as_of, rules),
        downgrade_risk=tier_after_review(current, facts, rules).rank < current.rank,
    )


def describe_missing(conditions: list[Condition]) -> str:
    """'2,300 yuan more spend and 1 more referral' for the unmet conditions."""
    parts = []
    seen_groups: set[str] = set()
    for condition in conditions:
        if condition.met or (condition.group and condition.group in seen_groups):
            continue
        if condition.group:
            alternatives = [c for c in conditions if c.group == condition.group]
            if any(c.met for c in alternatives):
                continue
            seen_groups.add(condition.group)
            parts.append(" or ".join(_phrase(c) for c in alternatives))
        else:
            parts.append(_phrase(condition))
    return " and ".join(parts)


_LABELS = {
    "lifetime_spend": "spend",
    "spend_12m": "spend in 12 months",
    "average_order_12m": "average order value",
    "lifetime_orders": "completed order(s)",
    "referrals": "successful referral(s)",
    "events_12m": "offline event(s) attended",
    "monthly_active_days": "active day(s) a month on average",
    "weekly_activity": "points of weekly activity (percent)",
    "invitation": "staff invitation",
}


def _phrase(condition: Condition) -> str:
    label = _LABELS.get(condition.key, condition.key)
    if condition.unit is Unit.FEN:
        fen = math.ceil(condition.missing)
        yuan = f"{fen / 100:,.0f}" if fen % 100 == 0 else f"{fen / 100:,.2f}"
        return f"{yuan} yuan more {label}"
    if condition.unit is Unit.FLAG:
        return f"a {label}"
    missing = condition.shown_missing
    amount = f"{missing.numerator:,}" if missing.denominator == 1 else f"{float(missing):,.2f}"
    return f"{amount} more {label}"
