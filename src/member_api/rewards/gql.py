"""Rewards in GraphQL: the catalogue, redemption and cancellation."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated, NewType

import strawberry

from member_api.error_codes import RewardErrorCode
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome
from member_api.graphql.scalars import PointCount
from member_api.rewards import domain, service
from member_api.rewards.models import Redemption as RedemptionRow
from member_api.rewards.models import Reward as RewardRow
from member_api.tiers.gql import Tier


@strawberry.enum
class RewardKind(Enum):
    AUTHENTICATION_VOUCHER = "AUTHENTICATION_VOUCHER"
    MAINTENANCE = "MAINTENANCE"
    EVENT_SEAT = "EVENT_SEAT"
    COUPON = "COUPON"
    ECO_GIFT = "ECO_GIFT"


@strawberry.enum
class RewardCurrency(Enum):
    POINTS = "POINTS"
    CARBON = "CARBON"


@strawberry.type
class Reward:
    reward_id: strawberry.Private[uuid.UUID]
    offer: strawberry.Private[domain.Offer]
    id: strawberry.ID
    name: str
    description: str
    kind: RewardKind
    currency: RewardCurrency = strawberry.field(
        description="What the reward is paid with: POINTS or CARBON (carbon credits)."
    )
    points_price: PointCount | None = strawberry.field(
        description="Points per unit; null for a reward paid with carbon credits."
    )
    carbon_price: PointCount | None = strawberry.field(
        description="Carbon credits per unit; null for a reward paid with points."
    )
    stock: int
    limit_per_member: int | None
    active_from: datetime | None
    active_until: datetime | None

    @classmethod
    def of(cls, row: RewardRow) -> Reward:
        currency = RewardCurrency(row.currency)
        return cls(
            reward_id=row.id,
            offer=service.offer_of(row),
            id=strawberry.ID(str(row.id)),
            name=row.name,
            description=row.description,
            kind=RewardKind(row.kind),
            currency=currency,
            points_price=row.price if currency is RewardCurrency.POINTS else None,
            carbon_price=row.price if currency is RewardCurrency.CARBON else None,
            stock=row.stock,
            limit_per_member=row.limit_per_member,
            active_from=row.active_from,
            active_until=row.active_until,
        )

    @strawberry.field
    def min_tier(self, info: GqlInfo) -> Tier | None:
        if self.offer.min_tier is None:
            return None
        return Tier.of(self.offer.min_tier, info.context.services.settings.tier_rules)

    @strawberry.field(description="Whether the signed-in member could redeem one now.")
    async def redeemable_by_me(self, info: GqlInfo) -> bool:
        member_id = info.context.viewer_id()
        if member_id is None or not domain.in_stock(self.offer.stock, 1):
            return False
        services = info.context.services

        async def load_redeemers(ids: list[uuid.UUID]) -> list[service.Redeemer | None]:
            return [await service.redeemer(services, i) for i in ids]

        async def load_redeemed(reward_ids: list[uuid.UUID]) -> list[int]:
            held = await service.redeemed_quantities(member_id, reward_ids)
            return [held.get(i, 0) for i in reward_ids]

        # The member's tier and balances are read once for the whole list, and the units
        # they hold of its limited rewards in one more query.
        member: service.Redeemer | None = await info.context.loader(
            "reward-redeemer", load_redeemers
        ).load(member_id)
        if member is None:
            return False
        already = 0
        if self.offer.limit_per_member is not None:
            already = await info.context.loader("rewards-redeemed-by-me", load_redeemed).load(
                self.reward_id
            )
        balance = member.balance(self.currency.value)
        now = services.clock.now()
        return domain.redeemable(self.offer, member.tier, balance, already, now)


@strawberry.type
class RewardEdge:
    cursor: str
    node: Reward


@strawberry.type
class RewardConnection:
    edges: list[RewardEdge]
    page_info: PageInfo


@strawberry.type
class Redemption:
    reward_id: strawberry.Private[uuid.UUID]
    id: strawberry.ID
    status: str = strawberry.field(description="ACTIVE, USED or CANCELLED.")
    quantity: int
    currency: RewardCurrency = strawberry.field(description="What was spent: POINTS or CARBON.")
    points_spent: PointCount = strawberry.field(
        description="Points spent; 0 for a reward paid with carbon credits."
    )
    carbon_spent: PointCount = strawberry.field(
        description="Carbon credits spent; 0 for a reward paid with points."
    )
    voucher_code: str
    created_at: datetime

    @classmethod
    def of(cls, row: RedemptionRow) -> Redemption:
        currency = RewardCurrency(row.currency)
        spent = PointCount(row.points_spent)
        return cls(
            reward_id=row.reward_id,
            id=strawberry.ID(str(row.id)),
            status=row.status,
            quantity=row.quantity,
            currency=currency,
            points_spent=spent if currency is RewardCurrency.POINTS else PointCount(0),
            carbon_spent=spent if currency is RewardCurrency.CARBON else PointCount(0),
            voucher_code=row.voucher_code,
            created_at=row.created_at,
        )

    @strawberry.field
    async def reward(self, info: GqlInfo) -> Reward:
        async def load(ids: list[uuid.UUID]) -> list[RewardRow]:
            rows = {r.id: r for r in await RewardRow.filter(id__in=ids)}
            return [rows[i] for i in ids]

        # A page of redemptions reads its rewards in one query.
        return Reward.of(await info.context.loader("rewards", load).load(self.reward_id))


@strawberry.type
class RedemptionEdge:
    cursor: str
    node: Redemption


@strawberry.type
class RedemptionConnection:
    edges: list[RedemptionEdge]
    page_info: PageInfo


async def redemptions_page(
    member_id: uuid.UUID, first: int, after: str | None
) -> RedemptionConnection:
    rows, page_info = await newest_first_page(
        RedemptionRow.filter(member_id=member_id), first=first, after=after, time_field="created_at"
    )
    return RedemptionConnection(
        edges=[RedemptionEdge(cursor=c, node=Redemption.of(r)) for c, r in rows],
        page_info=page_info,
    )


def _whole_number(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError("Quantity must be a whole number.")
    return value


# A whole number of any size: the range (1 to 10) is a business rule, so a quantity of
# 10**12 reaches it and gets the typed INVALID_QUANTITY rather than a 32-bit Int error.
Quantity = NewType("Quantity", int)
QUANTITY_SCALAR = strawberry.scalar(
    name="Quantity",
    description="A whole number of units.",
    serialize=int,
    parse_value=_whole_number,
)


@strawberry.input
class RedeemRewardInput:
    reward_id: strawberry.ID
    quantity: Quantity = Quantity(1)
    idempotency_key: str = strawberry.field(
        description="Unique per attempt; a retry with the same key returns the same result."
    )


@strawberry.input
class CancelRedemptionInput:
    redemption_id: strawberry.ID


RedemptionResult = Annotated[Redemption | AnyError, strawberry.union("RedemptionResult")]


@strawberry.type
class RewardQuery:
    @strawberry.field(description="The rewards catalogue, newest first.")
    async def rewards(self, first: int = 20, after: str | None = None) -> RewardConnection:
        rows, page_info = await newest_first_page(
            RewardRow.filter(active=True), first=first, after=after, time_field="created_at"
        )
        return RewardConnection(
            edges=[RewardEdge(cursor=c, node=Reward.of(r)) for c, r in rows], page_info=page_info
        )


@strawberry.type
class RewardMutation:
    @strawberry.mutation(description="Redeem points (or carbon credits) for a reward.")
    async def redeem_reward(self, info: GqlInfo, input: RedeemRewardInput) -> RedemptionResult:
        async def work() -> RedemptionRow:
            member_id = await info.context.record_member_action()
            return await service.redeem(
                info.context.services,
                member_id=member_id,
                reward_id=parse_id(
                    input.reward_id, code=RewardErrorCode.UNKNOWN_REWARD, what="reward"
                ),
                quantity=input.quantity,
                idempotency_key=input.idempotency_key,
            )

        return await outcome(work(), Redemption.of)

    @strawberry.mutation(description="Cancel an unused redemption: points and stock return.")
    async def cancel_redemption(
        self, info: GqlInfo, input: CancelRedemptionInput
    ) -> RedemptionResult:
        async def work() -> RedemptionRow:
            member_id = await info.context.record_member_action()
            return await service.cancel(
                info.context.services,
                member_id=member_id,
                redemption_id=parse_id(
                    input.redemption_id, code=RewardErrorCode.UNKNOWN_REDEMPTION, what="redemption"
                ),
            )

        return await outcome(work(), Redemption.of)
