"""Tiers over HTTP: upgrades on events, progress, history, notifications, staff operations."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.services import Services
from member_api.tiers import service as tiers
from tests.commerce_support import TIER_QUERY, days_ago, new_member, paid, refunded, send_event
from tests.support import gql, op, sql_statements, staff_token

ADMIN = "/admin/graphql"


@pytest.fixture
def clock() -> FrozenClock:
    """Mid-month, so 'yesterday' is in the month the member joined."""
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


async def tier_state(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    body = await gql(client, TIER_QUERY, token=token)
    assert "errors" not in body, body
    me: dict[str, Any] = body["data"]["me"]
    return me


async def test_new_member_starts_new_with_explained_progress(client: httpx.AsyncClient) -> None:
    _, token = await new_member(client, "13900000001")
    state = await tier_state(client, token)
    assert state["tier"] == {"code": "NEW", "name": "新客", "discountRate": 1.0}
    progress = state["tierProgress"]
    assert progress["nextTier"] == {"code": "SILVER"}
    keys = {c["key"]: c for c in progress["conditions"]}
    assert keys["lifetime_spend"]["target"] == 500_000
    assert keys["lifetime_spend"]["group"] == keys["lifetime_orders"]["group"]
    assert "5,000 yuan more spend or 3 more completed order(s)" in progress["missingSummary"]
    assert progress["downgradeRisk"] is False
    assert state["tierHistory"] == [
        {
            "from": None,
            "to": {"code": "NEW"},
            "changedAt": state["tierHistory"][0]["changedAt"],
            "reason": "REGISTRATION",
        }
    ]


async def test_upgrade_is_immediate_and_notified(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await send_event(client, clock, paid(member_id, 100, at=days_ago(clock, 1)))
    assert (await tier_state(client, token))["tier"]["code"] == "NEW"
    await send_event(client, clock, paid(member_id, 4_900, at=days_ago(clock, 0)))
    state = await tier_state(client, token)
    assert state["tier"]["code"] == "SILVER"
    latest = state["tierHistory"][0]
    history = await gql(client, "{ me { tierHistory { reference } } }", token=token)
    assert history["data"]["me"]["tierHistory"][0]["reference"].startswith("evt-")
    assert (latest["from"], latest["to"], latest["reason"]) == (
        {"code": "NEW"},
        {"code": "SILVER"},
        "EVENT",
    )
    history = (await gql(client, op("TierHistory"), token=token))["data"]["me"]["tierHistory"]
    assert [(h["from"], h["to"]["code"]) for h in history] == [
        ({"code": "NEW"}, "SILVER"),
        (None, "NEW"),
    ]
    inbox = await gql(client, op("Notifications"), {"first": 10}, token=token)
    kinds = [e["node"]["kind"] for e in inbox["data"]["me"]["notifications"]["edges"]]
    assert kinds == ["TIER_UPGRADE"]


async def test_gold_on_its_own_with_a_referral(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    me = await gql(client, "{ me { referralCode } }", token=token)
    code = me["data"]["me"]["referralCode"]
    for _ in range(2):
        await send_event(client, clock, paid(member_id, 10_000, at=days_ago(clock, 200)))
    state = await tier_state(client, token)
    assert state["tier"]["code"] == "NEW"  # 20,000 yuan, AOV 10,000, but no referral yet
    referee_id, _ = await new_member(client, "13900000002", referralCode=code)
    await send_event(client, clock, paid(referee_id, 10, at=days_ago(clock, 0)))
    state = await tier_state(client, token)
    assert state["tier"] == {"code": "GOLD", "name": "金卡", "discountRate": 0.9}


async def test_refund_keeps_tier_until_review_but_shows_the_risk(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    order = paid(member_id, 5_000, at=days_ago(clock, 0))
    await send_event(client, clock, order)
    await send_event(client, clock, paid(member_id, 1, at=days_ago(clock, 0) - timedelta(days=1)))
    assert (await tier_state(client, token))["tier"]["code"] == "SILVER"
    await send_event(client, clock, refunded(member_id, order["orderId"], 101, at=clock.now()))
    state = await tier_state(client, token)
    assert state["tier"]["code"] == "SILVER"
    assert state["tierProgress"]["downgradeRisk"] is True
    retention = {c["key"]: c for c in state["tierProgress"]["retentionConditions"]}
    assert retention["lifetime_spend"] == {
        "key": "lifetime_spend",
        "met": False,
        "current": 499_999,  # 5,000 yuan + 1 yuan - 1.01 yuan refunded
        "target": 500_000,
    }


async def test_a_stale_view_never_outlives_the_event(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    member_id, token = await new_member(client, "13900000001")
    before = await tier_state(client, token)  # cached now
    assert before["tier"]["code"] == "NEW"
    await send_event(client, clock, paid(member_id, 5_000, at=days_ago(clock, 0)))
    await send_event(client, clock, paid(member_id, 1, at=days_ago(clock, 1)))
    assert (await tier_state(client, token))["tier"]["code"] == "SILVER"


async def test_a_burst_of_readers_computes_once(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Twenty readers miss the cache together: the computation holds on until every one of
    them has read the cache and missed, so all twenty certainly overlap it."""
    member_id, _ = await new_member(client, "13900000001")
    services: Services = app.state.services
    readers = 20
    calls = 0
    original = tiers.compute_view
    store = services.cache_aside._cache
    real_get = store.get
    reads = 0
    all_missed = asyncio.Event()

    async def counting_get(cache_key: str, *args: Any, **kwargs: Any) -> Any:
        nonlocal reads
        value = await real_get(cache_key, *args, **kwargs)
        if "tier-view" in cache_key:
            reads += 1
        if reads == readers:
            all_missed.set()
        return value

    async def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        async with asyncio.timeout(10):
            await all_missed.wait()
        return await original(*args, **kwargs)

    monkeypatch.setattr(store, "get", counting_get)
    monkeypatch.setattr(tiers, "compute_view", counting)

    views = await asyncio.gather(
        *(tiers.tier_view(services, uuid.UUID(member_id)) for _ in range(readers))
    )
    assert reads == readers
    assert calls == 1
    assert {v.tier for v in views if v} == {views[0].tier if views[0] else None}
    await tiers.tier_view(services, uuid.UUID(member_id))
    assert calls == 1  # served from the cache


@pytest.fixture
async def operator_token(client: httpx.AsyncClient, app: Any) -> str:
    return await staff_token(client, app.state.services, "ops", ["operator"])


RECORD = """
mutation($input: CommerceEventInput!) {
  recordCommerceEvent(input: $input) {
    __typename
    ... on CommerceEventRecorded { eventId status }
    ... on Error { code message }
  }
}
"""


async def test_staff_record_commerce_event(
    client: httpx.AsyncClient, clock: FrozenClock, operator_token: str
) -> None:
    member_id, _token = await new_member(client, "13900000001")
    variables = {
        "input": {
            "eventId": "evt-staff-1",
            "type": "ORDER_PAID",
            "occurredAt": clock.now().isoformat(),
            "memberId": member_id,
            "orderId": "o-staff-1",
            "amountFen": 500_000,
        }
    }
    first = await gql(client, RECORD, variables, token=operator_token, path=ADMIN)
    assert first["data"]["recordCommerceEvent"]["status"] == "APPLIED"
    again = await gql(client, RECORD, variables, token=operator_token, path=ADMIN)
    assert again["data"]["recordCommerceEvent"]["status"] == "DUPLICATE"
    bad = {"input": {**variables["input"], "eventId": "evt-2", "amountFen": 0}}
    refused = await gql(client, RECORD, bad, token=operator_token, path=ADMIN)
    assert refused["data"]["recordCommerceEvent"]["code"] == "INVALID_AMOUNT"
    no_token = await gql(client, RECORD, variables, path=ADMIN)
    assert no_token["data"]["recordCommerceEvent"]["code"] == "UNAUTHENTICATED"


async def test_moderator_may_not_record_events(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    mod = await staff_token(client, app.state.services, "mods", ["moderator"])
    member_id, _ = await new_member(client, "13900000001")
    variables = {
        "input": {
            "eventId": "evt-x",
            "type": "ORDER_PAID",
            "occurredAt": clock.now().isoformat(),
            "memberId": member_id,
            "orderId": "o-x",
            "amountFen": 100,
        }
    }
    result = await gql(client, RECORD, variables, token=mod, path=ADMIN)
    assert result["data"]["recordCommerceEvent"] == {
        "__typename": "ForbiddenError",
        "code": "FORBIDDEN",
        "message": "This needs the operator role.",
    }


INVITE = """
mutation($id: ID!) {
  inviteToBlackDiamond(input: {memberId: $id}) {
    __typename
    ... on MemberTier { tier { code } }
    ... on Error { code message }
  }
}
"""


async def test_black_diamond_invitation(
    client: httpx.AsyncClient, clock: FrozenClock, operator_token: str
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await send_event(client, clock, paid(member_id, 149_999, at=days_ago(clock, 10)))
    refused = await gql(client, INVITE, {"id": member_id}, token=operator_token, path=ADMIN)
    assert refused["data"]["inviteToBlackDiamond"]["code"] == "SPEND_CONDITION_NOT_MET"
    await send_event(client, clock, paid(member_id, 1, at=days_ago(clock, 10)))
    accepted = await gql(client, INVITE, {"id": member_id}, token=operator_token, path=ADMIN)
    assert accepted["data"]["inviteToBlackDiamond"]["tier"]["code"] == "BLACK_DIAMOND"
    history = (await tier_state(client, token))["tierHistory"]
    assert history[0]["reason"] == "INVITATION"
    again = await gql(client, INVITE, {"id": member_id}, token=operator_token, path=ADMIN)
    assert again["data"]["inviteToBlackDiamond"]["code"] == "ALREADY_BLACK_DIAMOND"


FORECAST = """
query($id: ID!) {
  memberTierForecast(memberId: $id) {
    current { code } atNextReview { code } reviewDate
    retentionConditions { key met }
  }
}
"""


async def test_forecast_says_what_the_review_would_do(
    client: httpx.AsyncClient, clock: FrozenClock, operator_token: str
) -> None:
    member_id, _ = await new_member(client, "13900000001")
    await send_event(client, clock, paid(member_id, 5_000, at=days_ago(clock, 0)))
    await send_event(client, clock, paid(member_id, 1, at=days_ago(clock, 1)))
    body = await gql(client, FORECAST, {"id": member_id}, token=operator_token, path=ADMIN)
    forecast = body["data"]["memberTierForecast"]
    assert forecast["current"] == {"code": "SILVER"}
    assert forecast["atNextReview"]["code"] in {"SILVER", "NEW"}
    unknown = await gql(
        client,
        FORECAST,
        {"id": "00000000-0000-0000-0000-000000000000"},
        token=operator_token,
        path=ADMIN,
    )
    assert unknown["errors"][0]["extensions"]["code"] == "UNKNOWN_MEMBER"


RIGHTS = "{ me { rights { code usage { used limit periodEnd } } } }"
USE = """
mutation($id: ID!, $code: String!) {
  recordRightUse(input: {memberId: $id, rightCode: $code, note: "spring service"}) {
    __typename
    ... on RightUsage { used limit periodEnd }
    ... on Error { code }
  }
}
"""


async def test_rights_by_tier_and_countable_usage(
    client: httpx.AsyncClient, clock: FrozenClock, operator_token: str, app: Any
) -> None:
    member_id, token = await new_member(client, "13900000001")
    rights = (await gql(client, RIGHTS, token=token))["data"]["me"]["rights"]
    assert {r["code"] for r in rights} == {
        "AUTHENTICITY_GUARANTEE",
        "FREE_PACKAGING",
        "NO_REASON_RETURN_7D",
        "FIRST_AUTHENTICATION_FREE",
    }
    refused = await gql(
        client, USE, {"id": member_id, "code": "FREE_MAINTENANCE"}, token=operator_token, path=ADMIN
    )
    assert refused["data"]["recordRightUse"]["code"] == "NOT_ENTITLED"
    from member_api.members.models import Member

    await Member.filter(id=member_id).update(tier="DIAMOND")  # set-up: tier rules tested elsewhere
    used = await gql(
        client, USE, {"id": member_id, "code": "FREE_MAINTENANCE"}, token=operator_token, path=ADMIN
    )
    assert used["data"]["recordRightUse"]["used"] == 1
    year_end = (
        f"{clock.now().astimezone(__import__('zoneinfo').ZoneInfo('Asia/Shanghai')).year}-12-31"
    )
    assert used["data"]["recordRightUse"]["periodEnd"] == year_end
    twice = await gql(
        client, USE, {"id": member_id, "code": "FREE_MAINTENANCE"}, token=operator_token, path=ADMIN
    )
    assert twice["data"]["recordRightUse"]["code"] == "RIGHT_LIMIT_REACHED"
    rights = {
        r["code"]: r for r in (await gql(client, RIGHTS, token=token))["data"]["me"]["rights"]
    }
    assert rights["FREE_MAINTENANCE"]["usage"] == {"used": 1, "limit": 1, "periodEnd": year_end}
    assert rights["DEDICATED_SERVICE"]["usage"] is None
    not_countable = await gql(
        client,
        USE,
        {"id": member_id, "code": "DEDICATED_SERVICE"},
        token=operator_token,
        path=ADMIN,
    )
    assert not_countable["data"]["recordRightUse"]["code"] == "RIGHT_NOT_COUNTABLE"


AML = """
{ amlFlags(first: 10) { edges { node { kind reference amountFen } } pageInfo { hasNextPage } } }
"""


async def test_aml_flags_for_staff(
    client: httpx.AsyncClient, clock: FrozenClock, operator_token: str
) -> None:
    member_id, _ = await new_member(client, "13900000001")
    await send_event(client, clock, paid(member_id, 60_000, at=clock.now(), order_id="o-big"))
    body = await gql(client, AML, token=operator_token, path=ADMIN)
    nodes = [e["node"] for e in body["data"]["amlFlags"]["edges"]]
    assert nodes == [{"kind": "SINGLE_ORDER", "reference": "o-big", "amountFen": 6_000_000}]
    member_token = (await new_member(client, "13900000002"))[1]
    refused = await gql(client, AML, token=member_token, path=ADMIN)
    assert refused["errors"][0]["extensions"]["code"] == "WRONG_AUDIENCE"


async def test_activity_days_come_from_member_actions(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    from member_api.members.models import ActivityDay

    member_id, _ = await new_member(client, "13900000001")  # day 1: registration
    clock.advance(timedelta(days=1))
    credentials = {"input": {"phone": "13900000001", "password": "secret-pass-1"}}
    login = await gql(client, op("Login"), credentials)  # day 2: sign-in
    clock.advance(timedelta(days=1))
    refresh = {"input": {"refreshToken": login["data"]["login"]["refreshToken"]}}
    await gql(client, op("RefreshTokens"), refresh)  # day 3: refresh
    clock.set(datetime(2026, 11, 21, 15, 55, tzinfo=UTC))  # 23:55 in Shanghai
    token = (await gql(client, op("Login"), credentials))["data"]["login"]["accessToken"]
    clock.set(datetime(2026, 11, 21, 16, 5, tzinfo=UTC))  # 00:05 the next business day
    assert (await gql(client, "{ me { id } }", token=token))["data"]["me"]["id"] == member_id
    days = ActivityDay.filter(member_id=member_id).order_by("day").values_list("day", flat=True)
    assert [d.day for d in await days] == [18, 19, 20, 21]  # a query is not an action
    for name in ("A", "B"):
        result = await gql(
            client, op("UpdateProfile"), {"input": {"displayName": name}}, token=token
        )
        assert result["data"]["updateProfile"]["displayName"] == name
    assert [d.day for d in await days] == [18, 19, 20, 21, 22]
    # Once recorded, the day is not looked up again by this process.
    with sql_statements() as statements:
        await gql(client, op("UpdateProfile"), {"input": {"displayName": "C"}}, token=token)
    assert not [s for s in statements if "activity_day" in s], statements


async def test_a_computation_racing_an_event_cannot_cache_a_stale_view(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader computes from the old facts, the event commits, then the reader stores
    its (stale) result. The next reader must still see the event's effect."""
    import uuid

    member_id, token = await new_member(client, "13900000001")
    await send_event(client, clock, paid(member_id, 4_000, at=days_ago(clock, 1)))
    services: Services = app.state.services
    facts_loaded, event_applied = asyncio.Event(), asyncio.Event()
    original = tiers.compute_view

    async def slow_reader(*args: Any, **kwargs: Any) -> Any:
        view = await original(*args, **kwargs)
        facts_loaded.set()
        await event_applied.wait()  # the event commits while this result is in flight
        return view

    monkeypatch.setattr(tiers, "compute_view", slow_reader)
    reader = asyncio.create_task(tiers.tier_view(services, uuid.UUID(member_id)))
    await facts_loaded.wait()
    await send_event(client, clock, paid(member_id, 1_000, at=days_ago(clock, 0)))
    event_applied.set()
    stale = await reader
    assert stale is not None
    assert stale.tier.value == "NEW"
    monkeypatch.setattr(tiers, "compute_view", original)
    assert (await tier_state(client, token))["tier"]["code"] == "SILVER"


async def test_money_and_points_carry_every_amount_intake_accepts(
    client: httpx.AsyncClient, clock: FrozenClock, operator_token: str
) -> None:
    """An order of 3 * 10**11 fen earns more points than a 32-bit Int holds: the member,
    the staff API and the webhook all carry it; beyond the intake limit both refuse it
    the same way, and beyond 2**53 - 1 the scalar refuses it typed."""
    member_id, token = await new_member(client, "13900000001")
    huge = 300_000_000_000
    response = await send_event(client, clock, paid(member_id, huge // 100, at=clock.now()))
    assert response.status_code == 200, response.text
    body = await gql(client, "{ me { points { balance } } }", token=token)
    assert "errors" not in body, body
    assert body["data"]["me"]["points"]["balance"] == huge // 100  # 1 point per yuan
    assert body["data"]["me"]["points"]["balance"] > 2**31

    def staff_event(event_id: str, amount: object) -> dict[str, Any]:
        return {
            "input": {
                "eventId": event_id,
                "type": "ORDER_PAID",
                "occurredAt": clock.now().isoformat(),
                "memberId": member_id,
                "orderId": f"o-{event_id}",
                "amountFen": amount,
            }
        }

    staff = await gql(client, RECORD, staff_event("e1", huge), token=operator_token, path=ADMIN)
    assert staff["data"]["recordCommerceEvent"]["status"] == "APPLIED", staff
    flags = await gql(
        client,
        "{ amlFlags { edges { node { kind amountFen } } } }",
        token=operator_token,
        path=ADMIN,
    )
    amounts = {e["node"]["amountFen"] for e in flags["data"]["amlFlags"]["edges"]}
    assert huge in amounts
    assert all(isinstance(a, int) for a in amounts)

    too_much = 10**12 + 1
    by_staff = await gql(
        client, RECORD, staff_event("e2", too_much), token=operator_token, path=ADMIN
    )
    assert by_staff["data"]["recordCommerceEvent"]["code"] == "INVALID_AMOUNT"
    by_hook = await send_event(
        client, clock, paid(member_id, 1, at=clock.now(), amountFen=too_much)
    )
    assert (by_hook.status_code, by_hook.json()["error"]["code"]) == (422, "INVALID_AMOUNT")

    unsafe = await gql(client, RECORD, staff_event("e3", 2**53), token=operator_token, path=ADMIN)
    assert unsafe["data"] is None
    assert unsafe["errors"][0]["extensions"]["code"] == "VALUE_OUT_OF_RANGE", unsafe
