"""Rewards in the staff GraphQL: the catalogue and vouchers used in store."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import Annotated, Any

import strawberry

from member_api.error_codes import RewardErrorCode
from member_api.errors import DomainError
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError, ClientError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.graphql.scalars import PointCount
from member_api.members.masked import MaskedMember, masked_member
from member_api.rewards import domain, service
from member_api.rewards.gql import (
    Redemption,
    RedemptionResult,
    Reward,
    RewardConnection,
    RewardCurrency,
    RewardEdge,
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


@strawberry.enum(name="RedemptionStatus")
class RedemptionStatusType(Enum):
    ACTIVE = "ACTIVE"
    USED = "USED"
    CANCELLED = "CANCELLED"


@strawberry.type(description="A redemption as staff see it: whose it is, and what became of it.")
class StaffRedemption:
    row: strawberry.Private[RedemptionRow]
    id: strawberry.ID
    status: RedemptionStatusType
    voucher_code: str
    quantity: int
    currency: RewardCurrency
    spent: PointCount = strawberry.field(description="Points, or carbon credits, spent.")
    created_at: datetime
    used_at: datetime | None
    cancelled_at: datetime | None

    @classmethod
    def of(cls, row: RedemptionRow) -> StaffRedemption:
        return cls(
            row=row,
            id=strawberry.ID(str(row.id)),
            status=RedemptionStatusType(row.status),
            voucher_code=row.voucher_code,
            quantity=row.quantity,
            currency=RewardCurrency(row.currency),
            spent=PointCount(row.points_spent),
            created_at=row.created_at,
            used_at=row.used_at,
            cancelled_at=row.cancelled_at,
        )

    @strawberry.field(description="The member who redeemed, masked.")
    async def member(self, info: GqlInfo) -> MaskedMember | None:
        return await masked_member(info, self.row.member_id)

    @strawberry.field
    async def reward(self, info: GqlInfo) -> Reward:
        return Reward.of(await _rewards(info).load(self.row.reward_id))


def _rewards(info: GqlInfo) -> Any:
    async def load(ids: list[uuid.UUID]) -> list[RewardRow]:
        rows = {r.id: r for r in await RewardRow.filter(id__in=ids)}
        return [rows[i] for i in ids]

    return info.context.loader("staff-rewards", load)


@strawberry.type
class StaffRedemptionEdge:
    cursor: str
    node: StaffRedemption


@strawberry.type
class StaffRedemptionConnection:
    edges: list[StaffRedemptionEdge]
    page_info: PageInfo


def _filter_id(value: strawberry.ID | None, code: RewardErrorCode, what: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return parse_id(value, code=code, what=what)
    except DomainError as exc:
        raise ClientError(exc.code, exc.message) from exc


@strawberry.type
class RewardAdminQuery:
    @strawberry.field(
        description=(
            "Every reward, withdrawn ones included, newest first; `name` matches part of "
            "the name in any case, `active` picks offered or withdrawn rewards."
        ),
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def rewards(
        self,
        name: str | None = None,
        active: bool | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> RewardConnection:
        rows, page_info = await newest_first_page(
            service.search_rewards(name=name, active=active),
            first=first,
            after=after,
            time_field="created_at",
        )
        return RewardConnection(
            edges=[RewardEdge(cursor=c, node=Reward.of(r)) for c, r in rows], page_info=page_info
        )

    @strawberry.field(
        description=(
            "Redemptions, newest first, by every filter given: `voucherCode` exactly (to "
            "look a voucher up before markVoucherUsed), the member, the reward, the status."
        ),
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def redemptions(
        self,
        voucher_code: str | None = None,
        member_id: strawberry.ID | None = None,
        reward_id: strawberry.ID | None = None,
        status: RedemptionStatusType | None = None,
        first: int = 20,
        after: str | None = None,
    ) -> StaffRedemptionConnection:
        query = service.search_redemptions(
            voucher_code=voucher_code,
            member_id=_filter_id(member_id, RewardErrorCode.UNKNOWN_MEMBER, "member"),
            reward_id=_filter_id(reward_id, RewardErrorCode.UNKNOWN_REWARD, "reward"),
            status=domain.RedemptionStatus(status.value) if status else None,
        )
        rows, page_info = await newest_first_page(
            query, first=first, after=after, time_field="created_at"
        )
        return StaffRedemptionConnection(
            edges=[StaffRedemptionEdge(cursor=c, node=StaffRedemption.of(r)) for c, r in rows],
            page_info=page_info,
        )


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
