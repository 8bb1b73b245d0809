"""Staff GraphQL for tiers and rights: invitations, the what-if, right uses."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import strawberry

from member_api.audit import service as audit
from member_api.error_codes import TierErrorCode
from member_api.errors import DomainError
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError, ClientError
from member_api.graphql.ids import parse_id
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.members.models import Member
from member_api.rights import service as rights
from member_api.staff.domain import StaffRole
from member_api.tiers import service as tiers
from member_api.tiers.gql import RightUsage, Tier, TierCondition
from member_api.tiers.gql import TierCode as TierCodeType
from member_api.tiers.rules import TierCode


def parse_member_id(value: str) -> uuid.UUID:
    return parse_id(value, code=TierErrorCode.UNKNOWN_MEMBER, what="member")


@strawberry.type(description="A member as staff see them in tier operations.")
class MemberTier:
    member_id: strawberry.ID
    tier: Tier


@strawberry.type(description="The tier a member would have at the next review if nothing changed.")
class TierForecast:
    member_id: strawberry.ID
    current: Tier
    at_next_review: Tier
    review_date: date
    retention_conditions: list[TierCondition]
    next_tier_conditions: list[TierCondition]


@strawberry.input
class InviteToBlackDiamondInput:
    member_id: strawberry.ID


@strawberry.input
class RecordRightUseInput:
    member_id: strawberry.ID
    right_code: str
    note: str = ""


@strawberry.input
class OverrideTierInput:
    member_id: strawberry.ID
    tier: TierCodeType = strawberry.field(description="Any tier but BLACK_DIAMOND (an invitation).")
    reason: str = strawberry.field(description="Kept in the member's tier history.")


OverrideTierResult = Annotated[MemberTier | AnyError, strawberry.union("OverrideTierResult")]
InviteResult = Annotated[MemberTier | AnyError, strawberry.union("InviteToBlackDiamondResult")]
RecordRightUseResult = Annotated[RightUsage | AnyError, strawberry.union("RecordRightUseResult")]


@strawberry.type
class TierAdminQuery:
    @strawberry.field(
        description="What-if: the member's tier at the next review.",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def member_tier_forecast(self, info: GqlInfo, member_id: strawberry.ID) -> TierForecast:
        services = info.context.services
        rules = services.settings.tier_rules
        try:
            result = await tiers.forecast(services, member_id=parse_member_id(member_id))
        except DomainError as exc:
            raise ClientError(exc.code, exc.message) from exc
        await audit.record_read(info, "memberTierForecast", result.member_id)
        return TierForecast(
            member_id=strawberry.ID(str(result.member_id)),
            current=Tier.of(result.current, rules),
            at_next_review=Tier.of(result.at_review, rules),
            review_date=result.review_date,
            retention_conditions=[TierCondition.of(c) for c in result.retention],
            next_tier_conditions=[TierCondition.of(c) for c in result.next_tier_conditions],
        )


@strawberry.type
class TierAdminMutation:
    @strawberry.mutation(
        description="Invite a member to Black Diamond.", extensions=[Roles(StaffRole.OPERATOR)]
    )
    async def invite_to_black_diamond(
        self, info: GqlInfo, input: InviteToBlackDiamondInput
    ) -> InviteResult:
        services = info.context.services

        async def work() -> Member:
            staff_id = info.context.require_subject()
            member_id = parse_member_id(input.member_id)
            return await tiers.invite_to_black_diamond(
                services, member_id=member_id, staff_id=staff_id
            )

        return await outcome(
            work(),
            lambda m: MemberTier(
                member_id=strawberry.ID(str(m.id)),
                tier=Tier.of(TierCode(m.tier), services.settings.tier_rules),
            ),
        )

    @strawberry.mutation(
        description=(
            "Set a member's tier by hand, with a reason shown in their tier history; "
            "revokes Black Diamond too. Later events and reviews apply the usual rules."
        ),
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def override_tier(self, info: GqlInfo, input: OverrideTierInput) -> OverrideTierResult:
        services = info.context.services

        async def work() -> Member:
            return await tiers.override_tier(
                services,
                member_id=parse_member_id(input.member_id),
                tier=TierCode(input.tier.value),
                reason=input.reason,
                staff_id=info.context.require_subject(),
            )

        return await outcome(
            work(),
            lambda m: MemberTier(
                member_id=strawberry.ID(str(m.id)),
                tier=Tier.of(TierCode(m.tier), services.settings.tier_rules),
            ),
        )

    @strawberry.mutation(
        description="Record the use of a countable right.", extensions=[Roles(StaffRole.OPERATOR)]
    )
    async def record_right_use(
        self, info: GqlInfo, input: RecordRightUseInput
    ) -> RecordRightUseResult:
        async def work() -> rights.Usage:
            staff_id = info.context.require_subject()
            return await rights.record_right_use(
                info.context.services,
                member_id=parse_member_id(input.member_id),
                right_code=input.right_code,
                staff_id=staff_id,
                note=input.note,
            )

        return await outcome(work(), RightUsage.of)
