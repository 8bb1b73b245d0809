"""Loading a member's facts (MemberFacts) from what is stored."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import cast

from member_api.commerce.models import MemberOrder
from member_api.events.models import EventAttendance
from member_api.members.models import ActivityDay, Member
from member_api.tiers.domain import MemberFacts, add_months, business_date, trailing_window_start
from member_api.tiers.rules import TierRules


def activity_window_start(as_of: date, rules: TierRules) -> date:
    months = add_months(date(as_of.year, as_of.month, 1), -(rules.silver_activity_months - 1))
    weeks = as_of - timedelta(days=as_of.weekday()) - timedelta(weeks=rules.diamond_activity_weeks)
    return min(months, weeks)


async def load_facts(member: Member, as_of: date, rules: TierRules) -> MemberFacts:
    window = trailing_window_start(as_of, rules.trailing_months)
    orders = await MemberOrder.filter(member_id=member.id, paid_on__lte=as_of).values_list(
        "paid_fen", "refunded_fen", "paid_on"
    )
    lifetime_spend = lifetime_orders = spend_12m = orders_12m = 0
    for paid, refunded, paid_on in orders:
        net = paid - refunded
        if net <= 0:
            continue  # a refunded order stops counting
        lifetime_spend += net
        lifetime_orders += 1
        if paid_on >= window:
            spend_12m += net
            orders_12m += 1
    referrals = await count_successful_referrals(member.id, as_of)
    events = await EventAttendance.filter(
        member_id=member.id, attended_on__gte=window, attended_on__lte=as_of
    ).count()
    days = await ActivityDay.filter(
        member_id=member.id, day__gte=activity_window_start(as_of, rules), day__lte=as_of
    ).values_list("day", flat=True)
    return MemberFacts(
        as_of=as_of,
        joined_on=business_date(member.joined_at),
        lifetime_spend_fen=lifetime_spend,
        lifetime_orders=lifetime_orders,
        spend_12m_fen=spend_12m,
        orders_12m=orders_12m,
        referrals=referrals,
        events_12m=events,
        active_days=frozenset(cast(list[date], days)),
    )


async def count_successful_referrals(member_id: uuid.UUID, as_of: date) -> int:
    """Referees whose first order has been paid."""
    referees = await MemberOrder.filter(
        member__referred_by_id=member_id, paid_on__lte=as_of
    ).values_list("member_id", flat=True)
    return len(set(referees))
