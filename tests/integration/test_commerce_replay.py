"""Commerce events replayed, concurrently, on PostgreSQL: applied once, whatever the order."""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections import Counter
from collections.abc import Awaitable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.commerce.domain import parse_event
from member_api.commerce.models import CommerceEvent, MemberOrder
from member_api.commerce.service import apply_event
from member_api.compliance.models import AmlFlag
from member_api.members.models import Member
from member_api.services import Services
from member_api.tiers.models import TierChange
from tests.commerce_support import TIER_QUERY, new_member, paid, refunded, send_event
from tests.support import gql

T = TypeVar("T")
MEMBERS = 20
EVENTS = 1_000
PAID_EVENTS = 600
AMOUNTS_YUAN = (99, 450, 1_200, 3_000, 8_500, 9_000, 25_000, 60_000)


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
def clock() -> FrozenClock:
    # Mid-month: on the first business day of a month, members who join that day have
    # one month of activity to average, too little for Silver, and no tier would change.
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


async def gather_limited(calls: list[Awaitable[T]], limit: int = 8) -> list[T]:
    """Await every call, at most `limit` at a time, results in call order."""
    gate = asyncio.Semaphore(limit)

    async def run(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return await asyncio.gather(*(run(call) for call in calls))


async def apply_all(services: Services, events: list[dict[str, Any]]) -> list[str]:
    return await gather_limited(
        [
            apply_event(services, parse_event(event, now=services.clock.now()), source="test")
            for event in events
        ]
    )


def plan_events(
    member_ids: list[str], clock: FrozenClock
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """600 paid orders, then 400 partial refunds of them (never more than was paid)."""
    rng = random.Random(20261123)
    now = clock.now()
    paid_events = [
        paid(
            rng.choice(member_ids),
            rng.choice(AMOUNTS_YUAN),
            at=now - timedelta(days=rng.randint(0, 300), minutes=rng.randint(0, 1_439)),
        )
        for _ in range(PAID_EVENTS)
    ]
    left = {event["orderId"]: event["amountFen"] for event in paid_events}
    refund_events = []
    while len(refund_events) < EVENTS - PAID_EVENTS:
        order = rng.choice(paid_events)
        remaining = left[order["orderId"]]
        if remaining == 0:
            continue
        amount = rng.randint(1, max(1, remaining // 2)) if remaining > 1 else 1
        left[order["orderId"]] -= amount
        paid_at = datetime.fromisoformat(order["occurredAt"])
        refund_at = min(now, paid_at + timedelta(days=rng.randint(0, 20)))
        refund_events.append(refunded(order["memberId"], order["orderId"], amount, at=refund_at))
    return paid_events, refund_events


async def snapshot(member_ids: list[str]) -> dict[str, dict[str, Any]]:
    """Everything an event can change, per member (facts_version left out)."""
    state: dict[str, dict[str, Any]] = {}
    for member_id in member_ids:
        member = await Member.get(id=member_id)
        orders = await MemberOrder.filter(member_id=member_id).values_list(
            "order_id", "paid_fen", "refunded_fen"
        )
        flags = await AmlFlag.filter(member_id=member_id).values_list(
            "kind", "reference", "amount_fen", "raised_at"
        )
        state[member_id] = {
            "tier": member.tier,
            "tier_since": member.tier_since,
            "orders": sorted(tuple(row) for row in orders),
            "events": await CommerceEvent.filter(member_id=member_id).count(),
            "tier_changes": await TierChange.filter(member_id=member_id).count(),
            "aml_flags": sorted(tuple(row) for row in flags),
        }
    return state


async def test_replaying_every_event_concurrently_changes_nothing(
    app: Any, client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    services: Services = app.state.services
    member_ids = [(await new_member(client, f"1390000{index:04d}"))[0] for index in range(MEMBERS)]
    paid_events, refund_events = plan_events(member_ids, clock)
    assert len(paid_events) + len(refund_events) == EVENTS

    # First pass: every order, then (once every order exists) every refund.
    first = await apply_all(services, paid_events)
    first += await apply_all(services, refund_events)
    assert Counter(first) == {"applied": EVENTS}

    before = await snapshot(member_ids)
    expected_orders: dict[str, list[tuple[str, int, int]]] = {m: [] for m in member_ids}
    refunds = Counter[str]()
    for event in refund_events:
        refunds[event["orderId"]] += event["amountFen"]
    for event in paid_events:
        row = (event["orderId"], event["amountFen"], refunds[event["orderId"]])
        expected_orders[event["memberId"]].append(row)
    assert {m: s["orders"] for m, s in before.items()} == {
        m: sorted(rows) for m, rows in expected_orders.items()
    }
    assert sum(s["events"] for s in before.values()) == EVENTS
    assert any(s["aml_flags"] for s in before.values())  # 60,000-yuan orders are flagged
    assert any(s["tier"] != "NEW" for s in before.values())

    # Replay: all 1,000 again, shuffled, 8 at a time.
    replay = paid_events + refund_events
    random.Random(7).shuffle(replay)
    again = await apply_all(services, replay)
    assert Counter(again) == {"duplicate": EVENTS}
    assert await snapshot(member_ids) == before
    assert await CommerceEvent.all().count() == EVENTS


async def test_concurrent_events_for_one_member_end_in_the_right_tier(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900001000")
    code = (await Member.get(id=member_id)).referral_code
    referee_id, _ = await new_member(client, "13900001001", referralCode=code)
    assert (await Member.get(id=referee_id)).referred_by_id == uuid.UUID(member_id)

    # 12 orders of 9,000 yuan: 108,000 yuan in 12 months, average 9,000 (> 8,000);
    # the referee's first order (the successful referral) races with them.
    events = [
        paid(member_id, 9_000, at=clock.now() - timedelta(days=25 * index, hours=1))
        for index in range(12)
    ]
    events.append(paid(referee_id, 150, at=clock.now() - timedelta(hours=2)))
    responses = await asyncio.gather(*(send_event(client, clock, event) for event in events))
    assert [r.status_code for r in responses] == [200] * len(events), [r.text for r in responses]
    assert {r.json()["status"] for r in responses} == {"applied"}
    assert await MemberOrder.filter(member_id=member_id).count() == 12

    me = (await gql(client, TIER_QUERY, token=token))["data"]["me"]
    assert me["tier"]["code"] == "GOLD"
    history = me["tierHistory"]  # newest first
    transitions = [(h["from"] and h["from"]["code"], h["to"]["code"]) for h in history]
    assert len(transitions) == len(set(transitions)), transitions
    assert transitions[0][1] == "GOLD"
    assert transitions[-1] == (None, "NEW")
    for newer, older in itertools.pairwise(transitions):
        assert newer[0] == older[1], transitions  # each change starts where the last ended
    assert await TierChange.filter(member_id=member_id, to_tier="GOLD").count() == 1


async def test_one_event_sent_ten_times_at_once_is_applied_once(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, _ = await new_member(client, "13900002000")
    event = paid(member_id, 1_234, at=clock.now() - timedelta(days=3))
    responses = await asyncio.gather(*(send_event(client, clock, event) for _ in range(10)))
    assert [r.status_code for r in responses] == [200] * 10, [r.text for r in responses]
    assert Counter(r.json()["status"] for r in responses) == {"applied": 1, "duplicate": 9}
    orders = await MemberOrder.filter(member_id=member_id).values_list("order_id", "paid_fen")
    assert [tuple(row) for row in orders] == [(event["orderId"], 123_400)]
    assert await CommerceEvent.filter(event_id=event["eventId"]).count() == 1
