"""Points in the staff GraphQL: adjustments by hand."""

from __future__ import annotations

from typing import Annotated

import strawberry

from member_api.error_codes import PointsErrorCode
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.graphql.scalars import PointCount
from member_api.points import service
from member_api.staff.domain import StaffRole


@strawberry.input
class AdjustPointsInput:
    member_id: strawberry.ID
    delta: PointCount = strawberry.field(
        description="Points to add (positive) or deduct (negative)."
    )
    note: str = strawberry.field(description="Why; kept with the ledger entry.")


@strawberry.type
class PointsAdjusted:
    member_id: strawberry.ID
    balance: PointCount


AdjustPointsResult = Annotated[PointsAdjusted | AnyError, strawberry.union("AdjustPointsResult")]


@strawberry.type
class PointsAdminMutation:
    @strawberry.mutation(
        description="Add or deduct points with a note.", extensions=[Roles(StaffRole.OPERATOR)]
    )
    async def adjust_points(self, info: GqlInfo, input: AdjustPointsInput) -> AdjustPointsResult:
        async def work() -> int:
            staff_id = info.context.require_subject()
            member_id = parse_id(
                input.member_id, code=PointsErrorCode.UNKNOWN_MEMBER, what="member"
            )
            return await service.adjust_points(
                info.context.services,
                member_id=member_id,
                delta=input.delta,
                note=input.note,
                staff_id=staff_id,
            )

        return await outcome(
            work(),
            lambda balance: PointsAdjusted(member_id=input.member_id, balance=PointCount(balance)),
        )
