"""Tasks, coupons and sharing in GraphQL."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.results import outcome
from member_api.graphql.scalars import PointCount
from member_api.members.models import Member as MemberRow
from member_api.tasks import domain, service
from member_api.tasks.models import Coupon as CouponRow

# Registered in place: the domain enums are the GraphQL enums.
TaskCode = domain.TaskCode
CouponKind = domain.CouponKind
strawberry.enum(TaskCode, name="TaskCode")
strawberry.enum(CouponKind, name="CouponKind")


@strawberry.type(name="Task", description="A task in the catalogue and the member's progress.")
class TaskType:
    code: TaskCode
    name: str
    description: str
    points_reward: PointCount = strawberry.field(description="Points the task earns, once.")
    coupon_reward: CouponKind | None = strawberry.field(description="A coupon it earns, once.")
    progress: int = strawberry.field(description="How much of `target` is done.")
    target: int
    completed: bool
    completed_at: datetime | None
    available_until: datetime | None = strawberry.field(
        description="For a task only open for a while after joining: when it closes."
    )


@strawberry.type(name="Coupon")
class CouponType:
    code: str
    kind: CouponKind
    name: str
    issued_at: datetime
    expires_at: datetime
    used_at: datetime | None


async def tasks_of(info: GqlInfo, member: MemberRow) -> list[TaskType]:
    rows = await service.statuses(info.context.services, member)
    return [
        TaskType(
            code=s.task.code,
            name=s.task.name,
            description=s.task.description,
            points_reward=PointCount(s.points),
            coupon_reward=s.task.coupon,
            progress=s.progress,
            target=s.task.target,
            completed=s.completed_at is not None,
            completed_at=s.completed_at,
            available_until=s.available_until,
        )
        for s in rows
    ]


async def coupons_of(member: MemberRow) -> list[CouponType]:
    rows = await CouponRow.filter(member_id=member.id).order_by("-issued_at", "id")
    return [
        CouponType(
            code=r.code,
            kind=domain.CouponKind(r.kind),
            name=domain.COUPON_NAMES[domain.CouponKind(r.kind)],
            issued_at=r.issued_at,
            expires_at=r.expires_at,
            used_at=r.used_at,
        )
        for r in rows
    ]


@strawberry.input
class ShareAuthenticationInput:
    item_public_id: strawberry.ID


@strawberry.type
class AuthenticationShared:
    url: str = strawberry.field(description="The item's public provenance page, to share.")
    tasks_completed: list[TaskCode]


ShareResult = Annotated[AuthenticationShared | AnyError, strawberry.union("ShareResult")]


@strawberry.type
class TaskMutation:
    @strawberry.mutation(description="Record that the member shared one of their authentications.")
    async def share_authentication(
        self, info: GqlInfo, input: ShareAuthenticationInput
    ) -> ShareResult:
        async def work() -> tuple[str, list[domain.TaskCode]]:
            member_id = await info.context.record_member_action()
            return await service.share_authentication(
                info.context.services, member_id=member_id, item_public_id=str(input.item_public_id)
            )

        return await outcome(
            work(), lambda done: AuthenticationShared(url=done[0], tasks_completed=done[1])
        )
