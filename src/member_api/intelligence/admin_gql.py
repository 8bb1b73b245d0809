"""Member scores and recommendations on the staff API (parts of the member 360)."""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated, Any

import strawberry

from member_api.community.models import Group, Post
from member_api.error_codes import IntelligenceErrorCode
from member_api.events.models import OfflineEvent
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.ids import parse_id
from member_api.graphql.pagination import check_first
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.graphql.scalars import Fen
from member_api.intelligence import service
from member_api.intelligence.domain import FACT_COLUMNS
from member_api.intelligence.facts import BRAND, CATEGORY
from member_api.intelligence.models import MemberAffinity as MemberAffinityRow
from member_api.intelligence.models import MemberFact as MemberFactRow
from member_api.intelligence.models import MemberRecommendation
from member_api.intelligence.models import MemberScore as MemberScoreRow
from member_api.intelligence.models import MemberTag as MemberTagRow
from member_api.intelligence.models import ScoreRulesVersion as ScoreRulesVersionRow
from member_api.rewards.models import Reward
from member_api.staff.domain import StaffRole


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
    tags: list[str] = strawberry.field(
        description="KEY_RETENTION (R >= 4, F >= 3, M >= 2) first, then persona tags "
        "(TREND_FOLLOWER, COLLECTOR, SOCIAL_BUTTERFLY, or those the rules define)."
    )
    rules_version: int = strawberry.field(description="The score rules version used.")
    computed_at: datetime

    @classmethod
    def of(cls, row: MemberScoreRow) -> MemberScoreType:
        return cls(
            day=row.day,
            r=row.r,
            f=row.f,
            m=row.m,
            tags=[str(tag) for tag in json.loads(row.tags)],
            rules_version=row.rules_version,
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


MARKETING = (StaffRole.MARKETER, StaffRole.ADMIN)
TAGGERS = (StaffRole.OPERATOR, StaffRole.MARKETER, StaffRole.ADVISOR, StaffRole.ADMIN)
RULE_READERS = (*MARKETING, StaffRole.AUDITOR, StaffRole.OPERATOR)


@strawberry.type(name="ManualTag", description="A tag staff put on a member by hand.")
class ManualTagType:
    tag: str
    added_by: strawberry.ID = strawberry.field(description="The staff member who added it.")
    added_at: datetime
    removed_by: strawberry.ID | None
    removed_at: datetime | None = strawberry.field(description="Null while the tag holds.")

    @classmethod
    def of(cls, row: MemberTagRow) -> ManualTagType:
        return cls(
            tag=row.tag,
            added_by=strawberry.ID(str(row.added_by)),
            added_at=row.added_at,
            removed_by=strawberry.ID(str(row.removed_by)) if row.removed_by else None,
            removed_at=row.removed_at,
        )


@strawberry.type(
    name="ScoreRules",
    description="A version of the score rules: RFM bands, the reference order value, the "
    "affinity half-life and the persona rules. Version 0 is the rules file's.",
)
class ScoreRulesType:
    version: int
    rules: str = strawberry.field(description="The whole rules, as a JSON object.")
    note: str | None = strawberry.field(description="Why staff changed them.")
    created_by: strawberry.ID | None
    created_at: datetime | None

    @classmethod
    def of(cls, row: ScoreRulesVersionRow) -> ScoreRulesType:
        return cls(
            version=row.id,
            rules=row.rules,
            note=row.note,
            created_by=strawberry.ID(str(row.created_by)),
            created_at=row.created_at,
        )


@strawberry.input
class MemberTagInput:
    member_id: strawberry.ID
    tag: str = strawberry.field(description="1 to 40 printable characters.")


@strawberry.input
class SetScoreRulesInput:
    rules: str = strawberry.field(
        description='A JSON object of the rules to change, e.g. {"recency_days": [10, 30, '
        "90, 180]}; the others stay as in force."
    )
    note: str = strawberry.field(description="Why, in 1 to 500 characters.")


TagResult = Annotated[ManualTagType | AnyError, strawberry.union("MemberTagResult")]
SetScoreRulesResult = Annotated[ScoreRulesType | AnyError, strawberry.union("SetScoreRulesResult")]


async def manual_tags_of(member_id: uuid.UUID, on: date | None) -> list[ManualTagType]:
    return [ManualTagType.of(row) for row in await service.manual_tags(member_id, on)]


@strawberry.type
class IntelligenceAdminQuery:
    @strawberry.field(
        description="The score rules in force (the nightly member-scores job uses them).",
        extensions=[Roles(*RULE_READERS)],
    )
    async def score_rules(self, info: GqlInfo) -> ScoreRulesType:
        services = info.context.services
        version, rules = await service.rules_in_force(services)
        row = await ScoreRulesVersionRow.get_or_none(id=version)
        if row is not None:
            return ScoreRulesType.of(row)
        mapping = service.rules_to_mapping(rules)
        return ScoreRulesType(
            version=0,
            rules=json.dumps(mapping, ensure_ascii=False, sort_keys=True),
            note=None,
            created_by=None,
            created_at=None,
        )

    @strawberry.field(
        description="Every version staff set, newest first (the latest `first`).",
        extensions=[Roles(*RULE_READERS)],
    )
    async def score_rules_history(self, first: int = 20) -> list[ScoreRulesType]:
        rows = await ScoreRulesVersionRow.all().order_by("-id").limit(check_first(first))
        return [ScoreRulesType.of(row) for row in rows]


@strawberry.type
class IntelligenceAdminMutation:
    @strawberry.mutation(
        description="Change score rules without a deploy: a new version over the one in "
        "force, checked whole; the next scores use it.",
        extensions=[Roles(*MARKETING)],
    )
    async def set_score_rules(
        self, info: GqlInfo, input: SetScoreRulesInput
    ) -> SetScoreRulesResult:
        work = service.set_score_rules(
            info.context.services,
            staff_id=info.context.require_subject(),
            changes=input.rules,
            note=input.note,
        )
        return await outcome(work, ScoreRulesType.of)

    @strawberry.mutation(description="Put a tag on a member.", extensions=[Roles(*TAGGERS)])
    async def tag_member(self, info: GqlInfo, input: MemberTagInput) -> TagResult:
        return await _change_tag(info, input, service.tag_member)

    @strawberry.mutation(
        description="Take a tag off a member (it stays in their history).",
        extensions=[Roles(*TAGGERS)],
    )
    async def untag_member(self, info: GqlInfo, input: MemberTagInput) -> TagResult:
        return await _change_tag(info, input, service.untag_member)


async def _change_tag(
    info: GqlInfo, input: MemberTagInput, change: Callable[..., Awaitable[MemberTagRow]]
) -> ManualTagType | AnyError:
    async def work() -> MemberTagRow:
        return await change(
            info.context.services,
            member_id=parse_id(
                input.member_id, code=IntelligenceErrorCode.UNKNOWN_MEMBER, what="member"
            ),
            tag=input.tag,
            staff_id=info.context.require_subject(),
        )

    return await outcome(work(), ManualTagType.of)


@strawberry.type(
    name="StoredRecommendation",
    description="One of the member's recommendations as the nightly job stored it.",
)
class StoredRecommendationType:
    rank: int = strawberry.field(description="1 is the best.")
    target_kind: str = strawberry.field(description="REWARD, EVENT, GROUP or POST.")
    target_id: strawberry.ID
    target_name: str | None = strawberry.field(
        description="The reward's or group's name, the event's title, the post's text; "
        "null when the target no longer exists."
    )
    score: float
    reason: str
    day: date = strawberry.field(description="The business date of the run that wrote it.")


async def stored_recommendations(member_id: uuid.UUID) -> list[StoredRecommendationType]:
    """The member's stored list, best first, with the targets' names: one read for the
    list and one per kind in it."""
    rows = await MemberRecommendation.filter(member_id=member_id).order_by("rank")
    ids: dict[str, list[uuid.UUID]] = defaultdict(list)
    for row in rows:
        ids[row.target_kind].append(row.target_id)
    reads: dict[str, tuple[Any, str]] = {
        "REWARD": (Reward, "name"),
        "EVENT": (OfflineEvent, "title"),
        "GROUP": (Group, "name"),
        "POST": (Post, "body"),
    }
    names: dict[tuple[str, str], str] = {}
    for kind, targets in ids.items():
        if kind not in reads:
            continue
        model, column = reads[kind]
        for target_id, name in await model.filter(id__in=targets).values_list("id", column):
            names[(kind, str(target_id))] = name
    return [
        StoredRecommendationType(
            rank=row.rank,
            target_kind=row.target_kind,
            target_id=strawberry.ID(str(row.target_id)),
            target_name=names.get((row.target_kind, str(row.target_id))),
            score=row.score,
            reason=row.reason,
            day=row.day,
        )
        for row in rows
    ]
