"""Rewards: the catalogue (operators), redemption and cancellation (members), vouchers."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Sum
from tortoise.transactions import in_transaction

from member_api.errors import Conflict, Forbidden, InvalidInput, NotFound
from member_api.members.models import Member
from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.points.models import LedgerEntry
from member_api.rewards.models import Redemption, Reward
from member_api.services import Services
from member_api.tiers.domain import business_date
from member_api.tiers.rules import TierCode

MAX_QUANTITY = 10
_VOUCHER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class RewardKind(StrEnum):
    AUTHENTICATION_VOUCHER = "AUTHENTICATION_VOUCHER"
    MAINTENANCE = "MAINTENANCE"
    EVENT_SEAT = "EVENT_SEAT"
    COUPON = "COUPON"
    ECO_GIFT = "ECO_GIFT"


@dataclass(frozen=True)
class RewardDraft:
    name: str
    description: str
    kind: RewardKind
    price: int
    stock: int
    currency: str = ledger.POINTS
    limit_per_member: int | None = None
    min_tier: TierCode | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None


def _check_draft(draft: RewardDraft) -> None:
    if not draft.name.strip() or len(draft.name) > 120:
        raise InvalidInput("INVALID_NAME", "Name: 1 to 120 characters.", field="name")
    if draft.price <= 0 or draft.price * MAX_QUANTITY >= 2**31:
        raise InvalidInput(
            "INVALID_PRICE", "The price must be positive and below 214,748,364.", field="price"
        )
    if draft.stock < 0 or draft.stock >= 2**31:
        raise InvalidInput("INVALID_STOCK", "Stock cannot be negative.", field="stock")
    if draft.limit_per_member is not None and draft.limit_per_member < 1:
        raise InvalidInput("INVALID_LIMIT", "The limit must be at least 1.", field="limitPerMember")
    if draft.currency not in (ledger.POINTS, ledger.CARBON):
        raise InvalidInput("INVALID_CURRENCY", "POINTS or CARBON.", field="currency")
    for moment in (draft.active_from, draft.active_until):
        if moment is not None and moment.tzinfo is None:
            raise InvalidInput("INVALID_WINDOW", "Give times with a UTC offset.")
    if draft.active_from and draft.active_until and draft.active_until <= draft.active_from:
        raise InvalidInput("INVALID_WINDOW", "The window ends before it starts.")


async def create_reward(services: Services, draft: RewardDraft) -> Reward:
    _check_draft(draft)
    return await Reward.create(
        name=draft.name.strip(),
        description=draft.description,
        kind=draft.kind.value,
        currency=draft.currency,
        price=draft.price,
        stock=draft.stock,
        limit_per_member=draft.limit_per_member,
        min_tier=draft.min_tier.value if draft.min_tier else None,
        active_from=draft.active_from,
        active_until=draft.active_until,
        created_at=services.clock.now(),
    )


@dataclass(frozen=True)
class RewardChanges:
    name: str | None = None
    description: str | None = None
    price: int | None = None
    stock: int | None = None
    limit_per_member: int | None = None
    active: bool | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None


async def update_reward(services: Services, reward_id: uuid.UUID, changes: RewardChanges) -> Reward:
    """Change a reward (restock, reprice, withdraw); the same rules as creating one."""
    async with in_transaction():
        reward = await Reward.select_for_update().get_or_none(id=reward_id)
        if reward is None:
            raise NotFound("UNKNOWN_REWARD", "No reward has that id.")
        for name, value in vars(changes).items():
            if value is not None:
                setattr(reward, name, value)
        _check_draft(
            RewardDraft(
                name=reward.name,
                description=reward.description,
                kind=RewardKind(reward.kind),
                price=reward.price,
                stock=reward.stock,
                currency=reward.currency,
                limit_per_member=reward.limit_per_member,
                active_from=reward.active_from,
                active_until=reward.active_until,
            )
        )
        await reward.save()
    return reward


def unavailable_reason(reward: Reward, now: datetime) -> str | None:
    if not reward.active:
        return "This reward is no longer offered."
    if reward.active_from and now < reward.active_from:
        return "This reward is not offered yet."
    if reward.active_until and now >= reward.active_until:
        return "This reward is no longer offered."
    return None


async def _redeemed_quantity(member_id: uuid.UUID, reward_id: uuid.UUID) -> int:
    row = (
        await Redemption.filter(member_id=member_id, reward_id=reward_id)
        .exclude(status="CANCELLED")
        .annotate(total=Sum("quantity"))
        .first()
        .values("total")
    )
    return int((row or {}).get("total") or 0)


def _check_request(quantity: int, idempotency_key: str) -> None:
    if not 1 <= quantity <= MAX_QUANTITY:
        raise InvalidInput(
            "INVALID_QUANTITY", f"Quantity must be 1 to {MAX_QUANTITY}.", field="quantity"
        )
    if not idempotency_key or len(idempotency_key) > 128:
        raise InvalidInput(
            "INVALID_IDEMPOTENCY_KEY", "Send a key of 1 to 128 characters.", field="idempotencyKey"
        )


async def _replay(
    member_id: uuid.UUID, key: str, reward_id: uuid.UUID, quantity: int
) -> Redemption | None:
    """The redemption an earlier request with this key made, if any."""
    earlier = await Redemption.get_or_none(member_id=member_id, idempotency_key=key)
    if earlier is not None and (earlier.reward_id != reward_id or earlier.quantity != quantity):
        raise Conflict("IDEMPOTENCY_KEY_REUSED", "This key was used for a different redemption.")
    return earlier


async def redeem(
    services: Services,
    *,
    member_id: uuid.UUID,
    reward_id: uuid.UUID,
    quantity: int,
    idempotency_key: str,
) -> Redemption:
    """Redeem in one transaction: gates, limit, stock and balance checked and changed together.
    A retry with the same key returns the original redemption."""
    _check_request(quantity, idempotency_key)
    earlier = await _replay(member_id, idempotency_key, reward_id, quantity)
    if earlier is not None:
        return earlier
    now = services.clock.now()
    try:
        async with in_transaction():
            member = await Member.get(id=member_id)
            reward_row = await Reward.get_or_none(id=reward_id)
            if reward_row is None:
                raise NotFound("UNKNOWN_REWARD", "No reward has that id.")
            # The member's account first, then the reward: one order, no deadlocks.
            await ledger.lock_account(member_id, reward_row.currency)
            earlier = await _replay(member_id, idempotency_key, reward_id, quantity)
            if earlier is not None:
                return earlier
            reward = reward_row
            _check_gates(reward, member, now)
            limit = reward.limit_per_member
            if (
                limit is not None
                and await _redeemed_quantity(member_id, reward_id) + quantity > limit
            ):
                raise Conflict("LIMIT_REACHED", f"At most {limit} per member.")
            if reward.stock < quantity:
                raise Conflict("OUT_OF_STOCK", "Not enough of this reward is left.")
            redemption_id = uuid.uuid4()
            total = reward.price * quantity
            moved = await ledger.debit(
                member_id,
                total,
                Reason.REDEMPTION,
                reference=f"redemption:{redemption_id}",
                at=now,
                currency=reward.currency,
            )
            assert moved.entry is not None
            # Stock is taken last, by a conditional update, so the popular reward's row
            # stays locked only for the end of the transaction.
            taken = await Reward.filter(id=reward.id, stock__gte=quantity).update(
                stock=F("stock") - quantity
            )
            if not taken:
                raise Conflict("OUT_OF_STOCK", "Not enough of this reward is left.")
            return await Redemption.create(
                id=redemption_id,
                member_id=member_id,
                reward_id=reward.id,
                quantity=quantity,
                points_spent=total,
                currency=reward.currency,
                voucher_code=_voucher_code(),
                idempotency_key=idempotency_key,
                debit_entry_id=moved.entry.id,
                created_at=now,
            )
    except IntegrityError:
        earlier = await _replay(member_id, idempotency_key, reward_id, quantity)
        if earlier is None:
            raise
        return earlier


def _check_gates(reward: Reward, member: Member, now: datetime) -> None:
    reason = unavailable_reason(reward, now)
    if reason:
        raise Conflict("REWARD_UNAVAILABLE", reason)
    if reward.min_tier and TierCode(member.tier).rank < TierCode(reward.min_tier).rank:
        raise Forbidden("TIER_TOO_LOW", f"This reward needs tier {reward.min_tier}.")


def _voucher_code() -> str:
    raw = "".join(secrets.choice(_VOUCHER_ALPHABET) for _ in range(12))
    return f"V-{raw[:4]}-{raw[4:8]}-{raw[8:]}"


async def cancel(
    services: Services, *, member_id: uuid.UUID, redemption_id: uuid.UUID
) -> Redemption:
    """Cancel an unused redemption: points back to their lots (same expiry), stock back."""
    now = services.clock.now()
    async with in_transaction():
        found = await Redemption.get_or_none(id=redemption_id, member_id=member_id)
        if found is None:
            raise NotFound("UNKNOWN_REDEMPTION", "No redemption of yours has that id.")
        await ledger.lock_account(member_id, found.currency)
        redemption = await Redemption.select_for_update().get(id=redemption_id)
        if redemption.status != "ACTIVE":
            raise Conflict(
                "NOT_CANCELLABLE", f"This redemption is {redemption.status.lower()} already."
            )
        debit_entry = await LedgerEntry.get(id=redemption.debit_entry_id)
        await ledger.restore(
            member_id,
            debit_entry,
            reason=Reason.CANCELLATION,
            reference=f"redemption:{redemption.id}",
            at=now,
            currency=redemption.currency,
        )
        await Reward.filter(id=redemption.reward_id).update(stock=F("stock") + redemption.quantity)
        redemption.status = "CANCELLED"
        redemption.cancelled_at = now
        await redemption.save(update_fields=["status", "cancelled_at"])
    return redemption


async def mark_voucher_used(services: Services, *, voucher_code: str) -> Redemption:
    async with in_transaction():
        redemption = await Redemption.select_for_update().get_or_none(
            voucher_code=voucher_code.strip().upper()
        )
        if redemption is None:
            raise NotFound("UNKNOWN_VOUCHER", "No voucher has that code.")
        if redemption.status != "ACTIVE":
            raise Conflict("VOUCHER_NOT_ACTIVE", f"The voucher is {redemption.status.lower()}.")
        redemption.status = "USED"
        redemption.used_at = services.clock.now()
        await redemption.save(update_fields=["status", "used_at"])
    return redemption


async def redeemable_by(services: Services, reward: Reward, member_id: uuid.UUID | None) -> bool:
    """Would a redemption of one unit succeed for this member now?"""
    if member_id is None or reward.stock < 1:
        return False
    member = await Member.get_or_none(id=member_id)
    if member is None:
        return False
    try:
        _check_gates(reward, member, services.clock.now())
    except (Conflict, Forbidden):
        return False
    limit = reward.limit_per_member
    if limit is not None and await _redeemed_quantity(member_id, reward.id) + 1 > limit:
        return False
    today = business_date(services.clock.now())
    balance, _ = await ledger.balance(member_id, reward.currency, as_of=today)
    return bool(balance >= reward.price)
