"""Daily check-in over HTTP: once per Asia/Shanghai business date, 5 points, streaks."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from member_api.checkin.models import CheckIn
from member_api.clock import FrozenClock
from member_api.points import ledger
from tests.commerce_support import new_member
from tests.support import gql, op

STATUS = "{ me { checkIn { checkedInToday streak } points { balance } } }"


@pytest.fixture
def clock() -> FrozenClock:
    # 23:59:59 in Shanghai on 2028-02-28: the server clock is UTC.
    return FrozenClock(datetime(2028, 2, 28, 15, 59, 59, tzinfo=UTC))


async def check_in(client: httpx.AsyncClient, token: str) -> dict[str, object]:
    return dict((await gql(client, op("CheckIn"), token=token))["data"]["checkIn"])


async def fresh_token(client: httpx.AsyncClient) -> str:
    login = {"input": {"phone": "13900000001", "password": "secret-pass-1"}}
    return str((await gql(client, op("Login"), login))["data"]["login"]["accessToken"])


async def test_once_per_business_date_across_midnight(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _, token = await new_member(client, "13900000001")
    assert await check_in(client, token) == {
        "__typename": "CheckInSuccess",
        "pointsAwarded": 5,
        "streak": 1,
    }
    again = await check_in(client, token)
    assert (again["__typename"], again["code"]) == ("ConflictError", "ALREADY_CHECKED_IN")
    clock.advance(timedelta(seconds=1))  # 00:00:00 on the leap day, in Shanghai
    token = await fresh_token(client)
    assert (await check_in(client, token))["streak"] == 2
    status = (await gql(client, STATUS, token=token))["data"]["me"]
    assert status == {"checkIn": {"checkedInToday": True, "streak": 2}, "points": {"balance": 10}}
    clock.advance(timedelta(days=1))  # 1 March
    token = await fresh_token(client)
    status = (await gql(client, STATUS, token=token))["data"]["me"]
    assert status["checkIn"] == {"checkedInToday": False, "streak": 2}
    assert (await check_in(client, token))["streak"] == 3
    clock.advance(timedelta(days=2))  # a missed day
    token = await fresh_token(client)
    assert (await gql(client, STATUS, token=token))["data"]["me"]["checkIn"]["streak"] == 0
    assert (await check_in(client, token))["streak"] == 1


async def test_calendar_of_a_month(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    _, token = await new_member(client, "13900000001")
    await check_in(client, token)  # 2028-02-28
    clock.advance(timedelta(seconds=1))
    token = await fresh_token(client)
    await check_in(client, token)  # 2028-02-29
    clock.advance(timedelta(days=1))
    token = await fresh_token(client)
    await check_in(client, token)  # 2028-03-01
    query = "query($m: String!) { me { checkInCalendar(month: $m) } }"
    february = await gql(client, query, {"m": "2028-02"}, token=token)
    assert february["data"]["me"]["checkInCalendar"] == ["2028-02-28", "2028-02-29"]
    bad = await gql(client, query, {"m": "February"}, token=token)
    assert bad["errors"][0]["extensions"]["code"] == "INVALID_MONTH"


async def test_check_in_needs_a_member(client: httpx.AsyncClient) -> None:
    result = (await gql(client, op("CheckIn")))["data"]["checkIn"]
    assert result["code"] == "UNAUTHENTICATED"


@pytest.mark.parametrize("backend", ["postgres"])
async def test_twenty_concurrent_check_ins_give_one_and_five_points(
    client: httpx.AsyncClient, backend: str
) -> None:
    member_id, token = await new_member(client, "13900000001")
    results = await asyncio.gather(*(check_in(client, token) for _ in range(20)))
    kinds = sorted(str(r["__typename"]) for r in results)
    assert kinds == ["CheckInSuccess"] + ["ConflictError"] * 19
    assert {r["code"] for r in results if r["__typename"] == "ConflictError"} == {
        "ALREADY_CHECKED_IN"
    }
    assert await CheckIn.filter(member_id=member_id).count() == 1
    assert await ledger.balance(uuid.UUID(member_id)) == (5, 0)
