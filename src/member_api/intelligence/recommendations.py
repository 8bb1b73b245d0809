"""The nightly recommendations: item similarities and popular-in-tier lists computed
once per run (by whichever chunk comes first; the others read them), then each chunk
of members ranked and their top lists stored in member_recommendation.

Interactions are read set-based: the co-occurrence of every pair of items in one
grouped self-join, a chunk's histories and affinities in one query per kind. A rerun
writes nothing: a member's rows change only when their list does.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from tortoise import connections
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from member_api.commerce.models import ItemInteraction, OrderLine
from member_api.community.models import Group, GroupMembership, Post, PostLike
from member_api.events.models import EventSignup, OfflineEvent
from member_api.intelligence import recommend
from member_api.intelligence.models import (
    ItemSimilarity,
    MemberRecommendation,
    PopularItem,
    RecommendationModel,
)
from member_api.intelligence.recommend import Item, Kind, Neighbour, Pick
from member_api.members.models import Member
from member_api.privacy.domain import Purpose
from member_api.privacy.models import ConsentRecord
from member_api.rewards.models import Redemption, Reward
from member_api.services import Services
from member_api.tiers.rules import TIER_NAMES, TIER_ORDER, TierCode

LOWEST_ID = uuid.UUID(int=0)
HIGHEST_ID = uuid.UUID(int=(1 << 128) - 1)
# Posts older than this are not recommended, nor are likes of them counted.
POST_DAYS = 90
# Spend and favourites older than this say nothing of a member's taste now.
AFFINITY_DAYS = 365

# Every member's interactions (not erased members'), one row per member and item. Only
# constants of this module are in the text.
_INTERACTIONS = """
SELECT DISTINCT i.member_id, m.tier, i.kind, i.item FROM (
  SELECT member_id, 'GROUP' AS kind, CAST(group_id AS TEXT) AS item FROM group_membership
  UNION ALL
  SELECT member_id, 'EVENT', CAST(event_id AS TEXT) FROM event_signup WHERE status = 'ACTIVE'
  UNION ALL
  SELECT member_id, 'REWARD', CAST(reward_id AS TEXT) FROM redemption
  WHERE status <> 'CANCELLED'
  UNION ALL
  SELECT l.member_id, 'POST', CAST(l.post_id AS TEXT) FROM post_like l
  JOIN post p ON p.id = l.post_id WHERE p.created_on >= {post_since}
  UNION ALL
  SELECT member_id, 'BRAND', brand FROM item_interaction WHERE kind = 'FAVOURITE'
) i JOIN member m ON m.id = i.member_id
WHERE m.erased_at IS NULL
"""
# Each item's most similar targets: items numbered, then pairs of numbers with enough
# members in common (small keys to group by), ranked by the square of their cosine
# (the same order, no square root needed), the first few kept.
_PAIRS = """
WITH i AS ({interactions}),
n AS (
  SELECT kind, item, count(*) AS members, row_number() OVER (ORDER BY kind, item) AS id
  FROM i GROUP BY kind, item
),
j AS (
  SELECT i.member_id, n.id, n.kind = 'BRAND' AS brand
  FROM i JOIN n ON n.kind = i.kind AND n.item = i.item
),
p AS (
  SELECT a.id AS source, b.id AS target, count(*) AS together
  FROM j a JOIN j b ON a.member_id = b.member_id AND a.id <> b.id
  WHERE NOT b.brand
  GROUP BY a.id, b.id
  HAVING count(*) >= {min_together}
),
r AS (
  SELECT p.source, p.target, p.together, row_number() OVER (
    PARTITION BY p.source
    ORDER BY (1.0 * p.together * p.together) / (na.members * nb.members) DESC, p.target
  ) AS position
  FROM p JOIN n na ON na.id = p.source JOIN n nb ON nb.id = p.target
)
SELECT na.kind AS source_kind, na.item AS source_item, nb.kind AS target_kind,
       nb.item AS target_item, r.together
FROM r JOIN n na ON na.id = r.source JOIN n nb ON nb.id = r.target
WHERE r.position <= {neighbours}
"""
_BY_TIER = """
WITH i AS ({interactions})
SELECT tier, kind, item, count(*) AS members FROM i GROUP BY tier, kind, item
"""


@dataclass
class Target:
    """What the job knows of a recommendable item: its name, the text searched for
    brands and categories, and the tier it needs."""

    name: str
    text: str
    min_tier: str | None = None


@dataclass
class Catalogue:
    """The items a member could use now (on offer, seats left, not past, visible)."""

    targets: dict[Item, Target] = field(default_factory=dict)
    _mentions: dict[str, list[Item]] = field(default_factory=dict)

    def usable_by(self, tier: str) -> Any:
        rank = _tier_rank(tier)

        def usable(item: Item) -> bool:
            target = self.targets.get(item)
            if target is None:
                return False
            return target.min_tier is None or rank >= _tier_rank(target.min_tier)

        return usable

    def mentions(self, term: str) -> list[Item]:
        if term not in self._mentions:
            self._mentions[term] = sorted(
                item for item, t in self.targets.items() if recommend.mentioned(t.text, [term])
            )
        return self._mentions[term]


def _tier_rank(tier: str) -> int:
    try:
        return TierCode(tier).rank
    except ValueError:
        return 0


def _post_since(as_of: date) -> str:
    return f"'{(as_of - timedelta(days=POST_DAYS)).isoformat()}'"


def _interactions(as_of: date) -> str:
    return _INTERACTIONS.format(post_since=_post_since(as_of))


async def catalogue(services: Services, as_of: date) -> Catalogue:
    """Every item a member may be recommended now (the tier aside)."""
    now = services.clock.now()
    found = Catalogue()
    rewards = await Reward.filter(
        Q(active_from__isnull=True) | Q(active_from__lte=now),
        Q(active_until__isnull=True) | Q(active_until__gt=now),
        active=True,
        stock__gt=0,
    ).values_list("id", "name", "description", "min_tier")
    for id_, name, text, tier in rewards:
        found.targets[(Kind.REWARD.value, str(id_))] = Target(name, f"{name} {text}", tier)
    events = await OfflineEvent.filter(starts_at__gt=now, cancelled_at__isnull=True).values_list(
        "id", "title", "description", "min_tier", "seats", "seats_taken"
    )
    for id_, title, text, tier, seats, taken in events:
        if taken < seats:
            found.targets[(Kind.EVENT.value, str(id_))] = Target(title, f"{title} {text}", tier)
    for id_, name, text in await Group.all().values_list("id", "name", "description"):
        found.targets[(Kind.GROUP.value, str(id_))] = Target(name, f"{name} {text}")
    posts = await Post.filter(
        state="VISIBLE", created_on__gte=as_of - timedelta(days=POST_DAYS)
    ).values_list("id", "body")
    for id_, body in posts:
        found.targets[(Kind.POST.value, str(id_))] = Target(body, body)
    return found


async def names_of(items: Iterable[Item], known: Catalogue) -> dict[Item, str]:
    """The names reasons show, read in one query per kind for those not in `known`."""
    names = {item: t.name for item, t in known.targets.items()}
    missing: dict[str, set[str]] = defaultdict(set)
    for kind, id_ in items:
        if (kind, id_) not in names:
            if kind == Kind.BRAND.value:
                names[(kind, id_)] = id_
            else:
                missing[kind].add(id_)
    reads: dict[str, Any] = {
        Kind.REWARD.value: (Reward, "name"),
        Kind.EVENT.value: (OfflineEvent, "title"),
        Kind.GROUP.value: (Group, "name"),
        Kind.POST.value: (Post, "body"),
    }
    for kind, ids in missing.items():
        model, column = reads[kind]
        for id_, name in await model.filter(id__in=sorted(ids)).values_list("id", column):
            names[(kind, str(id_))] = name
    return names


@dataclass(frozen=True)
class Model:
    """What one run computed for all its chunks."""

    neighbours: dict[Item, list[Neighbour]]
    popular: dict[str, list[Item]]  # by tier
    # What members could use when this process first read the run's model.
    catalogue: Catalogue


async def compute_model(
    services: Services, as_of: date
) -> tuple[dict[Item, list[Neighbour]], dict[str, list[tuple[Item, int]]], int]:
    """The similarities, each tier's popular items with their members, and the number of
    item pairs in common, from every member's interactions."""
    db = connections.get("default")
    interactions = _interactions(as_of)
    _, tier_rows = await db.execute_query(_BY_TIER.format(interactions=interactions))
    items: Counter[Item] = Counter()
    by_tier: dict[str, Counter[Item]] = defaultdict(Counter)
    for row in tier_rows:
        item = (str(row["kind"]), str(row["item"]))
        items[item] += int(row["members"])
        by_tier[str(row["tier"])][item] += int(row["members"])
    _, pair_rows = await db.execute_query(
        _PAIRS.format(
            interactions=interactions,
            min_together=recommend.MIN_TOGETHER,
            neighbours=recommend.NEIGHBOURS,
        )
    )
    pairs: dict[tuple[Item, Item], int] = {}
    for row in pair_rows:
        source = (str(row["source_kind"]), str(row["source_item"]))
        pairs[(source, (str(row["target_kind"]), str(row["target_item"])))] = int(row["together"])
    neighbours = recommend.similarities(items, pairs)
    known = await catalogue(services, as_of)
    popular: dict[str, list[tuple[Item, int]]] = {}
    for tier in TIER_ORDER:
        counts = by_tier.get(tier.value, Counter())
        # A tier with few members of its own borrows from everyone's.
        ranked = recommend.popular(counts, known.usable_by(tier.value), recommend.TOP_K)
        more = recommend.popular(items, known.usable_by(tier.value), recommend.TOP_K)
        chosen = ranked + [i for i in more if i not in ranked]
        popular[tier.value] = [(i, counts.get(i, 0)) for i in chosen[: recommend.TOP_K]]
    return neighbours, popular, len(pairs)


_LOADED: dict[uuid.UUID, Model] = {}


async def ensure_model(services: Services, as_of: date) -> Model:
    """The run's similarities and popular lists: computed and stored by the first chunk
    to ask, read by the others (and kept in this process for its later chunks)."""
    marker = await RecommendationModel.get_or_none(day=as_of)
    if marker is None:
        neighbours, popular, pair_count = await compute_model(services, as_of)
        try:
            async with in_transaction():
                marker = await RecommendationModel.create(
                    day=as_of,
                    computed_at=services.clock.now(),
                    items=len(neighbours),
                    pairs=pair_count,
                )
                await _store(as_of, neighbours, popular)
        except IntegrityError:
            marker = await RecommendationModel.get(day=as_of)
    key = uuid.UUID(str(marker.token))
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = await _load(services, as_of)
    return _LOADED[key]


async def _store(
    as_of: date,
    neighbours: Mapping[Item, list[Neighbour]],
    popular: Mapping[str, list[tuple[Item, int]]],
) -> None:
    await ItemSimilarity.filter(day__not=as_of).delete()
    await RecommendationModel.filter(day__not=as_of).delete()
    await ItemSimilarity.bulk_create(
        [
            ItemSimilarity(
                day=as_of,
                source_kind=source[0],
                source_id=source[1],
                target_kind=near.item[0],
                target_id=uuid.UUID(near.item[1]),
                similarity=near.similarity,
                together=near.together,
            )
            for source, nears in neighbours.items()
            for near in nears
        ],
        batch_size=1000,
    )
    await PopularItem.all().delete()
    await PopularItem.bulk_create(
        [
            PopularItem(
                tier=tier,
                rank=rank,
                target_kind=item[0],
                target_id=uuid.UUID(item[1]),
                members=members,
                day=as_of,
            )
            for tier, items in popular.items()
            for rank, (item, members) in enumerate(items, start=1)
        ],
        batch_size=1000,
    )


async def _load(services: Services, as_of: date) -> Model:
    neighbours: dict[Item, list[Neighbour]] = defaultdict(list)
    rows = (
        await ItemSimilarity.filter(day=as_of)
        .order_by("source_kind", "source_id", "-similarity", "target_kind", "target_id")
        .values_list(
            "source_kind", "source_id", "target_kind", "target_id", "similarity", "together"
        )
    )
    for source_kind, source_id, kind, target_id, similarity, together in rows:
        neighbours[(source_kind, source_id)].append(
            Neighbour((kind, str(target_id)), similarity, together)
        )
    popular: dict[str, list[Item]] = defaultdict(list)
    for tier, kind, target_id in (
        await PopularItem.all()
        .order_by("tier", "rank")
        .values_list("tier", "target_kind", "target_id")
    ):
        popular[tier].append((kind, str(target_id)))
    return Model(dict(neighbours), dict(popular), await catalogue(services, as_of))


# --- a chunk of members ---


async def histories(low: uuid.UUID, high: uuid.UUID, as_of: date) -> dict[uuid.UUID, set[Item]]:
    """The interactions of the members of [low, high): one query per kind."""
    in_range: dict[str, Any] = {"member_id__gte": low, "member_id__lt": high}
    found: dict[uuid.UUID, set[Item]] = defaultdict(set)
    reads: list[tuple[str, Any]] = [
        (Kind.GROUP.value, GroupMembership.filter(**in_range).values_list("member_id", "group_id")),
        (
            Kind.EVENT.value,
            EventSignup.filter(status="ACTIVE", **in_range).values_list("member_id", "event_id"),
        ),
        (
            Kind.REWARD.value,
            Redemption.filter(status__not="CANCELLED", **in_range).values_list(
                "member_id", "reward_id"
            ),
        ),
        (
            Kind.POST.value,
            PostLike.filter(
                post__created_on__gte=as_of - timedelta(days=POST_DAYS), **in_range
            ).values_list("member_id", "post_id"),
        ),
    ]
    for kind, query in reads:
        for member_id, item in await query:
            found[member_id].add((kind, str(item)))
    favourites = await ItemInteraction.filter(kind="FAVOURITE", **in_range).values_list(
        "member_id", "brand"
    )
    for member_id, brand in favourites:
        found[member_id].add((Kind.BRAND.value, brand))
    return found


async def interests(
    low: uuid.UUID, high: uuid.UUID, as_of: date
) -> dict[uuid.UUID, dict[str, float]]:
    """Each member's brand and category affinity, from spend on order lines and from
    favourites over the last year: two grouped reads."""
    since = as_of - timedelta(days=AFFINITY_DAYS)
    spend_brand: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    spend_category: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    lines = await OrderLine.filter(
        order__member_id__gte=low,
        order__member_id__lt=high,
        order__paid_on__gt=since,
        order__paid_on__lte=as_of,
    ).values_list("order__member_id", "brand", "category", "amount_fen")
    for member_id, brand, category, amount in lines:
        spend_brand[member_id][brand.lower()] += amount
        spend_category[member_id][category.lower()] += amount
    fav_brand: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    fav_category: dict[uuid.UUID, Counter[str]] = defaultdict(Counter)
    favourites = await ItemInteraction.filter(
        kind="FAVOURITE", member_id__gte=low, member_id__lt=high, day__gt=since
    ).values_list("member_id", "brand", "category", "count")
    for member_id, brand, category, count in favourites:
        fav_brand[member_id][brand.lower()] += count
        fav_category[member_id][category.lower()] += count
    result: dict[uuid.UUID, dict[str, float]] = {}
    for member_id in set(spend_brand) | set(fav_brand):
        by_brand = recommend.affinity(spend_brand[member_id], fav_brand[member_id])
        by_category = recommend.affinity(spend_category[member_id], fav_category[member_id])
        merged = dict(by_category)
        for term, share in by_brand.items():
            merged[term] = max(merged.get(term, 0.0), share)
        result[member_id] = merged
    return result


async def consenting(
    services: Services, members: Iterable[uuid.UUID], low: uuid.UUID, high: uuid.UUID
) -> set[uuid.UUID]:
    """The members of the range whose latest personalisation decision is a grant under
    the policy in force: one read."""
    rows = (
        await ConsentRecord.filter(
            purpose=Purpose.PERSONALISATION.value, member_id__gte=low, member_id__lt=high
        )
        .order_by("id")
        .values_list("member_id", "granted", "policy_version")
    )
    latest = {member_id: (granted, version) for member_id, granted, version in rows}
    current = services.settings.privacy_policy_version
    return {m for m in members if latest.get(m, (False, ""))[0] and latest[m][1] == current}


def tier_name(tier: str) -> str:
    try:
        return TIER_NAMES[TierCode(tier)]
    except ValueError:
        return tier


async def rank_range(
    services: Services, as_of: date, low: uuid.UUID, high: uuid.UUID
) -> dict[uuid.UUID, list[Pick]]:
    """The recommendations of every member of [low, high) who consents to them."""
    model = await ensure_model(services, as_of)
    members = dict(
        await Member.filter(id__gte=low, id__lt=high, erased_at__isnull=True).values_list(
            "id", "tier"
        )
    )
    allowed = await consenting(services, members, low, high)
    known = model.catalogue
    histories_ = await histories(low, high, as_of)
    interests_ = await interests(low, high, as_of)
    sources = {item for m in allowed for item in histories_.get(m, ())}
    names = await names_of(
        sources | {n.item for s in sources for n in model.neighbours.get(s, ())}, known
    )
    result: dict[uuid.UUID, list[Pick]] = {}
    for member_id in sorted(allowed):
        tier = str(members[member_id])
        result[member_id] = recommend.rank(
            histories_.get(member_id, set()),
            model.neighbours,
            interests=interests_.get(member_id, {}),
            mentions=known.mentions,
            popular=model.popular.get(tier, []),
            usable=known.usable_by(tier),
            names=names,
            tier_name=tier_name(tier),
        )
    return result


@dataclass(frozen=True)
class RangeResult:
    members: int
    changed: int


async def recommend_range(
    services: Services, as_of: date, low: uuid.UUID, high: uuid.UUID
) -> RangeResult:
    """Store the lists of the members of [low, high); a member who does not consent has
    none. Only the lists that differ are rewritten."""
    computed = await rank_range(services, as_of, low, high)
    stored: dict[uuid.UUID, list[tuple[str, str, float, str]]] = defaultdict(list)
    rows = (
        await MemberRecommendation.filter(member_id__gte=low, member_id__lt=high)
        .order_by("member_id", "rank")
        .values_list("member_id", "target_kind", "target_id", "score", "reason")
    )
    for member_id, kind, target_id, score, reason in rows:
        stored[member_id].append((kind, str(target_id), score, reason))
    changed = sorted(
        member_id
        for member_id in set(stored) | set(computed)
        if stored.get(member_id, [])
        != [(p.item[0], p.item[1], p.score, p.reason) for p in computed.get(member_id, [])]
    )
    if changed:
        rows = [
            (member_id, rank, pick.item[0], uuid.UUID(pick.item[1]), pick.score, pick.reason[:300])
            for member_id in changed
            for rank, pick in enumerate(computed.get(member_id, []), start=1)
        ]
        async with in_transaction():
            await MemberRecommendation.filter(member_id__in=changed).delete()
            await _insert(rows, as_of)
    return RangeResult(len(computed), len(changed))


_INSERT = """
INSERT INTO member_recommendation (member_id, rank, target_kind, target_id, score, reason, day)
SELECT u.member_id, u.rank, u.target_kind, u.target_id, u.score, u.reason, $7::date
FROM unnest($1::uuid[], $2::smallint[], $3::text[], $4::uuid[], $5::float8[], $6::text[])
  AS u(member_id, rank, target_kind, target_id, score, reason)
"""


async def _insert(rows: list[tuple[uuid.UUID, int, str, uuid.UUID, float, str]], day: date) -> None:
    """Write a chunk's rows: on PostgreSQL in one statement (each column an array), on
    SQLite in batches."""
    db = connections.get("default")
    if db.capabilities.dialect == "postgres":
        columns = [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * 6
        await db.execute_query(_INSERT, [*columns, day])
        return
    await MemberRecommendation.bulk_create(
        [
            MemberRecommendation(
                member_id=member_id,
                rank=rank,
                target_kind=kind,
                target_id=target_id,
                score=score,
                reason=reason,
                day=day,
            )
            for member_id, rank, kind, target_id, score, reason in rows
        ],
        batch_size=500,
    )


async def member_recommendations(
    services: Services, as_of: date, dry_run: bool
) -> tuple[str, list[str]]:
    """The nightly recommendations as of `as_of`; a dry run counts what it would store."""
    if dry_run:
        neighbours, _, pairs = await compute_model(services, as_of)
        members = await Member.filter(erased_at__isnull=True).values_list("id", flat=True)
        allowed = await consenting(services, members, LOWEST_ID, HIGHEST_ID)  # type: ignore[arg-type]
        return (
            f"recommendations as of {as_of}: {len(allowed)} member(s) would get lists, "
            f"{len(neighbours)} item(s) with similar ones from {pairs} pair(s)",
            [],
        )
    result = await recommend_range(services, as_of, LOWEST_ID, HIGHEST_ID)
    return f"recommendations as of {as_of}: {result.members} listed, {result.changed} changed", []


# --- the offline evaluation ---

_TIMED = """
SELECT i.member_id, m.tier, i.kind, i.item, i.at FROM (
  SELECT member_id, 'GROUP' AS kind, CAST(group_id AS TEXT) AS item,
         CAST(joined_at AS TEXT) AS at FROM group_membership
  UNION ALL
  SELECT member_id, 'EVENT', CAST(event_id AS TEXT), CAST(created_at AS TEXT)
  FROM event_signup WHERE status = 'ACTIVE'
  UNION ALL
  SELECT member_id, 'REWARD', CAST(reward_id AS TEXT), CAST(created_at AS TEXT)
  FROM redemption WHERE status <> 'CANCELLED'
  UNION ALL
  SELECT member_id, 'POST', CAST(post_id AS TEXT), CAST(created_at AS TEXT) FROM post_like
  UNION ALL
  SELECT member_id, 'BRAND', brand, CAST(day AS TEXT) FROM item_interaction
  WHERE kind = 'FAVOURITE'
) i JOIN member m ON m.id = i.member_id
WHERE m.erased_at IS NULL
"""


async def evaluate(k: int = 10) -> recommend.Evaluation:
    """Hit rate at `k` with each member's latest interaction held out, against the
    popular baseline, over everything stored."""
    _, rows = await connections.get("default").execute_query(_TIMED)
    timed: dict[str, list[tuple[str, Item]]] = defaultdict(list)
    tiers: dict[str, str] = {}
    for row in rows:
        member = str(row["member_id"])
        tiers[member] = str(row["tier"])
        timed[member].append((_sortable(row["at"]), (str(row["kind"]), str(row["item"]))))
    return recommend.evaluate(timed, tiers, k=k)


def _sortable(at: Any) -> str:
    """A time as text that sorts in time order (both databases' forms)."""
    text = str(at).replace("T", " ")
    return text if len(text) > 10 else text + " 00:00:00"
