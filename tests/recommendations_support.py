"""A small world for recommendation tests: a crowd who joined two groups together, an
item of every kind a member must never be shown (tier-gated, sold out, past, full,
hidden), and members with and without the personalisation consent."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from member_api.background import runs
from member_api.background.models import JobRun
from member_api.clock import FrozenClock
from member_api.commerce.models import CommerceEvent, ItemInteraction, MemberOrder, OrderLine
from member_api.community.models import Group, GroupMembership, Post, PostLike
from member_api.events.models import EventSignup, OfflineEvent
from member_api.members.models import Member
from member_api.privacy.models import ConsentRecord
from member_api.rewards.models import Redemption, Reward
from member_api.services import Services


async def member(clock: FrozenClock, name: str, tier: str = "NEW") -> uuid.UUID:
    row = await Member.create(
        display_name=name,
        referral_code=uuid.uuid4().hex[:12],
        joined_at=clock.now(),
        updated_at=clock.now(),
        tier=tier,
    )
    return uuid.UUID(str(row.id))


async def consent(services: Services, member_id: uuid.UUID, granted: bool = True) -> None:
    await ConsentRecord.create(
        member_id=member_id,
        purpose="PERSONALISATION",
        granted=granted,
        policy_version=services.settings.privacy_policy_version,
        changed_at=services.clock.now(),
    )


async def joins(clock: FrozenClock, member_id: uuid.UUID, *groups: uuid.UUID) -> None:
    for group_id in groups:
        await GroupMembership.create(group_id=group_id, member_id=member_id, joined_at=clock.now())


async def signs_up(clock: FrozenClock, member_id: uuid.UUID, event_id: uuid.UUID) -> None:
    await EventSignup.create(event_id=event_id, member_id=member_id, created_at=clock.now())


async def redeems(clock: FrozenClock, member_id: uuid.UUID, reward_id: uuid.UUID) -> None:
    await Redemption.create(
        member_id=member_id,
        reward_id=reward_id,
        quantity=1,
        points_spent=10,
        currency="POINTS",
        voucher_code=f"V-{uuid.uuid4().hex[:12]}",
        idempotency_key=uuid.uuid4().hex,
        debit_entry_id=0,
        created_at=clock.now(),
    )


async def likes(clock: FrozenClock, member_id: uuid.UUID, post_id: uuid.UUID) -> None:
    await PostLike.create(post_id=post_id, member_id=member_id, created_at=clock.now())


async def bought(clock: FrozenClock, member_id: uuid.UUID, brand: str, category: str) -> None:
    order = await MemberOrder.create(
        order_id=f"o-{uuid.uuid4().hex[:12]}",
        member_id=member_id,
        paid_fen=100_000,
        paid_at=clock.now() - timedelta(days=3),
        paid_on=(clock.now() - timedelta(days=3)).date(),
    )
    await OrderLine.create(
        order_id=order.id, position=0, brand=brand, category=category, amount_fen=100_000
    )


async def favourites(clock: FrozenClock, member_id: uuid.UUID, brand: str) -> None:
    event = await CommerceEvent.create(
        event_id=f"evt-{uuid.uuid4().hex}",
        type="item.favourited",
        member_id=member_id,
        occurred_at=clock.now(),
        received_at=clock.now(),
        source="shop",
    )
    await ItemInteraction.create(
        event_id=event.id,
        member_id=member_id,
        kind="FAVOURITE",
        item_id=f"sku-{uuid.uuid4().hex[:8]}",
        brand=brand,
        category="BAG",
        count=1,
        day=clock.now().date(),
    )


@dataclass
class World:
    owner: uuid.UUID
    hermes_club: uuid.UUID  # 爱马仕俱乐部
    watch_club: uuid.UUID  # 腕表俱乐部, joined by most who joined the first
    bag_club: uuid.UUID
    salon: uuid.UUID  # upcoming, seats left
    past_event: uuid.UUID
    full_event: uuid.UUID
    spa: uuid.UUID  # a reward anyone may redeem
    gold_reward: uuid.UUID  # for GOLD and above
    sold_out: uuid.UUID
    post: uuid.UUID
    hidden_post: uuid.UUID
    crowd: list[uuid.UUID] = field(default_factory=list)

    def never_shown(self) -> set[str]:
        """Items a NEW member may not use."""
        return {
            str(i) for i in (self.past_event, self.full_event, self.gold_reward, self.sold_out)
        } | {str(self.hidden_post)}


async def world(services: Services, clock: FrozenClock, crowd: int = 6) -> World:
    now = clock.now()
    owner = await member(clock, "owner")

    async def group(slug: str, name: str) -> uuid.UUID:
        row = await Group.create(slug=slug, name=name, owner_id=owner, created_at=now)
        return uuid.UUID(str(row.id))

    async def event(title: str, days: int, seats: int = 10, taken: int = 0) -> uuid.UUID:
        row = await OfflineEvent.create(
            title=title,
            city="Shanghai",
            starts_at=now + timedelta(days=days),
            seats=seats,
            seats_taken=taken,
            created_at=now - timedelta(days=30),
        )
        return uuid.UUID(str(row.id))

    async def reward(name: str, stock: int = 100, min_tier: str | None = None) -> uuid.UUID:
        row = await Reward.create(
            name=name, kind="COUPON", price=10, stock=stock, min_tier=min_tier, created_at=now
        )
        return uuid.UUID(str(row.id))

    async def post(group_id: uuid.UUID, body: str, state: str = "VISIBLE") -> uuid.UUID:
        row = await Post.create(
            group_id=group_id,
            author_id=owner,
            body=body,
            state=state,
            created_on=now.date(),
            created_at=now,
        )
        return uuid.UUID(str(row.id))

    hermes = await group("hermes", "爱马仕俱乐部")
    bag = await group("bags", "手袋研习社")
    w = World(
        owner=owner,
        hermes_club=hermes,
        watch_club=await group("watches", "腕表俱乐部"),
        bag_club=bag,
        salon=await event("Leather care salon", 5),
        past_event=await event("Past salon", -2),
        full_event=await event("Full salon", 3, seats=2, taken=2),
        spa=await reward("Spa voucher"),
        gold_reward=await reward("Gold lounge", min_tier="GOLD"),
        sold_out=await reward("Sold out scarf", stock=0),
        post=await post(bag, "How to store a Kelly"),
        hidden_post=await post(bag, "Hidden", state="HIDDEN"),
    )
    # The crowd: all joined both clubs; each also took the gated, sold-out, past and
    # full items and liked the hidden post, so that those are popular and similar too.
    for n in range(crowd):
        m = await member(clock, f"crowd {n}", tier="GOLD" if n % 2 else "NEW")
        w.crowd.append(m)
        await joins(clock, m, w.hermes_club, w.watch_club)
        if n < 4:
            await signs_up(clock, m, w.salon)
        await signs_up(clock, m, w.past_event)
        await signs_up(clock, m, w.full_event)
        await redeems(clock, m, w.gold_reward)
        await redeems(clock, m, w.sold_out)
        await likes(clock, m, w.hidden_post)
        if n < 3:
            await redeems(clock, m, w.spa)
            await likes(clock, m, w.post)
    return w


async def run_recommendations(services: Services, as_of: date) -> JobRun:
    run = await runs.start_run(services, "recommendations", as_of)
    for chunk_id in await runs.pending_chunks(run.id):
        await runs.run_chunk(services, chunk_id)
    return await JobRun.get(id=run.id)


async def generated(clock: FrozenClock, members: int, seed: int) -> None:
    """Ten clusters of three groups: each member joins the three of one cluster, one
    after the other, in a random order; and one of two very popular groups that everyone
    is in as well."""
    rng = random.Random(seed)
    owner = await member(clock, "owner")
    groups = []
    for n in range(32):
        row = await Group.create(
            slug=f"g{n}", name=f"Group {n}", owner_id=owner, created_at=clock.now()
        )
        groups.append(uuid.UUID(str(row.id)))
    popular, clusters = groups[:2], [groups[2 + 3 * c : 5 + 3 * c] for c in range(10)]
    start = datetime(2026, 1, 1, tzinfo=clock.now().tzinfo)
    for n in range(members):
        m = await member(clock, f"m{n}")
        cluster = list(clusters[rng.randrange(10)])
        rng.shuffle(cluster)
        chosen = [rng.choice(popular), *cluster]
        for step, group_id in enumerate(chosen):
            joined = FrozenClock(start + timedelta(days=n % 7, hours=step))
            await joins(joined, m, group_id)
