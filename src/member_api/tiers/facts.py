"""Loading a member's facts (MemberFacts) from what is stored."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, timedelta
from typing import cast

from member_api.business_calendar import add_months, business_date, trailing_window_start
from member_api.commerce.models import MemberOrder
from member_api.events.models import EventAttendance
from member_api.members.models import ActivityDay, Member
from member_api.tiers.domain import MemberFacts
from member_api.tiers.rules import TierRules


def activity_window_start(as_of: date, rules: TierRules) -> date:
    months = add_months(date(as_of.year, as_of.month, 1), -(rules.silver_activity_months - 1))
    weeks = as_of - timedelta(days=as_of.weekday()) - timedelta(weeks=rules.diamond_activity_weeks)
    return min(months, weeks)


async def load_facts(member: Member, as_of: date, rules: TierRules) -> MemberFacts:
    return (await load_facts_many([member], as_of, rules))[member.id]


async def load_facts_many(
    members: Sequence[Member], as_of: date, rules: TierRules
) -> dict[uuid.UUID, MemberFacts]:
    """Facts of several members in four queries, whatever their number."""
    ids = [m.id for m in members]
    window = trailing_window_start(as_of, rules.trailing_months)
    spend: dict[uuid.UUID, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    orders = await MemberOrder.filter(member_id__in=ids, paid_on__lte=as_of).values_list(
        "member_id", "paid_fen", "refunded_fen", "paid_on"
    )
    for member_id, paid, refunded, paid_on in orders:
        net = paid - refunded
        if net <= 0:
            continue  # a refunded order stops counting
        totals = spend[member_id]
        totals[0] += net
        totals[1] += 1
        if paid_on >= window:
            totals[2] += net
            totals[3] += 1
    referrals = await _successful_referrals(ids, as_of)
    attended = await EventAttendance.filter(
        member_id__in=ids, attended_on__gte=window, attended_on__lte=as_of
    ).values_list("member_id", flat=True)
    events: Counter[uuid.UUID] = Counter(cast(list[uuid.UUID], attended))
    days: dict[uuid.UUID, set[date]] = defaultdict(set)
    active = await ActivityDay.filter(
        member_id__in=ids, day__gte=activity_window_start(as_of, rules), day__lte=as_of
    ).values_list("member_id", "day")
    for member_id, day in active:
        days[member_id].add(day)
    facts = {}
    for member in members:
        lifetime_spend, lifetime_orders, spend_12m, orders_12m = spend[member.id]
        facts[member.id] = MemberFacts(
            as_of=as_of,
            joined_on=business_date(member.joined_at),
            lifetime_spend_fen=lifetime_spend,
            lifetime_orders=lifetime_orders,
            spend_12m_fen=spend_12m,
            orders_12m=orders_12m,
            referrals=referrals[member.id],
            events_12m=events[member.id],
            active_days=frozenset(days[member.id]),
        )
    return facts


async def _successful_referrals(ids: list[uuid.UUID], as_of: date) -> Counter[uuid.UUID]:
    """Per referrer, the referees whose first order was paid by `as_of` and is not fully
    refunded (a refund takes the referral back with the order)."""
    rows = (
        await MemberOrder.filter(member__referred_by_id__in=ids)
        .order_by("id")
        .values_list("member__referred_by_id", "member_id", "paid_fen", "refunded_fen", "paid_on")
    )
    first_orders: dict[uuid.UUID, tuple[uuid.UUID, bool]] = {}
    for referrer, referee, paid, refunded, paid_on in rows:
        first_orders.setdefault(referee, (referrer, paid > refunded and paid_on <= as_of))
    return Counter(referrer for referrer, counts in first_orders.values() if counts)
