"""Points use cases: earning and reversing through commerce events, expiry, the member's view."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.transactions import in_transaction

from member_api.business_calendar import business_date
from member_api.commerce.domain import EventType
from member_api.commerce.models import CommerceEvent, MemberOrder
from member_api.error_codes import PointsErrorCode
from member_api.errors import InvalidInput, NotFound
from member_api.members.models import Member
from member_api.points import domain, ledger
from member_api.points.domain import Reason
from member_api.points.models import OrderPoints
from member_api.services import Services
from member_api.tiers.rules import TierCode


def _order_source(order_id: str) -> str:
    return f"order:{order_id}"


async def earn_for_payment(
    services: Services, *, order: MemberOrder, tier: TierCode, event_id: str
) -> int:
    """Credit the points an order earns (inside the event's transaction)."""
    rules = services.settings.points_rules
    points = domain.points_for_payment(order.paid_fen, tier, rules)
    await OrderPoints.create(order_id=order.order_id, member_id=order.member_id, points=points)
    await ledger.credit(
        order.member_id,
        points,
        Reason.SPEND,
        reference=event_id,
        at=order.paid_at,
        expires_on=rules.expiry_for(order.paid_on),
        source=_order_source(order.order_id),
    )
    return points


async def reverse_for_refund(services: Services, *, order: MemberOrder, event_id: str) -> int:
    """After `order.refunded_fen` grew: take back the refunded share of its points."""
    earned = await OrderPoints.select_for_update().get_or_none(order_id=order.order_id)
    if earned is None:
        return 0
    due = domain.reversal_due(earned.points, order.paid_fen, order.refunded_fen, earned.reversed)
    if due == 0:
        return 0
    await ledger.reverse(
        order.member_id,
        due,
        reference=event_id,
        own_source=_order_source(order.order_id),
        at=services.clock.now(),
    )
    earned.reversed += due
    await earned.save(update_fields=["reversed"])
    return due


def _referral_source(referee_id: uuid.UUID) -> str:
    return f"referee:{referee_id}"


async def credit_referral(
    services: Services, *, referrer_id: uuid.UUID, referee_id: uuid.UUID, order: MemberOrder
) -> None:
    """`referral_percent` (10 by default) of the referee's first paid order, once per referee."""
    rules = services.settings.points_rules
    await ledger.credit(
        referrer_id,
        domain.referral_points(order.paid_fen, rules),
        Reason.REFERRAL,
        reference=_referral_source(referee_id),
        at=order.paid_at,
        expires_on=rules.expiry_for(order.paid_on),
        source=_referral_source(referee_id),
    )


async def reverse_referral(
    services: Services,
    *,
    referrer_id: uuid.UUID,
    referee_id: uuid.UUID,
    first_order: MemberOrder,
    event_id: str,
) -> int:
    """After a refund of the referee's first order (`first_order.refunded_fen` grew): take
    back the refunded share of the referral bonus it earned the referrer.

    DOMAIN.md: a refund reverses the points its order earned. The bonus was earned by the
    referee's first order, so it is reversed like the order's own points: in proportion to
    what is refunded, all of it once the order is fully refunded. Once per refund event."""
    source = _referral_source(referee_id)
    refunds = await CommerceEvent.filter(
        member_id=first_order.member_id,
        order_id=first_order.order_id,
        type=EventType.ORDER_REFUNDED.value,
    ).values_list("event_id", flat=True)
    async with in_transaction():
        await ledger.lock_account(referrer_id)
        credited = await ledger.entries_total(referrer_id, Reason.REFERRAL, [source])
        if credited <= 0:
            return 0
        reversed_so_far = -await ledger.entries_total(
            referrer_id, Reason.REFERRAL_REVERSAL, [str(e) for e in refunds]
        )
        due = domain.reversal_due(
            credited, first_order.paid_fen, first_order.refunded_fen, reversed_so_far
        )
        moved = await ledger.reverse(
            referrer_id,
            due,
            reference=event_id,
            own_source=source,
            at=services.clock.now(),
            reason=Reason.REFERRAL_REVERSAL,
        )
    return due if moved.entry is not None else 0


async def credit_carbon_for_consignment(
    services: Services, *, member_id: uuid.UUID, event_id: str
) -> None:
    """Carbon credits for a completed consignment, a balance of their own."""
    await ledger.credit(
        member_id,
        services.settings.carbon_credits_per_consignment,
        Reason.CARBON_CREDIT,
        reference=event_id,
        at=services.clock.now(),
        expires_on=None,
        currency=ledger.CARBON,
    )


async def credit_activity(
    services: Services, *, member_id: uuid.UUID, reason: Reason, points: int, reference: str
) -> None:
    """Points for check-ins, posts, events and quizzes (once per reference)."""
    now = services.clock.now()
    await ledger.credit(
        member_id,
        points,
        reason,
        reference=reference,
        at=now,
        expires_on=services.settings.points_rules.expiry_for(business_date(now)),
    )


async def adjust_points(
    services: Services, *, member_id: uuid.UUID, delta: int, note: str, staff_id: uuid.UUID
) -> int:
    """A staff correction, with its reason in words; a deduction cannot overdraw."""
    if delta == 0 or abs(delta) > 10_000_000:
        raise InvalidInput(
            PointsErrorCode.INVALID_DELTA, "Adjust by 1 to 10,000,000 points.", field="delta"
        )
    if not note.strip():
        raise InvalidInput(
            PointsErrorCode.NOTE_REQUIRED, "Say why the points change.", field="note"
        )
    if not await Member.exists(id=member_id):
        raise NotFound(PointsErrorCode.UNKNOWN_MEMBER, "No member has that id.")
    now = services.clock.now()
    reference = f"adjustment:{uuid.uuid4()}"
    if delta > 0:
        await ledger.credit(
            member_id,
            delta,
            Reason.ADJUSTMENT,
            reference=reference,
            at=now,
            expires_on=services.settings.points_rules.expiry_for(business_date(now)),
            note=note.strip()[:500],
            staff_id=staff_id,
        )
    else:
        await ledger.debit(
            member_id,
            -delta,
            Reason.ADJUSTMENT,
            reference=reference,
            at=now,
            note=note.strip()[:500],
            staff_id=staff_id,
        )
    balance, _ = await ledger.balance(member_id, as_of=business_date(now))
    return balance


async def expire_points(services: Services, as_of: date) -> int:
    return await ledger.expire_lots(as_of, at=services.clock.now())


@dataclass(frozen=True)
class PointsView:
    balance: int
    debt: int
    expiring_soon: list[tuple[date, int]]


async def points_view(services: Services, member_id: uuid.UUID) -> PointsView:
    today = business_date(services.clock.now())
    horizon = today + timedelta(days=services.settings.points_rules.expiring_soon_days)
    balance, debt = await ledger.balance(member_id, as_of=today)
    return PointsView(
        balance=balance,
        debt=debt,
        expiring_soon=await ledger.expiring(member_id, today, horizon),
    )
