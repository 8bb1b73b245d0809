"""Points over HTTP, driven by commerce events: earning, Gold rate, referral, refunds and
debt, replays, expiry, carbon credits."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.members.models import Member
from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.points.models import LedgerEntry
from member_api.points.service import expire_points
from member_api.services import Services
from tests.commerce_support import (
    TIER_QUERY,
    days_ago,
    new_member,
    paid,
    refunded,
    send_event,
)
from tests.support import gql, op

POINTS = "{ me { points { balance debt expiringSoon { amount expiresOn } } carbonCredits } }"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


async def points(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    body = await gql(client, POINTS, token=token)
    assert "errors" not in body, body
    return dict(body["data"]["me"])


async def test_one_point_per_yuan_and_replays_credit_once(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    event = paid(member_id, 1_234, at=days_ago(clock, 1))
    for _ in range(3):
        await send_event(client, clock, event)
    state = await points(client, token)
    assert state["points"]["balance"] == 1_234
    history = await gql(client, op("PointsHistory"), {"first": 10}, token=token)
    edges = history["data"]["me"]["points"]["history"]["edges"]
    assert [(e["node"]["delta"], e["node"]["reason"]) for e in edges] == [(1_234, "SPEND")]
    assert edges[0]["node"]["expiresOn"] == "2029-11-17"


async def test_gold_earns_one_and_a_half(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")
    await Member.filter(id=member_id).update(tier="GOLD")  # set-up; tier rules tested elsewhere
    await send_event(client, clock, paid(member_id, 1_001, at=days_ago(clock, 0)))
    assert (await points(client, token))["points"]["balance"] == 1_501


async def test_referral_credits_ten_percent_once(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    referrer_id, token = await new_member(client, "13900000001")
    code = (await gql(client, "{ me { referralCode } }", token=token))["data"]["me"]
    referee_id, _ = await new_member(client, "13900000002", referralCode=code["referralCode"])
    await send_event(client, clock, paid(referee_id, 5_000, at=days_ago(clock, 0)))
    await send_event(client, clock, paid(referee_id, 9_000, at=days_ago(clock, 0)))
    assert (await points(client, token))["points"]["balance"] == 500
    reasons = await LedgerEntry.filter(account__member_id=referrer_id).values_list(
        "reason", flat=True
    )
    assert reasons == ["REFERRAL"]


async def referrer_and_referee(client: httpx.AsyncClient) -> tuple[str, str, str]:
    """(referrer id, referrer token, referee id)."""
    referrer_id, token = await new_member(client, "13900000001")
    code = (await gql(client, "{ me { referralCode } }", token=token))["data"]["me"]
    referee_id, _ = await new_member(client, "13900000002", referralCode=code["referralCode"])
    return referrer_id, token, referee_id


async def referrer_entries(referrer_id: str) -> list[tuple[str, int]]:
    rows = (
        await LedgerEntry.filter(account__member_id=referrer_id)
        .order_by("id")
        .values_list("reason", "delta")
    )
    return [(reason, delta) for reason, delta in rows]


async def test_a_refunded_first_order_takes_back_the_referral_bonus_once(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    referrer_id, token, referee_id = await referrer_and_referee(client)
    await send_event(client, clock, paid(referrer_id, 300, at=days_ago(clock, 3)))
    before = await points(client, token)
    first = paid(referee_id, 5_000, at=days_ago(clock, 2))
    await send_event(client, clock, first)
    assert (await points(client, token))["points"]["balance"] == 800
    longest_id = "evt-" + "r" * 124  # the longest event id intake accepts
    refund = refunded(referee_id, first["orderId"], 500_000, at=clock.now(), eventId=longest_id)
    assert (await send_event(client, clock, refund)).json() == {"status": "applied"}
    assert await points(client, token) == before
    assert (await send_event(client, clock, refund)).json() == {"status": "duplicate"}
    assert await points(client, token) == before
    assert await referrer_entries(referrer_id) == [
        ("SPEND", 300),
        ("REFERRAL", 500),
        ("REFERRAL_REVERSAL", -500),
    ]


async def test_a_partial_refund_takes_back_its_share_of_the_referral_bonus(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    referrer_id, token, referee_id = await referrer_and_referee(client)
    first = paid(referee_id, 5_000, at=days_ago(clock, 2))
    second = paid(referee_id, 2_000, at=days_ago(clock, 1))
    for event in (first, second):
        await send_event(client, clock, event)
    # The second order earned the referrer nothing, so its refund takes nothing back.
    await send_event(
        client, clock, refunded(referee_id, second["orderId"], 200_000, at=clock.now())
    )
    await send_event(client, clock, refunded(referee_id, first["orderId"], 200_000, at=clock.now()))
    assert (await points(client, token))["points"]["balance"] == 300
    await send_event(client, clock, refunded(referee_id, first["orderId"], 300_000, at=clock.now()))
    assert (await points(client, token))["points"]["balance"] == 0
    assert await referrer_entries(referrer_id) == [
        ("REFERRAL", 500),
        ("REFERRAL_REVERSAL", -200),
        ("REFERRAL_REVERSAL", -300),
    ]


async def test_a_spent_referral_bonus_becomes_debt_when_reversed(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    referrer_id, token, referee_id = await referrer_and_referee(client)
    first = paid(referee_id, 5_000, at=days_ago(clock, 2))
    await send_event(client, clock, first)
    await ledger.debit(referrer_id, 400, Reason.REDEMPTION, reference="r-1", at=clock.now())
    await send_event(client, clock, refunded(referee_id, first["orderId"], 500_000, at=clock.now()))
    state = (await points(client, token))["points"]
    assert (state["balance"], state["debt"]) == (-400, 400)


async def test_a_fully_refunded_first_order_is_no_successful_referral(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    referrer_id, token, referee_id = await referrer_and_referee(client)
    await Member.filter(id=referrer_id).update(tier="SILVER")  # so that Gold's conditions show
    first = paid(referee_id, 5_000, at=days_ago(clock, 2))
    await send_event(client, clock, first)
    assert await referrals(client, token) == 1
    await send_event(client, clock, refunded(referee_id, first["orderId"], 500_000, at=clock.now()))
    assert await referrals(client, token) == 0


async def referrals(client: httpx.AsyncClient, token: str) -> int:
    body = await gql(client, TIER_QUERY, token=token)
    conditions = body["data"]["me"]["tierProgress"]["conditions"]
    return int(next(c["current"] for c in conditions if c["key"] == "referrals"))


async def test_refund_takes_back_in_proportion_then_makes_debt(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    member_id, token = await new_member(client, "13900000001")
    order = paid(member_id, 1_000, at=days_ago(clock, 2))
    await send_event(client, clock, order)
    await send_event(client, clock, refunded(member_id, order["orderId"], 25_000, at=clock.now()))
    assert (await points(client, token))["points"]["balance"] == 750
    # Spend 700 of the remaining 750, then refund the rest of the order.
    await ledger.debit(member_id, 700, Reason.REDEMPTION, reference="r-1", at=clock.now())
    await send_event(client, clock, refunded(member_id, order["orderId"], 75_000, at=clock.now()))
    state = (await points(client, token))["points"]
    assert (state["balance"], state["debt"]) == (-700, 700)
    await send_event(client, clock, paid(member_id, 1_000, at=days_ago(clock, 0)))
    state = (await points(client, token))["points"]
    assert (state["balance"], state["debt"]) == (300, 0)  # the new earnings paid the debt


async def test_expiring_soon_and_the_expiry_job(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    services: Services = app.state.services
    member_id, token = await new_member(client, "13900000001")
    old = datetime(2023, 12, 20, 4, 0, tzinfo=UTC)  # expires 2026-12-20, within 90 days
    await send_event(client, clock, paid(member_id, 300, at=old))
    await send_event(client, clock, paid(member_id, 200, at=days_ago(clock, 1)))
    state = (await points(client, token))["points"]
    assert state["balance"] == 500
    assert state["expiringSoon"] == [{"amount": 300, "expiresOn": "2026-12-20"}]
    assert await expire_points(services, date(2026, 12, 19)) == 0
    assert await expire_points(services, date(2026, 12, 20)) == 1
    assert await expire_points(services, date(2026, 12, 20)) == 0  # idempotent
    clock.set(datetime(2026, 12, 20, 4, 0, tzinfo=UTC))
    login = {"input": {"phone": "13900000001", "password": "secret-pass-1"}}
    token = (await gql(client, op("Login"), login))["data"]["login"]["accessToken"]
    state = (await points(client, token))["points"]
    assert (state["balance"], state["expiringSoon"]) == (200, [])


async def test_consignments_earn_carbon_credits(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    for n in range(2):
        event = {
            "eventId": f"evt-consign-{n}",
            "type": "consignment.completed",
            "occurredAt": clock.now().isoformat(),
            "memberId": member_id,
            "consignmentId": f"c-{n}",
            "amountFen": 300_000,
        }
        await send_event(client, clock, event)
        await send_event(client, clock, event)  # replayed: credited once
    state = await points(client, token)
    assert state["carbonCredits"] == 20
    assert state["points"]["balance"] == 0
    entries = await LedgerEntry.filter(
        account__member_id=member_id, account__currency="CARBON"
    ).values_list("reason", "delta")
    assert entries == [("CARBON_CREDIT", 10), ("CARBON_CREDIT", 10)]


async def test_event_attendance_earns_fifty(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    import uuid

    from member_api.events.service import record_attendance

    member_id, token = await new_member(client, "13900000001")
    for _ in range(2):
        await record_attendance(
            app.state.services,
            member_id=uuid.UUID(member_id),
            event_ref="salon-1",
            attended_on=clock.now().date() - timedelta(days=1),
        )
    assert (await points(client, token))["points"]["balance"] == 50
