"""Member facts: exact counts and sums over trailing windows (edges included), brand and
category affinity with a half-life decay, written by the nightly job in one statement
per table on PostgreSQL and row by row on SQLite to the same answers, and kept current
by the member's own events."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from member_api.background import runs
from member_api.clock import BUSINESS_ZONE, FrozenClock
from member_api.commerce.models import CommerceEvent, ItemInteraction, MemberOrder, OrderLine
from member_api.community.models import Comment, Group, GroupMembership, Post, PostLike
from member_api.intelligence import facts
from member_api.intelligence.domain import FACT_COLUMNS, ScoreRules
from member_api.intelligence.models import MemberAffinity, MemberFact, MemberScore
from member_api.intelligence.scores import HIGHEST_ID, LOWEST_ID, score_range
from member_api.members.models import ActivityDay
from member_api.services import Services
from tests.commerce_support import new_member, paid, send_event
from tests.support import gql, sql_statements, staff_token

AS_OF = date(2026, 6, 30)


@pytest.fixture
def clock() -> FrozenClock:
    # Noon of AS_OF, business time.
    return FrozenClock(datetime.combine(AS_OF, time(12), tzinfo=BUSINESS_ZONE).astimezone(UTC))


def on(days_before: int) -> date:
    return AS_OF - timedelta(days=days_before)


def at(days_before: int) -> datetime:
    return datetime.combine(on(days_before), time(10), tzinfo=BUSINESS_ZONE)


async def order(
    member_id: str, days_before: int, paid_fen: int, refunded: int = 0, lines: Any = ()
) -> None:
    row = await MemberOrder.create(
        order_id=f"o-{uuid.uuid4().hex[:12]}",
        member_id=member_id,
        paid_fen=paid_fen,
        refunded_fen=refunded,
        paid_at=at(days_before),
        paid_on=on(days_before),
    )
    for position, (brand, category, amount) in enumerate(lines):
        await OrderLine.create(
            order_id=row.id, position=position, brand=brand, category=category, amount_fen=amount
        )


async def history(client: httpx.AsyncClient) -> tuple[str, str]:
    """One member with something at each window's edge, and one with nothing."""
    busy, _ = await new_member(client, "13900001001")
    quiet, _ = await new_member(client, "13900001002")
    await ActivityDay.filter(member_id__in=[busy, quiet]).delete()
    # Orders: 29 days ago is in the 30-day window, 30 is not; 89 in the quarter, 90 in
    # the quarter before it (to 179); 364 in the year, 365 not. A full refund never
    # counts; a partial one counts net. One order tomorrow is not there yet.
    await order(busy, 0, 100_000, lines=[("Hermès", "bags", 100_000)])
    await order(busy, 29, 50_000, refunded=10_000)
    await order(busy, 30, 70_000)
    await order(busy, 89, 10_000)
    await order(busy, 90, 20_000, lines=[("Chanel", "bags", 20_000)])
    await order(busy, 179, 30_000)
    await order(busy, 180, 40_000)
    await order(busy, 364, 1_000)
    await order(busy, 365, 9_000_000, lines=[("Rolex", "watches", 9_000_000)])
    await order(busy, 5, 5_000_000, refunded=5_000_000, lines=[("Rolex", "watches", 5_000_000)])
    await order(busy, -1, 8_000)
    for days in (0, 29, 30, 89, 90, 179, 180):
        await ActivityDay.create(member_id=busy, day=on(days))
    await ActivityDay.create(member_id=busy, day=on(-1))
    group = await Group.create(
        slug="hermes", name="爱马仕俱乐部", owner_id=quiet, created_at=at(400)
    )
    other = await Group.create(slug="watches", name="腕表", owner_id=quiet, created_at=at(400))
    for g in (group, other):
        await GroupMembership.create(group_id=g.id, member_id=busy, joined_at=at(200))
    posts = []
    for days, state in ((0, "VISIBLE"), (89, "VISIBLE"), (90, "VISIBLE"), (3, "HIDDEN")):
        posts.append(
            await Post.create(
                group_id=group.id,
                author_id=busy,
                body="x",
                state=state,
                created_on=on(days),
                created_at=at(days),
            )
        )
    for days, state in ((0, "VISIBLE"), (89, "VISIBLE"), (90, "VISIBLE"), (1, "HIDDEN")):
        await Comment.create(
            post_id=posts[0].id, author_id=busy, body="y", state=state, created_at=at(days)
        )
    for post, days in zip(posts, (0, 89, 90, 1), strict=True):
        await PostLike.create(post_id=post.id, member_id=busy, created_at=at(days))
    for kind, days, count, brand in (
        ("FAVOURITE", 0, 1, "Chanel"),
        ("FAVOURITE", 90, 2, "Hermès"),  # outside the quarter, still an affinity (decayed)
        ("VIEW", 29, 5, "Chanel"),
        ("VIEW", 30, 7, "Chanel"),
        ("VIEW", 90, 11, "Chanel"),
    ):
        event = await _event(busy)
        await ItemInteraction.create(
            event_id=event,
            member_id=busy,
            kind=kind,
            item_id=f"item-{days}",
            brand=brand,
            category="bags",
            count=count,
            day=on(days),
        )
    return busy, quiet


async def _event(member_id: str) -> uuid.UUID:
    row = await CommerceEvent.create(
        event_id=f"evt-{uuid.uuid4().hex}",
        type="item.viewed",
        member_id=member_id,
        occurred_at=at(0),
        received_at=at(0),
        source="test",
    )
    return row.id


EXPECTED_BUSY = {
    "last_purchase_on": AS_OF,
    "last_active_on": AS_OF,
    "orders_30d": 2,
    "orders_90d": 4,
    "orders_prev_90d": 2,
    "orders_365d": 8,
    "spend_30d_fen": 140_000,
    "spend_90d_fen": 220_000,
    "spend_365d_fen": 311_000,
    "average_order_365d_fen": 311_000 // 8,
    "active_days_30d": 2,
    "active_days_90d": 4,
    "active_days_prev_90d": 2,
    "posts_90d": 2,
    "comments_90d": 2,
    "likes_90d": 3,
    "groups": 2,
    "favourites_90d": 1,
    "views_30d": 5,
    "views_90d": 12,
}


def as_dict(row: MemberFact) -> dict[str, Any]:
    return {name: getattr(row, name) for name in FACT_COLUMNS}


async def affinities(member_id: str) -> dict[tuple[str, str], tuple[float, float]]:
    rows = await MemberAffinity.filter(member_id=member_id)
    return {
        (row.dimension, row.value): (round(row.spend_share, 9), round(row.favourite_share, 9))
        for row in rows
    }


async def test_the_nightly_job_writes_exact_facts_and_decayed_affinities(
    client: httpx.AsyncClient, services: Services
) -> None:
    busy, quiet = await history(client)
    run = await runs.start_run(services, "member-scores", AS_OF)
    for chunk_id in await runs.pending_chunks(run.id):
        await runs.run_chunk(services, chunk_id)
    rows = {str(row.member_id): row for row in await MemberFact.all()}
    assert set(rows) == {busy, quiet}
    assert as_dict(rows[busy]) == EXPECTED_BUSY
    assert rows[busy].as_of == AS_OF
    empty = as_dict(rows[quiet])
    assert empty == {name: None if name.startswith("last_") else 0 for name in empty}
    # Spend: Hermès 100,000 today, Chanel 20,000 90 days ago (one half-life: 10,000);
    # the Rolex of 365 days ago weighs 9,000,000 / 2^(365/90), the refunded one nothing.
    rolex = 9_000_000 * 0.5 ** (365 / 90)
    spend_total = 100_000 + 10_000 + rolex
    # Favourites: Chanel 1 today, Hermès 2 one half-life ago (1).
    expected = {
        ("BRAND", "Hermès"): (100_000 / spend_total, 0.5),
        ("BRAND", "Chanel"): (10_000 / spend_total, 0.5),
        ("BRAND", "Rolex"): (rolex / spend_total, 0.0),
        ("CATEGORY", "bags"): (110_000 / spend_total, 1.0),
        ("CATEGORY", "watches"): (rolex / spend_total, 0.0),
    }
    assert await affinities(busy) == {
        k: (round(a, 9), round(b, 9)) for k, (a, b) in expected.items()
    }
    assert await affinities(quiet) == {}


async def test_on_postgresql_sql_and_python_agree_and_a_chunk_is_one_statement_per_table(
    client: httpx.AsyncClient, services: Services, backend: str
) -> None:
    await history(client)
    rules = ScoreRules()
    with sql_statements() as seen:
        await facts.refresh_range(AS_OF, LOWEST_ID, HIGHEST_ID, services.clock.now(), rules)
    writes = [s for s in seen if "INSERT" in s or "DELETE" in s]
    if backend == "postgres":
        assert len(writes) == 3, writes  # facts, affinities cleared, affinities written
        assert "member_fact" in writes[0]
    computed, shares = await facts.compute_in_python(AS_OF, LOWEST_ID, HIGHEST_ID, rules)
    for row in await MemberFact.all():
        assert as_dict(row) == vars(computed[row.member_id])
    stored = {
        (row.member_id, row.dimension, row.value): (row.spend_share, row.favourite_share)
        for row in await MemberAffinity.all()
    }
    assert stored.keys() == shares.keys()
    for key, (spend, favoured) in shares.items():
        assert stored[key] == pytest.approx((spend, favoured), rel=1e-9)


async def test_an_earlier_date_never_replaces_later_facts_and_a_rerun_changes_nothing(
    client: httpx.AsyncClient, services: Services
) -> None:
    busy, _ = await history(client)
    rules, now = ScoreRules(), services.clock.now()
    await facts.refresh_range(AS_OF, LOWEST_ID, HIGHEST_ID, now, rules)
    first = {row.member_id: (row.id, row.computed_at) for row in await MemberFact.all()}
    later = now + timedelta(hours=1)
    await facts.refresh_range(AS_OF, LOWEST_ID, HIGHEST_ID, later, rules)
    assert {row.member_id: (row.id, row.computed_at) for row in await MemberFact.all()} == first
    brands = await affinities(busy)
    await facts.refresh_range(on(100), LOWEST_ID, HIGHEST_ID, later, rules)
    row = await MemberFact.get(member_id=busy)
    assert (row.as_of, as_dict(row)) == (AS_OF, EXPECTED_BUSY)
    assert await affinities(busy) == brands


async def test_a_members_own_events_keep_their_facts_current(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, _ = await new_member(client, "13900001003")
    before = await MemberFact.get(member_id=member_id)
    assert (before.last_active_on, before.orders_30d) == (AS_OF, 0)  # the first visit
    lines = [{"brand": "Cartier", "category": "jewellery", "amountFen": 300_000}]
    response = await send_event(client, clock, paid(member_id, 3_000, at=clock.now(), lines=lines))
    assert response.status_code == 200
    row = await MemberFact.get(member_id=member_id)
    assert (row.last_purchase_on, row.orders_30d, row.spend_365d_fen) == (AS_OF, 1, 300_000)
    assert await affinities(member_id) == {
        ("BRAND", "Cartier"): (1.0, 0.0),
        ("CATEGORY", "jewellery"): (1.0, 0.0),
    }
    favourite = {
        "eventId": "evt-fav-1",
        "type": "item.favourited",
        "occurredAt": clock.now().isoformat(),
        "memberId": member_id,
        "itemId": "item-7",
        "brand": "Chanel",
        "category": "bags",
    }
    assert (await send_event(client, clock, favourite)).status_code == 200
    assert (await MemberFact.get(member_id=member_id)).favourites_90d == 1
    assert (await affinities(member_id))[("BRAND", "Chanel")] == (0.0, 1.0)


FACTS_360 = """
query ($id: ID!) {
  member360(memberId: $id) {
    facts {
      asOf lastPurchaseOn orders90d spend365dFen averageOrder365dFen likes90d
      brands { value spendShare favouriteShare }
      categories { value }
    }
  }
}
"""


async def test_the_member_360_shows_facts_and_affinities_to_care_roles_only(
    client: httpx.AsyncClient, services: Services
) -> None:
    busy, _ = await history(client)
    await facts.refresh_range(AS_OF, LOWEST_ID, HIGHEST_ID, services.clock.now(), ScoreRules())
    token = await staff_token(client, services, "facts-advisor", ["advisor"])
    body = await gql(client, FACTS_360, {"id": busy}, token=token, path="/admin/graphql")
    assert "errors" not in body, body
    seen = body["data"]["member360"]["facts"]
    assert (seen["asOf"], seen["lastPurchaseOn"]) == (AS_OF.isoformat(), AS_OF.isoformat())
    assert (seen["orders90d"], seen["spend365dFen"], seen["averageOrder365dFen"]) == (
        4,
        311_000,
        38_875,
    )
    assert seen["likes90d"] == 3
    assert [b["value"] for b in seen["brands"]] == ["Rolex", "Hermès", "Chanel"]
    assert [c["value"] for c in seen["categories"]] == ["watches", "bags"]
    other = await staff_token(client, services, "facts-auth", ["authenticator"])
    refused = await gql(client, FACTS_360, {"id": busy}, token=other, path="/admin/graphql")
    assert refused["data"]["member360"]["facts"] is None
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_nightly_job_tags_personas_from_the_facts_of_the_day(
    client: httpx.AsyncClient, services: Services, backend: str
) -> None:
    trendy, _ = await new_member(client, "13900001004")
    collector, _ = await new_member(client, "13900001005")
    plain, _ = await new_member(client, "13900001006")
    event = await _event(trendy)
    await ItemInteraction.create(
        event_id=event,
        member_id=trendy,
        kind="VIEW",
        item_id="new-arrival",
        brand="Dior",
        category="bags",
        count=30,
        day=on(29),
    )
    await order(collector, 200, 1_500_000, lines=[("Patek Philippe", "watches", 1_500_000)])
    await order(plain, 10, 300_000)
    with sql_statements() as seen:
        run = await runs.start_run(services, "member-scores", AS_OF)
        for chunk_id in await runs.pending_chunks(run.id):
            await runs.run_chunk(services, chunk_id)
    tags = {str(row.member_id): row.tags for row in await MemberScore.filter(day=AS_OF)}
    assert tags == {trendy: '["TREND_FOLLOWER"]', collector: '["COLLECTOR"]', plain: "[]"}
    if backend == "postgres":
        writes = [s for s in seen if "INSERT INTO member_score" in s]
        assert len(writes) == 1
        # The persona's codes and bounds are parameters, not part of the text.
        assert "TREND_FOLLOWER" not in writes[0].rsplit(": [", 1)[0]
    # One fewer view: no longer a trend follower, the next run says so.
    await ItemInteraction.filter(member_id=trendy).update(count=29)
    await facts.refresh_range(AS_OF, LOWEST_ID, HIGHEST_ID, services.clock.now(), ScoreRules())
    await score_range(services, AS_OF, LOWEST_ID, HIGHEST_ID)
    assert (await MemberScore.get(member_id=trendy, day=AS_OF)).tags == "[]"
