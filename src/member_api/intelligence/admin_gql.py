"""Member scores on the staff API (parts of the member 360)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import strawberry

from member_api.intelligence.models import MemberScore as MemberScoreRow


@strawberry.type(name="MemberScore", description="RFM scores (1-5) and tags as of a business date.")
class MemberScoreType:
    day: date = strawberry.field(description="The business date the scores are as of.")
    r: int = strawberry.field(
        description="Recency: 5 bought within 15 days ... 1 over 180 or never."
    )
    f: int = strawberry.field(description="Frequency: orders in the trailing 90 days, 5 from 6.")
    m: int = strawberry.field(
        description="Monetary: average net order of 12 months against the reference value."
    )
    tags: list[str] = strawberry.field(description="e.g. KEY_RETENTION (R >= 4, F >= 3, M >= 2).")
    computed_at: datetime

    @classmethod
    def of(cls, row: MemberScoreRow) -> MemberScoreType:
        return cls(
            day=row.day,
            r=row.r,
            f=row.f,
            m=row.m,
            tags=[str(tag) for tag in json.loads(row.tags)],
            computed_at=row.computed_at,
        )


async def latest_score(member_id: uuid.UUID) -> MemberScoreType | None:
    row = await MemberScoreRow.filter(member_id=member_id).order_by("-day").first()
    return MemberScoreType.of(row) if row is not None else None


async def score_of_day(member_id: uuid.UUID, day: date) -> MemberScoreType | None:
    row = await MemberScoreRow.get_or_none(member_id=member_id, day=day)
    return MemberScoreType.of(row) if row is not None else None
