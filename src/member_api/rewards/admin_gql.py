"""Rewards in the staff GraphQL: the catalogue and vouchers used in store."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from member_api.error_codes import RewardErrorCode
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.graphql.scalars import PointCount
from member_api.rewards import domain, service
from member_api.rewards.gql import (
    Redemption,
    RedemptionResult,
    Reward,
    RewardCurrency,
    RewardKind,
)
from member_api.rewards.models import Redemption as RedemptionRow
from member_api.rewards.models import Reward as RewardRow
from member_api.staff.domain import StaffRole
from member_api.tiers.gql import TierCode
from member_api.tiers.rules import TierCode as TierCodeValue


@strawberry.input
class CreateRewardInput:
    name: str
    kind: RewardKind
    points_price: PointCount = strawberry.field(
        description="Price per unit in `currency`: points, or carbon credits for CARBON."
    )
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
    points_price: PointCount | None = strawberry.field(
        default=None, description="Price per unit in the reward's currency."
    )
    stock: int | None = None
    limit_per_member: int | None = None
    active: bool | None = None
    active_from: datetime | None = None
    active_until: datetime | None = None


@strawberry.input
class MarkVoucherUsedInput:
    voucher_code: str


RewardResult = Annotated[Reward | AnyError, strawberry.union("RewardResult")]


@strawberry.type
class RewardAdminMutation:
    @strawberry.mutation(
        description="Add a reward to the catalogue.", extensions=[Roles(StaffRole.OPERATOR)]
    )
    async def create_reward(self, info: GqlInfo, input: CreateRewardInput) -> RewardResult:
        async def work() -> RewardRow:
            draft = domain.RewardDraft(
                name=input.name,
                description=input.description,
                kind=domain.RewardKind(input.kind.value),
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

    @strawberry.mutation(
        description="Restock, reprice or withdraw a reward.", extensions=[Roles(StaffRole.OPERATOR)]
    )
    async def update_reward(self, info: GqlInfo, input: UpdateRewardInput) -> RewardResult:
        async def work() -> RewardRow:
            changes = domain.RewardChanges(
                name=input.name,
                description=input.description,
                price=input.points_price,
                stock=input.stock,
                limit_per_member=input.limit_per_member,
                active=input.active,
                active_from=input.active_from,
                active_until=input.active_until,
            )
            reward_id = parse_id(
                input.reward_id, code=RewardErrorCode.UNKNOWN_REWARD, what="reward"
            )
            return await service.update_reward(info.context.services, reward_id, changes)

        return await outcome(work(), Reward.of)


@strawberry.type
class RedemptionAdminMutation:
    @strawberry.mutation(
        description="Mark a voucher as used.", extensions=[Roles(StaffRole.OPERATOR)]
    )
    async def mark_voucher_used(
        self, info: GqlInfo, input: MarkVoucherUsedInput
    ) -> RedemptionResult:
        async def work() -> RedemptionRow:
            return await service.mark_voucher_used(
                info.context.services, voucher_code=input.voucher_code
            )

        return await outcome(work(), Redemption.of)
