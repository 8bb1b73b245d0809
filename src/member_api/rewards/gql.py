"""Rewards in GraphQL: the catalogue, redemption and cancellation, and the staff side."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated, NewType

import strawberry

from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome
from member_api.points import service as points_service
from member_api.rewards import service
from member_api.rewards.models import Redemption as RedemptionRow
from member_api.rewards.models import Reward as RewardRow
from member_api.staff.domain import StaffRole
from member_api.tiers.gql import Tier, TierCode
from member_api.tiers.rules import TierCode as TierCodeValue


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
    row: strawberry.Private[RewardRow]
    id: strawberry.ID
    name: str
    description: str
    kind: RewardKind
    currency: RewardCurrency
    points_price: int = strawberry.field(description="Price per unit, in `currency`.")
    stock: int
    limit_per_member: int | None
    active_from: datetime | None
    active_until: datetime | None

    @classmethod
    def of(cls, row: RewardRow) -> Reward:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            name=row.name,
            description=row.description,
            kind=RewardKind(row.kind),
            currency=RewardCurrency(row.currency),
            points_price=row.price,
            stock=row.stock,
            limit_per_member=row.limit_per_member,
            active_from=row.active_from,
            active_until=row.active_until,
        )

    @strawberry.field
    def min_tier(self, info: GqlInfo) -> Tier | None:
        if not self.row.min_tier:
            return None
        return Tier.of(TierCodeValue(self.row.min_tier), info.context.services.settings.tier_rules)

    @strawberry.field(description="Whether the signed-in member could redeem one now.")
    async def redeemable_by_me(self, info: GqlInfo) -> bool:
        member_id = info.context.viewer_id()
        return await service.redeemable_by(info.context.services, self.row, member_id)


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
    row: strawberry.Private[RedemptionRow]
    id: strawberry.ID
    status: str = strawberry.field(description="ACTIVE, USED or CANCELLED.")
    quantity: int
    points_spent: int
    voucher_code: str
    created_at: datetime

    @classmethod
    def of(cls, row: RedemptionRow) -> Redemption:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            status=row.status,
            quantity=row.quantity,
            points_spent=row.points_spent,
            voucher_code=row.voucher_code,
            created_at=row.created_at,
        )

    @strawberry.field
    async def reward(self) -> Reward:
        return Reward.of(await RewardRow.get(id=self.row.reward_id))


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
            member_id = await info.context.acting_member_id()
            return await service.redeem(
                info.context.services,
                member_id=member_id,
                reward_id=parse_id(input.reward_id, code="UNKNOWN_REWARD", what="reward"),
                quantity=input.quantity,
                idempotency_key=input.idempotency_key,
            )

        return await outcome(work(), Redemption.of)

    @strawberry.mutation(description="Cancel an unused redemption: points and stock return.")
    async def cancel_redemption(
        self, info: GqlInfo, input: CancelRedemptionInput
    ) -> RedemptionResult:
        async def work() -> RedemptionRow:
            member_id = await info.context.acting_member_id()
            return await service.cancel(
                info.context.services,
                member_id=member_id,
                redemption_id=parse_id(
                    input.redemption_id, code="UNKNOWN_REDEMPTION", what="redemption"
                ),
            )

        return await outcome(work(), Redemption.of)


@strawberry.input
class CreateRewardInput:
    name: str
    kind: RewardKind
    points_price: int
    stock: int
    description: str = ""
    currency: RewardCurrency = RewardCurrency.POINTS
    limit_per_member: int | None = None
    min_tier: TierCode | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None


@strawberry.input
class UpdateRewardInput:
    reward_id: strawberry.ID
    name: str | None = None
    description: str | None = None
    points_price: int | None = None
    stock: int | None = None
    limit_per_member: int | None = None
    active: bool | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None


@strawberry.input
class AdjustPointsInput:
    member_id: strawberry.ID
    delta: int = strawberry.field(description="Points to add (positive) or deduct (negative).")
    note: str = strawberry.field(description="Why; kept with the ledger entry.")


@strawberry.type
class PointsAdjusted:
    member_id: strawberry.ID
    balance: int


AdjustPointsResult = Annotated[PointsAdjusted | AnyError, strawberry.union("AdjustPointsResult")]


@strawberry.input
class MarkVoucherUsedInput:
    voucher_code: str


RewardResult = Annotated[Reward | AnyError, strawberry.union("RewardResult")]


@strawberry.type
class RewardAdminMutation:
    @strawberry.mutation(description="Add a reward to the catalogue (operators).")
    async def create_reward(self, info: GqlInfo, input: CreateRewardInput) -> RewardResult:
        async def work() -> RewardRow:
            info.context.require_role(StaffRole.OPERATOR)
            draft = service.RewardDraft(
                name=input.name,
                description=input.description,
                kind=service.RewardKind(input.kind.value),
                price=input.points_price,
                stock=input.stock,
                currency=input.currency.value,
                limit_per_member=input.limit_per_member,
                min_tier=TierCodeValue(input.min_tier.value) if input.min_tier else None,
                active_from=input.active_from,
                active_until=input.active_until,
            )
            return await service.create_reward(info.context.services, draft)

        return await outcome(work(), Reward.of)

    @strawberry.mutation(description="Restock, reprice or withdraw a reward (operators).")
    async def update_reward(self, info: GqlInfo, input: UpdateRewardInput) -> RewardResult:
        async def work() -> RewardRow:
            info.context.require_role(StaffRole.OPERATOR)
            changes = service.RewardChanges(
                name=input.name,
                description=input.description,
                price=input.points_price,
                stock=input.stock,
                limit_per_member=input.limit_per_member,
                active=input.active,
                active_from=input.active_from,
                active_until=input.active_until,
            )
            reward_id = parse_id(input.reward_id, code="UNKNOWN_REWARD", what="reward")
            return await service.update_reward(info.context.services, reward_id, changes)

        return await outcome(work(), Reward.of)

    @strawberry.mutation(description="Add or deduct points with a note (operators).")
    async def adjust_points(self, info: GqlInfo, input: AdjustPointsInput) -> AdjustPointsResult:
        async def work() -> int:
            staff_id = info.context.require_role(StaffRole.OPERATOR)
            member_id = parse_id(input.member_id, code="UNKNOWN_MEMBER", what="member")
            return await points_service.adjust_points(
                info.context.services,
                member_id=member_id,
                delta=input.delta,
                note=input.note,
                staff_id=staff_id,
            )

        return await outcome(
            work(), lambda balance: PointsAdjusted(member_id=input.member_id, balance=balance)
        )

    @strawberry.mutation(description="Mark a voucher as used (operators).")
    async def mark_voucher_used(
        self, info: GqlInfo, input: MarkVoucherUsedInput
    ) -> RedemptionResult:
        async def work() -> RedemptionRow:
            info.context.require_role(StaffRole.OPERATOR)
            return await service.mark_voucher_used(
                info.context.services, voucher_code=input.voucher_code
            )

        return await outcome(work(), Redemption.of)
