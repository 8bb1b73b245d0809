"""Rewards: the catalogue (operators), redemption and cancellation (members), vouchers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.functions import Sum
from tortoise.queryset import QuerySet
from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.business_calendar import business_date
from member_api.error_codes import RewardErrorCode
from member_api.errors import Conflict, NotFound
from member_api.members.models import Member
from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.points.models import LedgerEntry
from member_api.rewards import domain
from member_api.rewards.domain import RedemptionStatus, RewardChanges, RewardDraft, RewardKind
from member_api.rewards.models import Redemption, Reward
from member_api.services import Services
from member_api.tiers.rules import TierCode


def offer_of(reward: Reward) -> domain.Offer:
    return domain.Offer(
        price=reward.price,
        stock=reward.stock,
        limit_per_member=reward.limit_per_member,
        min_tier=TierCode(reward.min_tier) if reward.min_tier else None,
        active=reward.active,
        active_from=reward.active_from,
        active_until=reward.active_until,
    )


async def create_reward(services: Services, draft: RewardDraft) -> Reward:
    domain.check_draft(draft)
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


async def update_reward(services: Services, reward_id: uuid.UUID, changes: RewardChanges) -> Reward:
    """Change a reward (restock, reprice, withdraw); the same rules as creating one."""
    async with in_transaction():
        reward = await Reward.select_for_update().get_or_none(id=reward_id)
        if reward is None:
            raise NotFound(RewardErrorCode.UNKNOWN_REWARD, "No reward has that id.")
        for name, value in changes.given().items():
            setattr(reward, name, value)
        domain.check_draft(
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


async def _redeemed_quantity(member_id: uuid.UUID, reward_id: uuid.UUID) -> int:
    row = (
        await Redemption.filter(member_id=member_id, reward_id=reward_id)
        .exclude(status=RedemptionStatus.CANCELLED.value)
        .annotate(total=Sum("quantity"))
        .first()
        .values("total")
    )
    return int((row or {}).get("total") or 0)


async def _replay(
    member_id: uuid.UUID, key: str, reward_id: uuid.UUID, quantity: int
) -> Redemption | None:
    """The redemption an earlier request with this key made, if any."""
    earlier = await Redemption.get_or_none(member_id=member_id, idempotency_key=key)
    if earlier is not None:
        domain.check_replay(earlier.reward_id, earlier.quantity, reward_id, quantity)
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
    domain.check_request(quantity, idempotency_key)
    earlier = await _replay(member_id, idempotency_key, reward_id, quantity)
    if earlier is not None:
        return earlier
    now = services.clock.now()
    try:
        async with in_transaction():
            await freshness.touch(freshness.REWARDS)
            member = await Member.get(id=member_id)
            reward_row = await Reward.get_or_none(id=reward_id)
            if reward_row is None:
                raise NotFound(RewardErrorCode.UNKNOWN_REWARD, "No reward has that id.")
            # The member's account first, then the reward: one order, no deadlocks.
            await ledger.lock_account(member_id, reward_row.currency)
            earlier = await _replay(member_id, idempotency_key, reward_id, quantity)
            if earlier is not None:
                return earlier
            reward = reward_row
            offer = offer_of(reward)
            domain.check_gates(offer, TierCode(member.tier), now)
            if offer.limit_per_member is not None:
                already = await _redeemed_quantity(member_id, reward_id)
                domain.check_limit(offer.limit_per_member, already, quantity)
            domain.check_stock(offer.stock, quantity)
            redemption_id = uuid.uuid4()
            total = domain.total_price(offer.price, quantity)
            moved = await ledger.debit(
                member_id,
                total,
                Reason.REDEMPTION,
                reference=f"redemption:{redemption_id}",
                at=now,
                currency=reward.currency,
            )
            if moved.entry is None:
                # The ledger already holds a debit for this brand-new redemption id.
                raise Conflict(
                    RewardErrorCode.LEDGER_CONFLICT, "The redemption was not charged; try again."
                )
            # Stock is taken last, by a conditional update, so the popular reward's row
            # stays locked only for the end of the transaction.
            taken = await Reward.filter(id=reward.id, stock__gte=quantity).update(
                stock=F("stock") - quantity
            )
            if not taken:
                raise domain.out_of_stock()
            return await Redemption.create(
                id=redemption_id,
                member_id=member_id,
                reward_id=reward.id,
                quantity=quantity,
                points_spent=total,
                currency=reward.currency,
                voucher_code=domain.new_voucher_code(),
                idempotency_key=idempotency_key,
                debit_entry_id=moved.entry.id,
                created_at=now,
            )
    except IntegrityError:
        earlier = await _replay(member_id, idempotency_key, reward_id, quantity)
        if earlier is None:
            raise
        return earlier


async def cancel(
    services: Services, *, member_id: uuid.UUID, redemption_id: uuid.UUID
) -> Redemption:
    """Cancel an unused redemption: points back to their lots (same expiry), stock back."""
    now = services.clock.now()
    async with in_transaction():
        await freshness.touch(freshness.REWARDS)
        found = await Redemption.get_or_none(id=redemption_id, member_id=member_id)
        if found is None:
            raise NotFound(
                RewardErrorCode.UNKNOWN_REDEMPTION, "No redemption of yours has that id."
            )
        await ledger.lock_account(member_id, found.currency)
        redemption = await Redemption.select_for_update().get(id=redemption_id)
        domain.check_cancellable(redemption.status)
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
        redemption.status = RedemptionStatus.CANCELLED.value
        redemption.cancelled_at = now
        await redemption.save(update_fields=["status", "cancelled_at"])
    return redemption


async def mark_voucher_used(services: Services, *, voucher_code: str) -> Redemption:
    async with in_transaction():
        redemption = await Redemption.select_for_update().get_or_none(
            voucher_code=domain.normal_voucher_code(voucher_code)
        )
        if redemption is None:
            raise NotFound(RewardErrorCode.UNKNOWN_VOUCHER, "No voucher has that code.")
        domain.check_usable(redemption.status)
        redemption.status = RedemptionStatus.USED.value
        redemption.used_at = services.clock.now()
        await redemption.save(update_fields=["status", "used_at"])
    return redemption


def search_rewards(*, name: str | None = None, active: bool | None = None) -> QuerySet[Reward]:
    """Staff: rewards, withdrawn ones included, whose name holds `name` (any case)."""
    query = Reward.all()
    if name is not None and name.strip():
        query = query.filter(name__icontains=name.strip())
    if active is not None:
        query = query.filter(active=active)
    return query


def search_redemptions(
    *,
    voucher_code: str | None = None,
    member_id: uuid.UUID | None = None,
    reward_id: uuid.UUID | None = None,
    status: RedemptionStatus | None = None,
) -> QuerySet[Redemption]:
    """Staff: redemptions matching every filter given; a voucher code matches exactly
    (as typed in store: case and surrounding spaces do not matter)."""
    query = Redemption.all()
    if voucher_code is not None:
        query = query.filter(voucher_code=domain.normal_voucher_code(voucher_code))
    if member_id is not None:
        query = query.filter(member_id=member_id)
    if reward_id is not None:
        query = query.filter(reward_id=reward_id)
    if status is not None:
        query = query.filter(status=status.value)
    return query


async def redeemable_by(services: Services, reward: Reward, member_id: uuid.UUID | None) -> bool:
    """Would a redemption of one unit succeed for this member now? (For one reward; a
    list decides each of its rewards from one `redeemer` and `redeemed_quantities`.)"""
    member = await Member.get_or_none(id=member_id) if member_id is not None else None
    if member is None:
        return False
    offer = offer_of(reward)
    already = 0
    if offer.limit_per_member is not None:
        already = await _redeemed_quantity(member.id, reward.id)
    today = business_date(services.clock.now())
    balance, _ = await ledger.balance(member.id, reward.currency, as_of=today)
    now = services.clock.now()
    return domain.redeemable(offer, TierCode(member.tier), balance, already, now)


@dataclass(frozen=True, slots=True)
class Redeemer:
    """What deciding redeemability needs to know of a member: read once for a whole list."""

    tier: TierCode
    balances: dict[str, int]

    def balance(self, currency: str) -> int:
        return self.balances.get(currency, 0)


async def redeemer(services: Services, member_id: uuid.UUID) -> Redeemer | None:
    """The member's tier and spendable balances today; None for no such member."""
    member = await Member.get_or_none(id=member_id)
    if member is None:
        return None
    today = business_date(services.clock.now())
    return Redeemer(TierCode(member.tier), await ledger.balances(member_id, as_of=today))


async def redeemed_quantities(
    member_id: uuid.UUID, reward_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """Units of each reward the member holds in redemptions not cancelled, in one query."""
    rows = (
        await Redemption.filter(member_id=member_id, reward_id__in=reward_ids)
        .exclude(status=RedemptionStatus.CANCELLED.value)
        .annotate(total=Sum("quantity"))
        .group_by("reward_id")
        .values_list("reward_id", "total")
    )
    return {uuid.UUID(str(reward_id)): int(total or 0) for reward_id, total in rows}
