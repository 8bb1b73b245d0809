"""Applying commerce events: once each, atomically, with their effects on tiers and AML."""

from __future__ import annotations

import logging
import uuid
from typing import Literal

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.badges import service as badges
from member_api.badges.domain import Counter
from member_api.business_calendar import business_date
from member_api.commerce.domain import INTERACTIONS, CommerceEventIn, EventType
from member_api.commerce.models import CommerceEvent, ItemInteraction, MemberOrder, OrderLine
from member_api.compliance.service import check_paid_order
from member_api.error_codes import CommerceErrorCode
from member_api.errors import Conflict, InvalidInput, NotFound
from member_api.intelligence import facts
from member_api.intelligence import service as intelligence
from member_api.members.activity import bump_facts_version, mark_active
from member_api.members.models import Member
from member_api.points import service as points
from member_api.rights import service as rights
from member_api.rights.domain import FIRST_AUTHENTICATION_FREE
from member_api.services import Services
from member_api.tasks import service as tasks_service
from member_api.tasks.domain import Action
from member_api.tiers import service as tiers
from member_api.tiers.rules import TierCode

logger = logging.getLogger(__name__)
Outcome = Literal["applied", "duplicate"]


async def apply_event(services: Services, event: CommerceEventIn, *, source: str) -> Outcome:
    """Apply `event` once. A replay (same eventId), even a concurrent one, is a duplicate."""
    async with freshness.writing(services.cache):
        return await _apply_event(services, event, source=source)


async def _apply_event(services: Services, event: CommerceEventIn, *, source: str) -> Outcome:
    if await CommerceEvent.filter(event_id=event.event_id).exists():
        return "duplicate"
    try:
        async with in_transaction():
            member = await tiers.lock_member(event.member_id)
            if await CommerceEvent.filter(event_id=event.event_id).exists():
                return "duplicate"  # a concurrent copy committed while we waited
            row = await CommerceEvent.create(
                event_id=event.event_id,
                type=event.type.value,
                member_id=member.id,
                order_id=event.order_id,
                consignment_id=event.consignment_id,
                item_public_id=event.item_public_id,
                amount_fen=event.amount_fen,
                occurred_at=event.occurred_at,
                received_at=services.clock.now(),
                source=source,
            )
            if event.type in INTERACTIONS:
                # Read by the member's affinities; no tier rule looks at them.
                await _interaction(row, event)
                await _refresh_facts(services, member.id)
                logger.info("commerce event %s (%s) applied", event.event_id, event.type.value)
                return "applied"
            if event.type is EventType.ORDER_PAID:
                await _order_paid(services, member, event, *_order_and_amount(event))
            elif event.type is EventType.ORDER_REFUNDED:
                await _order_refunded(services, member, event, *_order_and_amount(event))
            elif event.type is EventType.AUTHENTICATION_COMPLETED:
                done = await CommerceEvent.filter(
                    member_id=member.id, type=EventType.AUTHENTICATION_COMPLETED.value
                ).count()
                await badges.award_reached(
                    services, member.id, Counter.AUTHENTICATIONS, done, at=services.clock.now()
                )
                await tasks_service.record(
                    services,
                    member_id=member.id,
                    action=Action.AUTHENTICATION,
                    reference=event.event_id,
                )
                # The first authentication is the free one: its use is taken with the
                # event, under the right's unique key, so later ones find it used.
                await rights.use_on_event(
                    services,
                    member,
                    right_code=FIRST_AUTHENTICATION_FREE,
                    at=event.occurred_at,
                    reference=event.event_id,
                )
            elif event.type is EventType.CONSIGNMENT_COMPLETED:
                await points.credit_carbon_for_consignment(
                    services, member_id=member.id, event_id=event.event_id
                )
            await bump_facts_version(member.id)
            await _refresh_facts(services, member.id)
            await tiers.upgrade_if_earned(services, member, reference=event.event_id)
    except IntegrityError:
        if await CommerceEvent.filter(event_id=event.event_id).exists():
            return "duplicate"
        # Another member's event paid the same order at the same moment.
        paid_elsewhere = event.type is EventType.ORDER_PAID and event.order_id is not None
        if paid_elsewhere and await MemberOrder.filter(order_id=event.order_id).exists():
            raise Conflict(
                CommerceErrorCode.ORDER_ALREADY_PAID, f"Order {event.order_id} was paid already."
            ) from None
        raise
    logger.info("commerce event %s (%s) applied", event.event_id, event.type.value)
    return "applied"


async def _refresh_facts(services: Services, member_id: uuid.UUID) -> None:
    """The member's facts (the data platform's) as of today, with the event in them."""
    _, rules = await intelligence.rules_in_force(services)
    await facts.refresh_member(member_id, tiers.today(services), services.clock.now(), rules)


async def _interaction(row: CommerceEvent, event: CommerceEventIn) -> None:
    seen = event.interaction
    if seen is None:
        raise InvalidInput(
            CommerceErrorCode.MISSING_FIELD, f"A {event.type.value} event needs itemId."
        )
    await ItemInteraction.create(
        event_id=row.id,
        member_id=event.member_id,
        kind="FAVOURITE" if event.type is EventType.ITEM_FAVOURITED else "VIEW",
        item_id=seen.item_id,
        brand=seen.brand,
        category=seen.category,
        count=seen.count,
        day=seen.day,
    )


def _order_and_amount(event: CommerceEventIn) -> tuple[str, int]:
    """The order id and amount an order event cannot do without."""
    if event.order_id is None:
        raise InvalidInput(
            CommerceErrorCode.MISSING_FIELD,
            f"A {event.type.value} event needs orderId.",
            field="orderId",
        )
    if event.amount_fen is None:
        raise InvalidInput(
            CommerceErrorCode.MISSING_FIELD,
            f"A {event.type.value} event needs amountFen.",
            field="amountFen",
        )
    return event.order_id, event.amount_fen


async def _order_paid(
    services: Services, member: Member, event: CommerceEventIn, order_id: str, amount_fen: int
) -> None:
    if await MemberOrder.filter(order_id=order_id).exists():
        raise Conflict(
            CommerceErrorCode.ORDER_ALREADY_PAID,
            f"Order {order_id} was paid already.",
            field="orderId",
        )
    first_order = not await MemberOrder.filter(member_id=member.id).exists()
    paid_on = business_date(event.occurred_at)
    order = await MemberOrder.create(
        order_id=order_id,
        member_id=member.id,
        paid_fen=amount_fen,
        paid_at=event.occurred_at,
        paid_on=paid_on,
    )
    if event.lines:
        await OrderLine.bulk_create(
            [
                OrderLine(
                    order_id=order.id,
                    position=n,
                    brand=line.brand,
                    category=line.category,
                    amount_fen=line.amount_fen,
                )
                for n, line in enumerate(event.lines)
            ]
        )
    await mark_active(member.id, paid_on)
    await check_paid_order(services, order)
    # Points at the rate of the tier the member had when paying.
    await points.earn_for_payment(
        services, order=order, tier=TierCode(member.tier), event_id=event.event_id
    )
    if first_order and member.referred_by_id is not None:
        # The referrer now has one more successful referral, and its share in points.
        referrer = await tiers.lock_member(member.referred_by_id)
        await points.credit_referral(
            services, referrer_id=referrer.id, referee_id=member.id, order=order
        )
        await bump_facts_version(referrer.id)
        await tiers.upgrade_if_earned(services, referrer, reference=f"referral:{member.id}")


async def _order_refunded(
    services: Services, member: Member, event: CommerceEventIn, order_id: str, amount_fen: int
) -> None:
    order = await MemberOrder.get_or_none(order_id=order_id, member_id=member.id)
    if order is None:
        raise NotFound(
            CommerceErrorCode.UNKNOWN_ORDER, f"No paid order {order_id} for this member."
        )
    left = order.paid_fen - order.refunded_fen
    if amount_fen > left:
        raise InvalidInput(
            CommerceErrorCode.REFUND_EXCEEDS_ORDER,
            f"Only {left} fen of order {order_id} can still be refunded.",
            field="amountFen",
        )
    # The member row is locked, so nobody else refunds this order meanwhile; the
    # condition and the table's CHECK constraint hold the line regardless.
    updated = await MemberOrder.filter(
        id=order.id, refunded_fen__lte=order.paid_fen - amount_fen
    ).update(refunded_fen=F("refunded_fen") + amount_fen)
    if not updated:
        raise InvalidInput(
            CommerceErrorCode.REFUND_EXCEEDS_ORDER, "The refund exceeds what is left."
        )
    await order.refresh_from_db(fields=["refunded_fen"])
    await points.reverse_for_refund(services, order=order, event_id=event.event_id)
    if member.referred_by_id is not None and await _is_first_order(order):
        # The referral bonus this order earned goes back with it.
        referrer = await tiers.lock_member(member.referred_by_id)
        await points.reverse_referral(
            services,
            referrer_id=referrer.id,
            referee_id=member.id,
            first_order=order,
            event_id=event.event_id,
        )
        await bump_facts_version(referrer.id)


async def _is_first_order(order: MemberOrder) -> bool:
    """Whether `order` is its member's first paid order (the one a referral counts)."""
    first = await MemberOrder.filter(member_id=order.member_id).order_by("id").first()
    return first is not None and first.id == order.id
