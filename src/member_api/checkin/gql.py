"""Check-in in GraphQL: the mutation, today's status and streak, a month's calendar."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

import strawberry

from member_api.checkin import service
from member_api.errors import DomainError
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError, ClientError
from member_api.graphql.results import outcome
from member_api.graphql.scalars import PointCount


@strawberry.type
class CheckInSuccess:
    points_awarded: PointCount
    streak: int


@strawberry.type(name="CheckInStatus")
class CheckInStatusType:
    checked_in_today: bool
    streak: int = strawberry.field(description="Consecutive days up to today or yesterday.")


CheckInResult = Annotated[CheckInSuccess | AnyError, strawberry.union("CheckInResult")]


@strawberry.type
class CheckInMutation:
    @strawberry.mutation(description="Check in for today (Asia/Shanghai business date).")
    async def check_in(self, info: GqlInfo) -> CheckInResult:
        async def work() -> service.CheckInResult:
            member_id = await info.context.record_member_action()
            return await service.check_in(info.context.services, member_id=member_id)

        return await outcome(
            work(),
            lambda r: CheckInSuccess(points_awarded=PointCount(r.points_awarded), streak=r.streak),
        )


async def status_of(info: GqlInfo, member_id: uuid.UUID) -> CheckInStatusType:
    found = await service.status(info.context.services, member_id)
    return CheckInStatusType(checked_in_today=found.checked_in_today, streak=found.streak)


async def calendar_of(member_id: uuid.UUID, month: str) -> list[date]:
    try:
        first = service.parse_month(month)
    except DomainError as exc:
        raise ClientError(exc.code, exc.message) from exc
    return await service.calendar(member_id, first)
