"""The member's points in GraphQL: balance, what expires soon, the ledger history."""

from __future__ import annotations

import uuid
from datetime import date, datetime

import strawberry

from member_api.graphql.context import GqlInfo
from member_api.graphql.pagination import PageInfo, newest_first_page
from member_api.graphql.scalars import PointCount
from member_api.points import service
from member_api.points.domain import Reason
from member_api.points.ledger import POINTS
from member_api.points.models import LedgerEntry


@strawberry.type
class ExpiringPoints:
    amount: PointCount
    expires_on: date


@strawberry.type
class PointsEntry:
    id: strawberry.ID
    delta: PointCount
    reason: str = strawberry.field(description="The entry's cause: " + ", ".join(Reason) + ".")
    occurred_at: datetime
    expires_on: date | None = strawberry.field(description="For a credit: when it expires.")


@strawberry.type
class PointsEntryEdge:
    cursor: str
    node: PointsEntry


@strawberry.type
class PointsEntryConnection:
    edges: list[PointsEntryEdge]
    page_info: PageInfo


@strawberry.type
class Points:
    member_id: strawberry.Private[uuid.UUID]
    balance: PointCount = strawberry.field(description="Negative while a refund's debt is unpaid.")
    debt: PointCount = strawberry.field(
        description="Points owed after a refund; earnings pay it first."
    )
    expiring_soon: list[ExpiringPoints] = strawberry.field(
        description="Points expiring in the next 90 days, by date."
    )

    @strawberry.field(description="Ledger entries, newest first.")
    async def history(
        self, info: GqlInfo, first: int = 20, after: str | None = None
    ) -> PointsEntryConnection:
        query = LedgerEntry.filter(account__member_id=self.member_id, account__currency=POINTS)
        rows, page_info = await newest_first_page(
            query, first=first, after=after, time_field="occurred_at"
        )
        return PointsEntryConnection(
            edges=[
                PointsEntryEdge(
                    cursor=cursor,
                    node=PointsEntry(
                        id=strawberry.ID(str(row.id)),
                        delta=row.delta,
                        reason=row.reason,
                        occurred_at=row.occurred_at,
                        expires_on=row.expires_on,
                    ),
                )
                for cursor, row in rows
            ],
            page_info=page_info,
        )


async def points_of(info: GqlInfo, member_id: uuid.UUID) -> Points:
    view = await service.points_view(info.context.services, member_id)
    return Points(
        member_id=member_id,
        balance=PointCount(view.balance),
        debt=PointCount(view.debt),
        expiring_soon=[
            ExpiringPoints(amount=PointCount(a), expires_on=d) for d, a in view.expiring_soon
        ],
    )
