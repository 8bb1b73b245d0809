"""Generated members and their histories, as rows: pure, deterministic by seed.

Each member draws everything from a random generator seeded from the run's generator, so
the same seed, date and count give the same rows. Members come in batches; the only
state kept between batches is a bounded pool of recent posts per group (what later
members comment on and like), so memory does not grow with the count.
"""

from __future__ import annotations

import math
import random
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from enum import StrEnum
from typing import Any

from member_api.business_calendar import trailing_window_start
from member_api.members.domain import REFERRAL_ALPHABET, REFERRAL_CODE_LENGTH
from member_api.privacy.domain import Purpose
from member_api.synthetic import catalogue as cat
from member_api.tiers.rules import TierCode, TierRules

BATCH_MEMBERS = 500  # fixed: referrals are drawn within a batch
HISTORY_DAYS = 900  # the oldest member joined this many days before the as-of date
VIEW_DAYS = 180  # the shop reports the views of the last six months
POST_POOL = 400  # recent posts per group that later members react to
SOURCE = "seed-synthetic"
# Business time (Asia/Shanghai keeps +08:00 all year) as a fixed offset: cheaper to convert.
BUSINESS_OFFSET = timezone(timedelta(hours=8))


class Archetype(StrEnum):
    LOYAL = "LOYAL"  # high spend, buys monthly, often signed in
    OCCASIONAL = "OCCASIONAL"  # a few mid-priced orders a year
    COLLECTOR = "COLLECTOR"  # high average order, low frequency
    TREND_FOLLOWER = "TREND_FOLLOWER"  # many views of new arrivals, few orders
    SOCIAL_BUTTERFLY = "SOCIAL_BUTTERFLY"  # community active, low spend
    NEWCOMER = "NEWCOMER"  # joined in the last two months
    CHURNED = "CHURNED"  # active, then stopped abruptly months ago
    FADING = "FADING"  # declined over months, then stopped


CHURNERS = (Archetype.CHURNED, Archetype.FADING)


@dataclass(frozen=True)
class Profile:
    weight: int
    orders_per_year: float
    price_factor: float
    categories: tuple[str, ...]  # preferred categories (empty: the brand's own)
    active_per_week: float
    views_per_week: float
    favourites_per_month: float
    posts_per_month: float
    comments_per_month: float
    likes_per_month: float
    groups: tuple[int, int]
    events_per_year: float


PROFILES: dict[Archetype, Profile] = {
    Archetype.LOYAL: Profile(
        10, 14, 0.7, (cat.BAGS, cat.JEWELLERY), 2, 0.8, 1, 0.3, 1, 2, (1, 3), 3
    ),
    Archetype.OCCASIONAL: Profile(25, 4, 0.45, (), 0.3, 0.3, 0.3, 0.05, 0.2, 0.4, (0, 1), 0.2),
    Archetype.COLLECTOR: Profile(
        8, 2.5, 1.6, cat.COLLECTOR_CATEGORIES, 0.3, 0.5, 0.8, 0.1, 0.3, 0.4, (0, 2), 1
    ),
    Archetype.TREND_FOLLOWER: Profile(
        12, 1.5, 0.6, cat.TREND_CATEGORIES, 1.2, 2, 2, 0.1, 0.5, 2, (0, 2), 0.3
    ),
    Archetype.SOCIAL_BUTTERFLY: Profile(
        10, 1, 0.3, (cat.SHOES, cat.ACCESSORIES, cat.CLOTHING), 1.5, 0.4, 0.4, 1.5, 4, 8, (3, 5), 2
    ),
    Archetype.NEWCOMER: Profile(12, 4, 0.6, (), 1, 1, 0.8, 0.2, 0.4, 1.5, (0, 2), 0),
    Archetype.CHURNED: Profile(13, 6, 0.8, (), 0.6, 0.5, 0.4, 0.15, 0.4, 1, (0, 2), 0.5),
    Archetype.FADING: Profile(10, 7, 0.8, (), 0.8, 0.5, 0.4, 0.2, 0.5, 1.5, (0, 2), 0.5),
}
ARCHETYPES = tuple(PROFILES)
WEIGHTS = tuple(p.weight for p in PROFILES.values())

COLUMNS: dict[str, tuple[str, ...]] = {
    "member": (
        "id",
        "display_name",
        "referral_code",
        "referred_by_id",
        "joined_at",
        "updated_at",
        "tier",
        "tier_since",
        "facts_version",
        "birthday_month",
        "birthday_day",
    ),
    "community_group": (
        "id",
        "slug",
        "name",
        "description",
        "owner_id",
        "member_count",
        "created_at",
    ),
    "consent_record": ("member_id", "purpose", "granted", "policy_version", "changed_at"),
    "tier_change": ("member_id", "from_tier", "to_tier", "changed_at", "reason", "reference"),
    "member_activity_day": ("member_id", "day"),
    "commerce_event": (
        "id",
        "event_id",
        "type",
        "member_id",
        "order_id",
        "amount_fen",
        "occurred_at",
        "received_at",
        "source",
    ),
    "member_order": (
        "id",
        "order_id",
        "member_id",
        "paid_fen",
        "refunded_fen",
        "paid_at",
        "paid_on",
    ),
    "order_line": ("order_id", "position", "brand", "category", "amount_fen"),
    "item_interaction": (
        "event_id",
        "member_id",
        "kind",
        "item_id",
        "brand",
        "category",
        "count",
        "day",
    ),
    "group_membership": ("group_id", "member_id", "joined_at"),
    "post": (
        "id",
        "group_id",
        "author_id",
        "kind",
        "body",
        "image_urls",
        "like_count",
        "comment_count",
        "report_count",
        "state",
        "points_awarded",
        "created_on",
        "created_at",
    ),
    "comment": ("id", "post_id", "author_id", "body", "state", "created_at"),
    "post_like": ("post_id", "member_id", "created_at"),
    "event_attendance": ("member_id", "event_ref", "attended_on", "recorded_at"),
}
# Parents before children: the order rows are written in.
TABLES = tuple(COLUMNS)


@dataclass(frozen=True)
class GroupRef:
    id: uuid.UUID
    created_on: date
    brands: tuple[int, ...]


@dataclass
class Plan:
    """One generated member and the facts its tier and referrals are judged by."""

    index: int
    id: uuid.UUID
    archetype: Archetype
    joined_at: datetime
    joined: date
    display_name: str
    referral_code: str
    birthday: tuple[int, int] | None
    first_order_at: datetime | None = None
    lifetime_net: int = 0
    lifetime_orders: int = 0
    spend_12m: int = 0
    orders_12m: int = 0
    active_days: set[date] = field(default_factory=set)
    events_12m: int = 0
    referred_by: uuid.UUID | None = None
    referrals: int = 0
    tier: TierCode = TierCode.NEW
    tier_since: datetime | None = None
    keys: int = 0

    def key(self) -> uuid.UUID:
        """The next id of a row of this member's (an event, a post, a comment): the
        member's id with a count in its lowest bits, so a member's rows sit together."""
        self.keys += 1
        return uuid.UUID(int=(self.id.int & ~0xFFFFFFFF) | self.keys)


@dataclass
class Batch:
    plans: list[Plan]
    rows: dict[str, list[tuple[Any, ...]]]
    # Likes and comments this batch gave each post (of this or an earlier batch).
    reactions: dict[uuid.UUID, list[int]] = field(default_factory=dict)


def poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 40:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def member_uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


VERSION_BITS, VARIANT_BITS = 0xF << 76, 0x3 << 62


def spread_uuid(index: int, count: int, rng: random.Random) -> uuid.UUID:
    """A random version-4 id in the index's own slice of the id space: ids rise with
    the index (rows go into the indexes in order) and spread evenly over the space (the
    jobs' id ranges get as many members each)."""
    width = (1 << 128) // count
    value = index * width + rng.getrandbits(128) % width
    value = (value & ~VERSION_BITS) | (4 << 76)
    return uuid.UUID(int=(value & ~VARIANT_BITS) | (0x2 << 62))


def referral_code(seed: int, index: int) -> str:
    """A code of the usual alphabet and length, distinct for each index of a run (an
    affine map is a bijection on the code space)."""
    base = len(REFERRAL_ALPHABET)
    space = base**REFERRAL_CODE_LENGTH
    value = (index * 0x9E3779B1 + seed * 7919 + 12345) % space
    chars = []
    for _ in range(REFERRAL_CODE_LENGTH):
        value, digit = divmod(value, base)
        chars.append(REFERRAL_ALPHABET[digit])
    return "".join(chars)


def below(rng: random.Random, n: int) -> int:
    """A whole number in [0, n): faster than randrange, and as deterministic."""
    return int(rng.random() * n)


def at(day: date, rng: random.Random) -> datetime:
    """A moment of `day` between 08:00 and 23:00, to the minute."""
    minutes = 480 + int(rng.random() * 900)
    hour, minute = divmod(minutes, 60)
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BUSINESS_OFFSET)


def item_of(listing: date, brand: int, category: str, k: int) -> str:
    return (
        f"S{listing.year % 100:02d}{listing.month:02d}{listing.day:02d}"
        f"-{brand:02d}-{category[:3].upper()}-{k}"
    )


class Generator:
    """Members `start`, `start + 1`, ... of a run, batch by batch."""

    def __init__(
        self,
        *,
        seed: int,
        as_of: date,
        members: int,
        groups: list[GroupRef],
        policy_version: str,
        tier_rules: TierRules,
    ) -> None:
        self.seed = seed
        self.members = members
        self.as_of = as_of
        self.rng = random.Random(seed)
        self.groups = groups
        self.policy_version = policy_version
        self.rules = tier_rules
        self.pools: dict[uuid.UUID, deque[tuple[uuid.UUID, datetime]]] = {
            g.id: deque(maxlen=POST_POOL) for g in groups
        }
        self.next_order_id = 1
        self.window_start = trailing_window_start(as_of, tier_rules.trailing_months)
        self.brand_weights = [b.weight for b in cat.BRANDS]
        self.group_members: Counter[uuid.UUID] = Counter()
        self.reactions: dict[uuid.UUID, list[int]] = {}
        self.archetypes: Counter[str] = Counter()

    def batches(self) -> Iterator[Batch]:
        for start in range(0, self.members, BATCH_MEMBERS):
            yield self.batch(start, min(self.members, start + BATCH_MEMBERS))

    def batch(self, start: int, stop: int) -> Batch:
        rows: dict[str, list[tuple[Any, ...]]] = {table: [] for table in TABLES}
        self.reactions = {}
        plans = [self.member(index, rows) for index in range(start, stop)]
        self._referrals(plans)
        for plan in plans:
            self._tier(plan, rows)
            rows["member"].append(
                (
                    plan.id,
                    plan.display_name,
                    plan.referral_code,
                    plan.referred_by,
                    plan.joined_at,
                    plan.joined_at,
                    plan.tier.value,
                    plan.tier_since,
                    0,
                    plan.birthday[0] if plan.birthday else None,
                    plan.birthday[1] if plan.birthday else None,
                )
            )
        return Batch(plans, rows, self.reactions)

    # --- one member ---

    def member(self, index: int, rows: dict[str, list[tuple[Any, ...]]]) -> Plan:
        rng = random.Random(self.rng.getrandbits(64))
        archetype = rng.choices(ARCHETYPES, WEIGHTS)[0]
        self.archetypes[archetype.value] += 1
        profile = PROFILES[archetype]
        a = self.as_of
        if archetype is Archetype.NEWCOMER:
            joined = a - timedelta(days=rng.randrange(0, 60))
        elif archetype in CHURNERS:
            joined = a - timedelta(days=rng.randrange(300, HISTORY_DAYS))
        else:
            joined = a - timedelta(days=rng.randrange(90, HISTORY_DAYS))
        stop, fade = a, 0
        if archetype in CHURNERS:
            stop = a - timedelta(days=rng.randrange(100, 300))
            stop = max(stop, joined + timedelta(days=60))
            if archetype is Archetype.FADING:
                fade = rng.randrange(90, 180)
        member_id = spread_uuid(index, self.members, rng)
        name = rng.choice(cat.SURNAMES) + rng.choice(cat.GIVEN)
        birthday = None
        if rng.random() < 0.8:
            month = rng.randrange(1, 13)
            birthday = (month, rng.randrange(1, 29))
        joined_at = at(joined, rng)
        plan = Plan(
            index,
            member_id,
            archetype,
            joined_at,
            joined,
            name,
            referral_code(self.seed, index),
            birthday,
        )
        span = _Span(rng, joined, stop, fade)
        favourites = rng.choices(range(len(cat.BRANDS)), self.brand_weights, k=3)
        self._consents(rng, plan, stop, rows)
        self._orders(rng, plan, profile, span, favourites, rows)
        self._interactions(rng, plan, profile, span, favourites, rows)
        self._community(rng, plan, profile, span, favourites, rows)
        self._events(rng, plan, profile, span, rows)
        days = span.distinct_days(profile.active_per_week / 7)
        plan.active_days.update(days)
        rows["member_activity_day"].extend((member_id, day) for day in sorted(plan.active_days))
        return plan

    def _consents(
        self, rng: random.Random, plan: Plan, stop: date, rows: dict[str, list[Any]]
    ) -> None:
        if rng.random() < 0.08:
            return  # never decided: neither purpose granted
        churner = plan.archetype in CHURNERS
        for purpose, share, withdraw in (
            (Purpose.MARKETING, 0.75, 0.35 if churner else 0.15),
            (Purpose.PERSONALISATION, 0.88, 0.1),
        ):
            granted = rng.random() < share
            when = plan.joined_at + timedelta(minutes=1)
            rows["consent_record"].append(
                (plan.id, purpose.value, granted, self.policy_version, when)
            )
            if granted and rng.random() < withdraw:
                last = max(stop, plan.joined + timedelta(days=1))
                day = plan.joined + timedelta(days=rng.randrange(1, (last - plan.joined).days + 1))
                rows["consent_record"].append(
                    (plan.id, purpose.value, False, self.policy_version, at(day, rng))
                )

    def _brand_and_category(
        self, rng: random.Random, profile: Profile, favourites: list[int]
    ) -> tuple[int, str]:
        if rng.random() < 0.75:
            brand = rng.choice(favourites)
        else:
            brand = rng.choices(range(len(cat.BRANDS)), self.brand_weights)[0]
        own = cat.BRANDS[brand].categories
        liked = [c for c in profile.categories if c in own]
        if liked and rng.random() < 0.8:
            return brand, liked[0] if rng.random() < 0.5 else rng.choice(liked)
        return brand, rng.choice(own)

    def _orders(
        self,
        rng: random.Random,
        plan: Plan,
        profile: Profile,
        span: _Span,
        favourites: list[int],
        rows: dict[str, list[Any]],
    ) -> None:
        days = span.times(profile.orders_per_year / 365)
        if plan.archetype is Archetype.NEWCOMER and rng.random() < 0.6:
            # Most newcomers buy in their first weeks.
            days.append(min(self.as_of, plan.joined + timedelta(days=rng.randrange(0, 21))))
            days.sort()
        for k, day in enumerate(days):
            paid_at = at(day, rng)
            count = 1 if rng.random() < 0.82 else (2 if rng.random() < 0.85 else 3)
            lines = []
            for position in range(count):
                brand, category = self._brand_and_category(rng, profile, favourites)
                low, high = cat.PRICE_YUAN[category]
                yuan = math.exp(rng.uniform(math.log(low), math.log(high)))
                yuan *= cat.BRANDS[brand].premium * profile.price_factor
                fen = max(1, round(yuan / 100)) * 100 * 100  # to the hundred yuan
                lines.append((position, cat.BRANDS[brand].name, category, fen))
            paid = sum(line[3] for line in lines)
            order_id = f"syn-{self.seed}-{plan.index}-{k}"
            refunded, refund_day = 0, None
            roll = rng.random()
            if roll < 0.08:
                refund_day = day + timedelta(days=rng.randrange(3, 21))
                refunded = paid if roll < 0.05 or count == 1 else lines[-1][3]
                if refund_day > self.as_of:
                    refunded, refund_day = 0, None
            pk = self.next_order_id
            self.next_order_id += 1
            rows["member_order"].append((pk, order_id, plan.id, paid, refunded, paid_at, day))
            rows["order_line"].extend((pk, *line) for line in lines)
            rows["commerce_event"].append(
                (
                    plan.key(),
                    f"{order_id}-paid",
                    "order.paid",
                    plan.id,
                    order_id,
                    paid,
                    paid_at,
                    paid_at,
                    SOURCE,
                )
            )
            if refund_day is not None:
                refunded_at = at(refund_day, rng)
                rows["commerce_event"].append(
                    (
                        plan.key(),
                        f"{order_id}-refunded",
                        "order.refunded",
                        plan.id,
                        order_id,
                        refunded,
                        refunded_at,
                        refunded_at,
                        SOURCE,
                    )
                )
            plan.active_days.add(day)
            if plan.first_order_at is None:
                plan.first_order_at = paid_at
            if refunded < paid:
                plan.lifetime_orders += 1
                plan.lifetime_net += paid - refunded
                if day >= self.window_start:
                    plan.orders_12m += 1
                    plan.spend_12m += paid - refunded

    def _interactions(
        self,
        rng: random.Random,
        plan: Plan,
        profile: Profile,
        span: _Span,
        favourites: list[int],
        rows: dict[str, list[Any]],
    ) -> None:
        trend = plan.archetype is Archetype.TREND_FOLLOWER
        view_start = max(plan.joined, self.as_of - timedelta(days=VIEW_DAYS))
        # A member's eye returns to the same few brands and categories.
        taste = [self._brand_and_category(rng, profile, favourites) for _ in range(8)]
        kinds = (
            ("FAVOURITE", "item.favourited", span.times(profile.favourites_per_month / 30)),
            ("VIEW", "item.viewed", span.times(profile.views_per_week / 7, start=view_start)),
        )
        for kind, event_type, days in kinds:
            seen: set[tuple[str, date]] = set()
            for day in days:
                brand, category = taste[below(rng, len(taste))]
                # Trend followers look at what was listed in the last few days.
                listed = day - timedelta(days=below(rng, 4 if trend else 60))
                item = item_of(listed, brand, category, below(rng, 5))
                if (item, day) in seen:
                    continue
                seen.add((item, day))
                count = 1 if kind == "FAVOURITE" else 1 + below(rng, 4)
                event_id = plan.key()
                moment = at(day, rng)
                rows["commerce_event"].append(
                    (
                        event_id,
                        f"syn-{self.seed}-{plan.index}-{kind[0]}{len(seen)}",
                        event_type,
                        plan.id,
                        None,
                        None,
                        moment,
                        moment,
                        SOURCE,
                    )
                )
                rows["item_interaction"].append(
                    (
                        event_id,
                        plan.id,
                        kind,
                        item,
                        cat.BRANDS[brand].name,
                        category,
                        count,
                        day,
                    )
                )

    def _community(
        self,
        rng: random.Random,
        plan: Plan,
        profile: Profile,
        span: _Span,
        favourites: list[int],
        rows: dict[str, list[Any]],
    ) -> None:
        if not self.groups:
            return
        wanted = rng.randint(*profile.groups)
        liked = [g for g in self.groups if set(g.brands) & set(favourites)]
        others = [g for g in self.groups if g not in liked]
        rng.shuffle(liked)
        rng.shuffle(others)
        joined: list[tuple[datetime, GroupRef]] = []
        for group in (liked + others)[:wanted]:
            first = max(plan.joined, group.created_on)
            if first > span.stop:
                continue
            day = first + timedelta(days=rng.randrange(0, min(60, (span.stop - first).days) + 1))
            moment = at(day, rng)
            joined.append((moment, group))
            self.group_members[group.id] += 1
            rows["group_membership"].append((group.id, plan.id, moment))
            plan.active_days.add(day)
        if not joined:
            return
        joined.sort(key=lambda pair: pair[0])

        def group_at(moment: datetime) -> GroupRef | None:
            open_ = [g for t, g in joined if t <= moment]
            return open_[below(rng, len(open_))] if open_ else None

        for day in span.times(profile.posts_per_month / 30):
            moment = at(day, rng)
            where = group_at(moment)
            if where is None:
                continue
            brand, category = self._brand_and_category(rng, profile, favourites)
            complaint = 0.2 if span.fading(day) else 0.03
            templates = cat.COMPLAINT_TEMPLATES if rng.random() < complaint else cat.POST_TEMPLATES
            body = rng.choice(templates).format(brand=cat.BRANDS[brand].name, category=category)
            post_id = plan.key()
            rows["post"].append(
                (post_id, where.id, plan.id, "POST", body, "[]", 0, 0, 0, "VISIBLE", 0, day, moment)
            )
            self.pools[where.id].append((post_id, moment))
            plan.active_days.add(day)
        liked_posts: set[uuid.UUID] = set()
        for table, rate in (
            ("comment", profile.comments_per_month / 30),
            ("post_like", profile.likes_per_month / 30),
        ):
            for day in span.times(rate):
                moment = at(day, rng)
                where = group_at(moment)
                if where is None or not self.pools[where.id]:
                    continue
                pool = self.pools[where.id]
                post_id, posted = pool[below(rng, len(pool))]
                if posted >= moment:
                    continue
                if table == "comment":
                    body = rng.choice(cat.COMMENT_TEXTS)
                    rows["comment"].append((plan.key(), post_id, plan.id, body, "VISIBLE", moment))
                    self.reactions.setdefault(post_id, [0, 0])[1] += 1
                elif post_id not in liked_posts:
                    liked_posts.add(post_id)
                    rows["post_like"].append((post_id, plan.id, moment))
                    self.reactions.setdefault(post_id, [0, 0])[0] += 1
                else:
                    continue
                plan.active_days.add(day)

    def _events(
        self,
        rng: random.Random,
        plan: Plan,
        profile: Profile,
        span: _Span,
        rows: dict[str, list[Any]],
    ) -> None:
        refs: set[str] = set()
        for day in span.times(profile.events_per_year / 365):
            city = rng.randrange(len(cat.EVENT_CITIES))
            # Each city's salon is held once a month, on a fixed day.
            held = day.replace(day=8 + 4 * city)
            if held < plan.joined or held > span.stop:
                continue
            ref = f"salon-{cat.EVENT_CITIES[city]}-{held:%Y-%m}"
            if ref in refs:
                continue
            refs.add(ref)
            recorded = datetime.combine(held, time(21), tzinfo=BUSINESS_OFFSET)
            rows["event_attendance"].append((plan.id, ref, held, recorded))
            plan.active_days.add(held)
            if held >= self.window_start:
                plan.events_12m += 1

    # --- across a batch ---

    def _referrals(self, plans: list[Plan]) -> None:
        """About one member in eight was referred by an earlier member of the batch."""
        rng = random.Random(self.rng.getrandbits(64))
        for n, plan in enumerate(plans):
            if n == 0 or rng.random() >= 0.125:
                continue
            referrer = plans[rng.randrange(n)]
            if referrer.joined_at >= plan.joined_at:
                continue
            plan.referred_by = referrer.id
            if plan.first_order_at is not None:
                referrer.referrals += 1

    def _tier(self, plan: Plan, rows: dict[str, list[Any]]) -> None:
        """The highest tier whose conditions hold on the as-of date (Black Diamond is by
        invitation, so none); the history has the registration and that one change."""
        reference = f"{SOURCE}:{self.seed}"
        rows["tier_change"].append(
            (plan.id, None, TierCode.NEW.value, plan.joined_at, "REGISTRATION", reference)
        )
        tier = tier_on(plan, self.as_of, self.rules)
        plan.tier = tier
        if tier is TierCode.NEW:
            return
        latest = max(d for d in plan.active_days if d <= self.as_of)
        plan.tier_since = max(plan.joined_at, at(latest, random.Random(plan.index)))
        rows["tier_change"].append(
            (plan.id, TierCode.NEW.value, tier.value, plan.tier_since, "EVENT", reference)
        )


def tier_on(plan: Plan, as_of: date, rules: TierRules) -> TierCode:
    """DOMAIN.md's upgrade conditions, each on its own, over the member's generated facts."""
    spend, orders = plan.spend_12m, plan.orders_12m
    quarter = as_of - timedelta(days=7 * rules.diamond_activity_weeks - 1)
    weeks = {(day - quarter).days // 7 for day in plan.active_days if quarter <= day <= as_of}
    weekly = 100 * len(weeks) >= rules.diamond_active_weeks_percent * rules.diamond_activity_weeks
    if spend >= rules.diamond_spend_12m_fen and weekly and plan.events_12m >= 2:
        return TierCode.DIAMOND
    average_above = orders > 0 and spend > rules.gold_average_order_above_fen * orders
    if (
        spend >= rules.gold_spend_12m_fen
        and average_above
        and plan.referrals >= rules.gold_referrals
    ):
        return TierCode.GOLD
    months = min(
        rules.silver_activity_months,
        (as_of.year - plan.joined.year) * 12 + as_of.month - plan.joined.month + 1,
    )
    first_month = _months_back(as_of, months - 1)
    recent = sum(1 for day in plan.active_days if first_month <= day <= as_of)
    enough = (
        plan.lifetime_net >= rules.silver_lifetime_spend_fen
        or plan.lifetime_orders >= rules.silver_lifetime_orders
    )
    if enough and recent >= rules.silver_active_days_per_month * months:
        return TierCode.SILVER
    return TierCode.NEW


def _months_back(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, 1)


class _Span:
    """The days a member is around: from joining to `stop`; a fading member's rates fall
    to nothing over the `fade` days before it."""

    def __init__(self, rng: random.Random, start: date, stop: date, fade: int) -> None:
        self.rng, self.start, self.stop, self.fade = rng, start, stop, fade

    def fading(self, day: date) -> bool:
        return self.fade > 0 and (self.stop - day).days < self.fade

    def _kept(self, day: date) -> bool:
        if not self.fading(day):
            return True
        return self.rng.random() < (self.stop - day).days / self.fade

    def times(self, per_day: float, start: date | None = None) -> list[date]:
        """Days of a Poisson process of `per_day` (repeats allowed), sorted."""
        first = max(self.start, start or self.start)
        length = (self.stop - first).days + 1
        if length <= 0:
            return []
        n = poisson(self.rng, per_day * length)
        random_ = self.rng.random
        days = [first + timedelta(days=int(random_() * length)) for _ in range(n)]
        return sorted(d for d in days if self._kept(d))

    def distinct_days(self, per_day: float) -> list[date]:
        length = (self.stop - self.start).days + 1
        n = min(length, poisson(self.rng, per_day * length))
        offsets = self.rng.sample(range(length), n)
        days = (self.start + timedelta(days=k) for k in offsets)
        return [d for d in days if self._kept(d)]
