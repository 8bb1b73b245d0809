"""A member's recommendations in GraphQL (`me.recommendations`): the stored list, or the
popular list of their tier, with whatever they cannot use now left out."""

from __future__ import annotations

import dataclasses
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Annotated, Any

import strawberry

from member_api.community.gql import CommunityGroup, GroupFacts, Post, PostFacts, posts_of
from member_api.community.models import Group as GroupRow
from member_api.community.models import GroupMembership, PostLike
from member_api.community.models import Post as PostRow
from member_api.error_codes import RequestErrorCode
from member_api.events import domain as events_domain
from member_api.events.gql import Event
from member_api.events.models import EventSignup
from member_api.events.models import OfflineEvent as EventRow
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import ClientError
from member_api.graphql.pagination import PageInfo, check_first, decode_cursor, encode_cursor
from member_api.intelligence.models import MemberRecommendation, PopularItem
from member_api.intelligence.recommend import Kind, popular_reason
from member_api.intelligence.recommendations import tier_name
from member_api.members.models import Member as MemberRow
from member_api.privacy import service as privacy
from member_api.privacy.domain import Purpose
from member_api.rewards import domain as rewards_domain
from member_api.rewards import service as rewards_service
from member_api.rewards.gql import Reward
from member_api.rewards.models import Reward as RewardRow
from member_api.services import Services
from member_api.tiers.rules import TierCode

_GROUP_COLUMNS = tuple(f.name for f in dataclasses.fields(GroupFacts))
_POST_COLUMNS = tuple(f.name for f in dataclasses.fields(PostFacts))

RecommendationTarget = Annotated[
    Reward | Event | CommunityGroup | Post,
    strawberry.union("RecommendationTarget", description="A reward, an event, a group or a post."),
]


@strawberry.type(description="Something recommended to the member, and why.")
class Recommendation:
    reason: str = strawberry.field(
        description='e.g. "Members who joined 爱马仕俱乐部 also joined 腕表俱乐部", '
        '"Because you like hermès", "Popular with 金卡 members".'
    )
    score: float = strawberry.field(
        description="0 to 1 from similar items and affinity; 0 for a popular item."
    )
    target: RecommendationTarget


@strawberry.type
class RecommendationEdge:
    cursor: str
    node: Recommendation


@strawberry.type
class RecommendationConnection:
    edges: list[RecommendationEdge]
    page_info: PageInfo


@dataclass(frozen=True)
class Listed:
    kind: str
    target_id: uuid.UUID
    score: float
    reason: str


async def listed_for(services: Services, member: MemberRow) -> list[Listed]:
    """The member's stored list, best first, then the popular items of their tier not in
    it (so a list gone stale still fills up); only the popular list when they do not
    consent to personalisation."""
    personal: list[Listed] = []
    if await privacy.has_consent(services, member.id, Purpose.PERSONALISATION):
        rows = (
            await MemberRecommendation.filter(member_id=member.id)
            .order_by("rank")
            .values_list("target_kind", "target_id", "score", "reason")
        )
        personal = [Listed(k, uuid.UUID(str(i)), s, r) for k, i, s, r in rows]
    reason = popular_reason(tier_name(member.tier))
    popular = (
        await PopularItem.filter(tier=member.tier)
        .order_by("rank")
        .values_list("target_kind", "target_id")
    )
    seen = {(item.kind, item.target_id) for item in personal}
    more = [
        Listed(k, uuid.UUID(str(i)), 0.0, reason)
        for k, i in popular
        if (k, uuid.UUID(str(i))) not in seen
    ]
    return personal + more


def _tier(code: str) -> TierCode:
    try:
        return TierCode(code)
    except ValueError:
        return TierCode.NEW


async def usable_targets(
    services: Services, member: MemberRow, listed: list[Listed]
) -> dict[tuple[str, uuid.UUID], Any]:
    """The rows of the listed targets the member can use now, by (kind, id): one read
    per kind listed, and one more for what the member has of it already. Left out: a
    reward off sale, sold out or above their tier; an event cancelled, started, full,
    above their tier or held; a group joined; a post not visible or liked already."""
    now = services.clock.now()
    tier = _tier(member.tier)
    ids: dict[str, list[uuid.UUID]] = defaultdict(list)
    for item in listed:
        ids[item.kind].append(item.target_id)
    found: dict[tuple[str, uuid.UUID], Any] = {}
    if ids[Kind.REWARD]:
        for reward in await RewardRow.filter(id__in=ids[Kind.REWARD]):
            offer = rewards_service.offer_of(reward)
            if (
                rewards_domain.unavailable_reason(offer, now) is None
                and rewards_domain.in_stock(reward.stock, 1)
                and rewards_domain.tier_allows(tier, offer.min_tier)
            ):
                found[(Kind.REWARD, reward.id)] = reward
    if ids[Kind.EVENT]:
        events = await EventRow.filter(id__in=ids[Kind.EVENT], cancelled_at__isnull=True)
        held = set(
            await EventSignup.filter(
                event_id__in=ids[Kind.EVENT], member_id=member.id, status="ACTIVE"
            ).values_list("event_id", flat=True)
        )
        for row in events:
            min_tier = TierCode(row.min_tier) if row.min_tier else None
            if (
                row.id not in held
                and events_domain.sign_up_open(row.starts_at, now)
                and events_domain.seats_left(row.seats, row.seats_taken) > 0
                and events_domain.tier_allows(tier, min_tier)
            ):
                found[(Kind.EVENT, row.id)] = row
    if ids[Kind.GROUP]:
        groups = await GroupRow.filter(id__in=ids[Kind.GROUP]).values(*_GROUP_COLUMNS)
        joined = set(
            await GroupMembership.filter(
                group_id__in=ids[Kind.GROUP], member_id=member.id
            ).values_list("group_id", flat=True)
        )
        for values in groups:
            if values["id"] not in joined:
                found[(Kind.GROUP, values["id"])] = GroupFacts(**values)
    if ids[Kind.POST]:
        posts = await PostRow.filter(id__in=ids[Kind.POST], state="VISIBLE").values(*_POST_COLUMNS)
        liked = set(
            await PostLike.filter(post_id__in=ids[Kind.POST], member_id=member.id).values_list(
                "post_id", flat=True
            )
        )
        for values in posts:
            if values["id"] not in liked and values["author_id"] != member.id:
                found[(Kind.POST, values["id"])] = PostFacts(**values)
    return found


async def recommendations_page(
    info: GqlInfo, member: MemberRow, first: int, after: str | None
) -> RecommendationConnection:
    """A page of the member's recommendations as they stand now (positions count only
    what is shown)."""
    check_first(first)
    position = decode_cursor(after, 1)
    start = 0
    if position is not None:
        if type(position[0]) is not int or not 0 <= position[0] < 10_000:
            raise ClientError(RequestErrorCode.INVALID_CURSOR, "The cursor is not one we gave out.")
        start = position[0] + 1
    services = info.context.services
    listed = await listed_for(services, member)
    usable = await usable_targets(services, member, listed)
    shown = [item for item in listed if (item.kind, item.target_id) in usable]
    page = shown[start : start + first]
    posts = [usable[(i.kind, i.target_id)] for i in page if i.kind == Kind.POST]
    post_types = {p.row.id: p for p in await posts_of(info, posts)} if posts else {}
    edges = []
    for offset, item in enumerate(page):
        row = usable[(item.kind, item.target_id)]
        target: Any
        if item.kind == Kind.REWARD:
            target = Reward.of(row)
        elif item.kind == Kind.EVENT:
            target = Event.of(row)
        elif item.kind == Kind.GROUP:
            target = CommunityGroup.of(row)
        else:
            target = post_types[item.target_id]
        edges.append(
            RecommendationEdge(
                cursor=encode_cursor(start + offset),
                node=Recommendation(reason=item.reason, score=item.score, target=target),
            )
        )
    more = len(shown) > start + first
    return RecommendationConnection(
        edges=edges,
        page_info=PageInfo(has_next_page=more, end_cursor=edges[-1].cursor if edges else None),
    )
