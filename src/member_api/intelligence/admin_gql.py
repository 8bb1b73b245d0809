"""Member scores on the staff API (parts of the member 360)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime

import strawberry

from member_api.graphql.scalars import Fen
from member_api.intelligence.domain import FACT_COLUMNS
from member_api.intelligence.facts import BRAND, CATEGORY
from member_api.intelligence.models import MemberAffinity as MemberAffinityRow
from member_api.intelligence.models import MemberFact as MemberFactRow
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


@strawberry.type(
    name="Affinity",
    description="A member's leaning to a brand or category, each share 0-1 with a half-life decay.",
)
class AffinityType:
    value: str = strawberry.field(description="The brand or category.")
    spend_share: float = strawberry.field(description="Its share of the member's decayed spend.")
    favourite_share: float = strawberry.field(
        description="Its share of the member's decayed favourites."
    )


@strawberry.type(
    name="MemberFacts",
    description="What the data platform knows of a member, as of a business date; windows "
    "are trailing days ending on it. Amounts in fen.",
)
class MemberFactsType:
    as_of: date
    last_purchase_on: date | None
    last_active_on: date | None
    orders_30d: int
    orders_90d: int
    orders_prev_90d: int = strawberry.field(description="Orders in the 90 days before the last 90.")
    orders_365d: int
    spend_30d_fen: Fen
    spend_90d_fen: Fen
    spend_365d_fen: Fen
    average_order_365d_fen: Fen
    active_days_30d: int
    active_days_90d: int
    active_days_prev_90d: int
    posts_90d: int
    comments_90d: int
    likes_90d: int
    groups: int
    favourites_90d: int
    views_30d: int
    views_90d: int
    computed_at: datetime
    brands: list[AffinityType] = strawberry.field(description="Strongest first.")
    categories: list[AffinityType] = strawberry.field(description="Strongest first.")


async def facts_of(member_id: uuid.UUID) -> MemberFactsType | None:
    row = await MemberFactRow.get_or_none(member_id=member_id)
    if row is None:
        return None
    leanings: dict[str, list[AffinityType]] = {BRAND: [], CATEGORY: []}
    for affinity in await MemberAffinityRow.filter(member_id=member_id).order_by(
        "-spend_share", "-favourite_share", "value"
    ):
        leanings[affinity.dimension].append(
            AffinityType(
                value=affinity.value,
                spend_share=affinity.spend_share,
                favourite_share=affinity.favourite_share,
            )
        )
    values = {name: getattr(row, name) for name in FACT_COLUMNS}
    return MemberFactsType(
        as_of=row.as_of,
        computed_at=row.computed_at,
        brands=leanings[BRAND],
        categories=leanings[CATEGORY],
        **values,
    )
