"""The clients' list reads send a fixed number of SQL statements, however long the list.

Each test fills 5 rows of what the operation lists, runs it, fills 15 more, runs it
again, and checks both runs sent the same number of statements, within a small ceiling.
Every run is the second of its kind, so caches filled by the first are warm in both.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.community.models import Group, Post
from member_api.events.models import EventSignup, OfflineEvent
from member_api.intelligence.models import MemberRecommendation
from member_api.members.models import Member
from member_api.notifications.models import Notification
from member_api.privacy.models import ConsentRecord, DataExport
from member_api.provenance.models import Item
from member_api.rewards import service as rewards_service
from member_api.rewards.models import Redemption, Reward
from member_api.settings import Settings
from member_api.tasks.models import MemberAction
from member_api.tiers.models import TierChange
from tests.commerce_support import new_member
from tests.provenance_support import record, register_item, staff_pair
from tests.rewards_support import give_points
from tests.support import gql, op, sql_statements


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The computed path is what is counted here: stored answers off (rows are written
    straight to the database, past the writes that would move their versions)."""
    return dataclasses.replace(settings, response_cache_size=0)


Seed = Callable[[int, int], Awaitable[None]]


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


async def count_statements(
    client: httpx.AsyncClient,
    name: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> tuple[dict[str, Any], list[str]]:
    """The operation's data and the statements of its second run."""
    await gql(client, op(name), variables, token=token)
    with sql_statements() as statements:
        body = await gql(client, op(name), variables, token=token)
    assert "errors" not in body, body
    return body["data"], list(statements)


async def same_count_for_5_and_20(
    client: httpx.AsyncClient,
    name: str,
    seed: Seed,
    listed: Callable[[dict[str, Any]], list[Any]],
    *,
    ceiling: int,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> list[dict[str, Any]]:
    """Run `name` over 5 rows and over 20; returns the data of both runs."""
    await seed(0, 5)
    few, few_statements = await count_statements(client, name, variables, token)
    await seed(5, 20)
    many, many_statements = await count_statements(client, name, variables, token)
    assert len(listed(few)) == 5
    assert len(listed(many)) == 20
    assert len(few_statements) == len(many_statements), many_statements
    assert len(many_statements) <= ceiling, many_statements
    return [few, many]


def edges(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


# --- rewards ---------------------------------------------------------------------------


async def add_rewards(clock: FrozenClock, start: int, end: int) -> list[Reward]:
    """Rewards of every kind of answer to redeemableByMe: cheap and dear, tier-gated,
    sold out, limited per member, paid in carbon credits, off sale."""
    rows = []
    for n in range(start, end):
        rows.append(
            await Reward.create(
                name=f"Reward {n}",
                kind="COUPON",
                currency="CARBON" if n % 7 == 3 else "POINTS",
                price=50 if n % 5 == 1 else 10,
                stock=0 if n % 6 == 2 else 100,
                limit_per_member=1 if n % 4 == 0 else None,
                min_tier="GOLD" if n % 5 == 4 else None,
                active_from=clock.now() + timedelta(days=1) if n % 9 == 8 else None,
                created_at=clock.now() - timedelta(minutes=n),
            )
        )
    return rows


# The page; then once for all its rewards: the member (tier), their ledger accounts, the
# lots behind every balance, and the units they hold of the limited rewards.
REWARD_CATALOGUE_CEILING = 5
# Signed out, no reward can be redeemed: the page alone.
REWARD_CATALOGUE_SIGNED_OUT_CEILING = 1


async def test_reward_catalogue(client: httpx.AsyncClient, clock: FrozenClock, app: Any) -> None:
    member_id, token = await new_member(client, "13900000001")
    await give_points(member_id, 30, at=clock.now())
    rewards: list[Reward] = []

    async def seed(start: int, end: int) -> None:
        added = await add_rewards(clock, start, end)
        rewards.extend(added)
        # The member already holds one unit of every limited reward of the first five.
        for reward in added:
            if reward.limit_per_member is not None and len(rewards) <= 5:
                await Redemption.create(
                    member_id=member_id,
                    reward_id=reward.id,
                    quantity=1,
                    points_spent=reward.price,
                    currency=reward.currency,
                    voucher_code=f"V-{uuid.uuid4().hex[:12]}",
                    idempotency_key=uuid.uuid4().hex,
                    debit_entry_id=0,
                    created_at=clock.now(),
                )

    _, many = await same_count_for_5_and_20(
        client,
        "RewardCatalogue",
        seed,
        lambda data: edges(data["rewards"]),
        ceiling=REWARD_CATALOGUE_CEILING,
        variables={"first": 20},
        token=token,
    )
    # Each answer is the one a redemption of one unit would get.
    services = app.state.services
    expected = {
        str(r.id): await rewards_service.redeemable_by(services, r, uuid.UUID(member_id))
        for r in rewards
    }
    answers = {node["id"]: node["redeemableByMe"] for node in edges(many["rewards"])}
    assert answers == expected
    assert True in answers.values()
    assert False in answers.values()


async def test_reward_catalogue_signed_out(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    async def seed(start: int, end: int) -> None:
        await add_rewards(clock, start, end)

    _, many = await same_count_for_5_and_20(
        client,
        "RewardCatalogue",
        seed,
        lambda data: edges(data["rewards"]),
        ceiling=REWARD_CATALOGUE_SIGNED_OUT_CEILING,
        variables={"first": 20},
    )
    assert not any(node["redeemableByMe"] for node in edges(many["rewards"]))


# The member, the page of redemptions, and their rewards in one query.
MY_REDEMPTIONS_CEILING = 3


async def test_my_redemptions(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")

    async def seed(start: int, end: int) -> None:
        for reward in await add_rewards(clock, start, end):
            await Redemption.create(
                member_id=member_id,
                reward_id=reward.id,
                quantity=1,
                points_spent=reward.price,
                currency=reward.currency,
                voucher_code=f"V-{uuid.uuid4().hex[:12]}",
                idempotency_key=uuid.uuid4().hex,
                debit_entry_id=0,
                created_at=clock.now() - timedelta(minutes=len(reward.name)),
            )

    _, many = await same_count_for_5_and_20(
        client,
        "MyRedemptions",
        seed,
        lambda data: edges(data["me"]["redemptions"]),
        ceiling=MY_REDEMPTIONS_CEILING,
        variables={"first": 20},
        token=token,
    )
    names = {node["reward"]["name"] for node in edges(many["me"]["redemptions"])}
    assert names == {f"Reward {n}" for n in range(20)}


# --- engagement ------------------------------------------------------------------------


# The page of events, and the member's seats among them in one query.
UPCOMING_EVENTS_CEILING = 2


async def test_upcoming_events(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")

    async def seed(start: int, end: int) -> None:
        for n in range(start, end):
            event = await OfflineEvent.create(
                title=f"Salon {n}",
                city="Shanghai",
                starts_at=clock.now() + timedelta(days=1 + n),
                seats=10,
                created_at=clock.now(),
            )
            if n % 3 == 0:
                status = "CANCELLED" if n % 2 else "ACTIVE"
                await EventSignup.create(
                    event=event, member_id=member_id, status=status, created_at=clock.now()
                )

    _, many = await same_count_for_5_and_20(
        client,
        "UpcomingEvents",
        seed,
        lambda data: edges(data["events"]),
        ceiling=UPCOMING_EVENTS_CEILING,
        variables={"first": 20},
        token=token,
    )
    signed = [node["title"] for node in edges(many["events"]) if node["signedUpByMe"]]
    assert signed == [f"Salon {n}" for n in range(20) if n % 3 == 0 and not n % 2]


# The member, completed tasks, badges, and the member's actions counted in one grouped
# query per task window (open-ended, first days after joining), not one per task.
TASKS_CEILING = 5


async def test_tasks(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")

    async def seed(start: int, end: int) -> None:
        for n in range(start, end):
            await MemberAction.create(
                member_id=member_id,
                action="SHARE_AUTHENTICATION",
                reference=f"item-{n}",
                at=clock.now(),
            )

    await seed(0, 5)
    few, few_statements = await count_statements(client, "Tasks", token=token)
    await seed(5, 20)
    many, many_statements = await count_statements(client, "Tasks", token=token)
    assert few["me"]["tasks"]
    assert len(few["me"]["tasks"]) == len(many["me"]["tasks"])
    assert len(few_statements) == len(many_statements), many_statements
    assert len(many_statements) <= TASKS_CEILING, many_statements


# --- member ----------------------------------------------------------------------------


# The member, the points account, its balance, what expires soon, the page of entries.
POINTS_HISTORY_CEILING = 5


async def test_points_history(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")

    async def seed(start: int, end: int) -> None:
        for n in range(start, end):
            await give_points(member_id, 10 + n, at=clock.now() - timedelta(minutes=n))

    _, many = await same_count_for_5_and_20(
        client,
        "PointsHistory",
        seed,
        lambda data: edges(data["me"]["points"]["history"]),
        ceiling=POINTS_HISTORY_CEILING,
        variables={"first": 20},
        token=token,
    )
    history = edges(many["me"]["points"]["history"])
    assert sum(node["delta"] for node in history) == sum(10 + n for n in range(20))


# The member and the page of notifications.
NOTIFICATIONS_CEILING = 2


async def test_notifications(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")
    # Registration may leave a welcome message: the lists start empty.
    await Notification.filter(member_id=member_id).delete()

    async def seed(start: int, end: int) -> None:
        for n in range(start, end):
            await Notification.create(
                member_id=member_id,
                kind="INFO",
                title=f"Note {n}",
                body="Hello",
                created_at=clock.now() - timedelta(minutes=n),
            )

    await same_count_for_5_and_20(
        client,
        "Notifications",
        seed,
        lambda data: edges(data["me"]["notifications"]),
        ceiling=NOTIFICATIONS_CEILING,
        variables={"first": 20},
        token=token,
    )


# The member and their tier changes.
TIER_HISTORY_CEILING = 2


async def test_tier_history(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")
    await TierChange.filter(member_id=member_id).delete()

    async def seed(start: int, end: int) -> None:
        tiers = ["SILVER", "GOLD"]
        for n in range(start, end):
            await TierChange.create(
                member_id=member_id,
                from_tier=tiers[n % 2],
                to_tier=tiers[(n + 1) % 2],
                changed_at=clock.now() - timedelta(days=n),
                reason="REVIEW",
            )

    await same_count_for_5_and_20(
        client,
        "TierHistory",
        seed,
        lambda data: data["me"]["tierHistory"],
        ceiling=TIER_HISTORY_CEILING,
        token=token,
    )


# --- provenance ------------------------------------------------------------------------


# The item, whether this place scanned it in the last ten minutes, the latest
# checkpoint, the item's events, their leaf hashes and proof nodes (one query each for
# all events), and the week's scans (for copied tags).
SCAN_ITEM_CEILING = 7


@pytest.mark.parametrize("signed_in", [False, True])
async def test_scan_item(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any, signed_in: bool
) -> None:
    token = (await new_member(client, "13900000001"))[1] if signed_in else None
    operator, authenticator = await staff_pair(client, app)
    public_id = str((await register_item(client, operator))["publicId"])

    async def seed(start: int, end: int) -> None:
        for n in range(start, end):
            if n == 0:
                done = await record(client, operator, public_id, "SOURCING", clock, place="Paris")
            else:
                details = {"note": f"Care {n}"}
                done = await record(
                    client, authenticator, public_id, "MAINTENANCE", clock, details=details
                )
            assert done["__typename"] == "CustodyEventRecorded", done

    await same_count_for_5_and_20(
        client,
        "ScanItem",
        seed,
        lambda data: data["provenance"]["events"],
        ceiling=SCAN_ITEM_CEILING,
        variables={"code": public_id},
        token=token,
    )


# The member and their items.
MY_ITEMS_CEILING = 2


async def test_my_items(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")
    member = await Member.get(id=member_id)

    async def seed(start: int, end: int) -> None:
        for n in range(start, end):
            await Item.create(
                public_id=f"T{n:03d}{uuid.uuid4().hex[:8].upper()}",
                brand="Hermès",
                model=f"Kelly {n}",
                category="BAG",
                owner=member,
                status="SOLD",
                created_at=clock.now() - timedelta(minutes=n),
            )

    await same_count_for_5_and_20(
        client,
        "MyItems",
        seed,
        lambda data: data["me"]["items"],
        ceiling=MY_ITEMS_CEILING,
        token=token,
    )


# --- privacy ---------------------------------------------------------------------------

# The member and their export requests.
DATA_EXPORTS_CEILING = 2


async def test_my_data_exports(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")

    async def seed(start: int, end: int) -> None:
        for n in range(start, end):
            await DataExport.create(
                member_id=member_id,
                status="EXPIRED",
                requested_at=clock.now() - timedelta(days=n + 2),
            )

    await same_count_for_5_and_20(
        client,
        "MyDataExports",
        seed,
        lambda data: data["me"]["dataExports"],
        ceiling=DATA_EXPORTS_CEILING,
        token=token,
    )


# The member and their consent records (the latest per purpose is shown).
CONSENTS_CEILING = 2


async def test_my_consents(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")
    counts = []
    for changes in (5, 20):
        await ConsentRecord.filter(member_id=member_id).delete()
        for n in range(changes):
            await ConsentRecord.create(
                member_id=member_id,
                purpose="MARKETING",
                granted=n % 2 == 0,
                policy_version="2026-01",
                changed_at=clock.now() - timedelta(minutes=changes - n),
            )
        data, statements = await count_statements(client, "MyConsents", token=token)
        assert data["me"]["consents"]
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
    assert counts[1] <= CONSENTS_CEILING, counts


# --- recommendations ---------------------------------------------------------------------


# The member, their consent, the stored list, the tier's popular list; per kind listed,
# its rows and what the member has of them already (seats, groups, likes); the posts'
# authors and likes.
FOR_YOU_CEILING = 13


async def test_for_you(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")
    await ConsentRecord.create(
        member_id=member_id,
        purpose="PERSONALISATION",
        granted=True,
        policy_version=Settings().privacy_policy_version,
        changed_at=clock.now(),
    )
    owner, _ = await new_member(client, "13900000002")
    now = clock.now()

    async def seed(start: int, end: int) -> None:
        for n in range(start, end):
            target: Any
            if n % 4 == 0:
                kind = "REWARD"
                target = await Reward.create(
                    name=f"Reward {n}", kind="COUPON", price=10, stock=5, created_at=now
                )
            elif n % 4 == 1:
                kind = "EVENT"
                target = await OfflineEvent.create(
                    title=f"Salon {n}",
                    city="Shanghai",
                    starts_at=now + timedelta(days=1 + n),
                    seats=10,
                    created_at=now,
                )
            elif n % 4 == 2:
                kind = "GROUP"
                target = await Group.create(
                    slug=f"club-{n}", name=f"Club {n}", owner_id=owner, created_at=now
                )
            else:
                kind = "POST"
                group = await Group.create(
                    slug=f"feed-{n}", name=f"Feed {n}", owner_id=owner, created_at=now
                )
                target = await Post.create(
                    group_id=group.id,
                    author_id=owner,
                    body=f"Post {n}",
                    created_on=now.date(),
                    created_at=now,
                )
            await MemberRecommendation.create(
                member_id=member_id,
                rank=n + 1,
                target_kind=kind,
                target_id=target.id,
                score=1 - n / 100,
                reason=f"reason {n}",
                day=now.date(),
            )

    _, many = await same_count_for_5_and_20(
        client,
        "ForYou",
        seed,
        lambda data: edges(data["me"]["recommendations"]),
        ceiling=FOR_YOU_CEILING,
        variables={"first": 20},
        token=token,
    )
    reasons = [node["reason"] for node in edges(many["me"]["recommendations"])]
    assert reasons == [f"reason {n}" for n in range(20)]
