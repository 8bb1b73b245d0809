"""The whole MemberCentre operation over HTTP, and badges that are earned once."""

from __future__ import annotations

import dataclasses
import re
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from member_api.badges.models import Badge
from member_api.clock import FrozenClock
from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.settings import Settings
from tests.commerce_support import new_member, paid, send_event
from tests.support import gql, op, sql_statements


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The computed answer is what these tests count: stored answers off."""
    return dataclasses.replace(settings, response_cache_size=0)


def authentication(member_id: str, n: int, clock: FrozenClock) -> dict[str, object]:
    return {
        "eventId": f"evt-auth-{n}",
        "type": "authentication.completed",
        "occurredAt": clock.now().isoformat(),
        "memberId": member_id,
        "itemPublicId": f"item-{n}",
    }


async def test_member_centre_document_works(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")
    await send_event(client, clock, paid(member_id, 5_000, at=clock.now() - timedelta(days=1)))
    await send_event(client, clock, paid(member_id, 10, at=clock.now()))
    await gql(client, op("CheckIn"), token=token)
    await send_event(client, clock, authentication(member_id, 1, clock))
    body = await gql(client, op("MemberCentre"), token=token)
    assert "errors" not in body, body
    me = body["data"]["me"]
    assert me["tier"]["code"] == "SILVER"
    assert me["tierProgress"]["nextTier"] == {"code": "GOLD", "name": "金卡"}
    assert me["points"]["balance"] == 5_010 + 5 + 50  # orders, check-in, first-authentication task
    assert me["carbonCredits"] == 0
    assert me["checkIn"] == {"checkedInToday": True, "streak": 1}
    assert [b["code"] for b in me["badges"]] == ["FIRST_AUTHENTICATION"]
    assert {r["code"] for r in me["rights"]} >= {"PRIORITY_AUTHENTICATION", "BIRTHDAY_DISCOUNT"}


async def test_authentication_badges_are_earned_once(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, _ = await new_member(client, "13900000001")
    for n in range(1, 11):
        await send_event(client, clock, authentication(member_id, n, clock))
        await send_event(client, clock, authentication(member_id, n, clock))  # replayed
    codes = await Badge.filter(member_id=member_id).order_by("id").values_list("code", flat=True)
    assert codes == ["FIRST_AUTHENTICATION", "AUTHENTICATIONS_10"]


async def test_a_seven_day_streak_earns_its_badge(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, _ = await new_member(client, "13900000001")
    login = {"input": {"phone": "13900000001", "password": "secret-pass-1"}}
    for _ in range(7):
        token = (await gql(client, op("Login"), login))["data"]["login"]["accessToken"]
        assert (await gql(client, op("CheckIn"), token=token))["data"]["checkIn"]["streak"]
        clock.advance(timedelta(days=1))
    codes = await Badge.filter(member_id=member_id).values_list("code", flat=True)
    assert list(codes) == ["STREAK_7"]


async def test_member_centre_reads_the_member_once(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """The tier and its progress come from the row `me` read and one shared view."""
    _, token = await new_member(client, "13900000009")
    await gql(client, op("MemberCentre"), token=token)  # the tier view is now cached
    with sql_statements() as statements:
        body = await gql(client, op("MemberCentre"), token=token)
    assert "errors" not in body, body
    member_reads = [s for s in statements if re.search(r'FROM "member"\s', s)]
    assert len(member_reads) == 1, member_reads
    assert len(statements) <= 3, statements


async def test_a_busy_member_centre_takes_three_statements(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """A member with orders, points expiring soon, a used right, a badge and a streak.

    MemberCentre is a query: it records no activity and writes nothing, on the day's
    first request or any other. What is counted is a repeat request of a warm process,
    whose tier view comes from the cache; the first one computes and caches the view."""
    clock.advance(timedelta(days=-1))
    member_id, token = await new_member(client, "13900000009")
    await gql(client, op("CheckIn"), token=token)
    clock.advance(timedelta(days=1))
    login = {"input": {"phone": "13900000009", "password": "secret-pass-1"}}
    token = (await gql(client, op("Login"), login))["data"]["login"]["accessToken"]
    await gql(client, op("CheckIn"), token=token)
    await send_event(client, clock, paid(member_id, 5_000, at=clock.now() - timedelta(hours=1)))
    await ledger.credit(
        uuid.UUID(member_id),
        300,
        Reason.ADJUSTMENT,
        reference="goodwill-1",
        at=clock.now() - timedelta(days=2),
        expires_on=(clock.now() + timedelta(days=20)).date(),
    )
    await send_event(client, clock, authentication(member_id, 1, clock))
    first = await gql(client, op("MemberCentre"), token=token)
    with sql_statements() as statements:
        body = await gql(client, op("MemberCentre"), token=token)
    assert body == first
    assert len(statements) <= 3, statements
    assert not [s for s in statements if not s.lstrip().upper().startswith("SELECT")]
    me = body["data"]["me"]
    # The same numbers as the ledger's own reads.
    today = clock.now().date()
    balance, _ = await ledger.balance(uuid.UUID(member_id), as_of=today)
    assert me["points"]["balance"] == balance > 5_300
    expiring = await ledger.expiring(uuid.UUID(member_id), today, today + timedelta(days=90))
    assert expiring == [(today + timedelta(days=20), 300)]
    assert me["points"]["expiringSoon"] == [{"amount": 300, "expiresOn": "2026-12-08"}]
    assert me["checkIn"] == {"checkedInToday": True, "streak": 2}
    assert [b["code"] for b in me["badges"]] == ["FIRST_AUTHENTICATION"]
    used = {r["code"]: r["usage"] for r in me["rights"]}["FIRST_AUTHENTICATION_FREE"]
    assert used == {"used": 1, "limit": 1, "periodEnd": "9999-12-31"}


async def test_member_fields_come_through_fragments_aliases_and_mutations(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """Fields read with the member are found under fragments and aliases, and a mutation
    that returns the member shows them too."""
    member_id, token = await new_member(client, "13900000009")
    await send_event(client, clock, paid(member_id, 5_000, at=clock.now() - timedelta(hours=1)))
    await gql(client, op("CheckIn"), token=token)
    plain = (await gql(client, op("MemberCentre"), token=token))["data"]["me"]
    query = """
        query { me { ...Parts ... on Member { streak: checkIn { streak } } } }
        fragment Parts on Member { tier { code } wallet: points { balance } badges { code } }
    """
    me = (await gql(client, query, token=token))["data"]["me"]
    assert me == {
        "tier": {"code": plain["tier"]["code"]},
        "wallet": {"balance": plain["points"]["balance"]},
        "badges": plain["badges"],
        "streak": {"streak": 1},
    }
    mutation = """
        mutation { updateProfile(input: {displayName: "Lin"}) {
            ... on Member { displayName tier { code } points { balance } checkIn { streak }
                            carbonCredits rights { code usage { used } } }
        } }
    """
    changed = (await gql(client, mutation, token=token))["data"]["updateProfile"]
    assert changed == {
        "displayName": "Lin",
        "tier": {"code": plain["tier"]["code"]},
        "points": {"balance": plain["points"]["balance"]},
        "checkIn": {"streak": 1},
        "carbonCredits": plain["carbonCredits"],
        "rights": [
            {"code": r["code"], "usage": r["usage"] and {"used": r["usage"]["used"]}}
            for r in plain["rights"]
        ],
    }
