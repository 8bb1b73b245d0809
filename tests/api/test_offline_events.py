"""Offline events over HTTP: seats, one per member, cancellation, tier gates, attendance."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.events.models import EventSignup, OfflineEvent
from member_api.members.models import Member
from member_api.points import ledger
from tests.commerce_support import new_member
from tests.support import gql, op, staff_token

ADMIN = "/admin/graphql"
CREATE = """
mutation($input: CreateEventInput!) {
  createEvent(input: $input) { __typename ... on Event { id seatsLeft } ... on Error { code } }
}
"""
ATTEND = """
mutation($e: ID!, $m: ID!) {
  recordEventAttendance(input: {eventId: $e, memberId: $m}) {
    __typename ... on AttendanceRecorded { recorded } ... on Error { code }
  }
}
"""
CANCEL = """
mutation($e: ID!) {
  cancelEventSignUp(input: {eventId: $e}) {
    __typename ... on EventSignup { status event { seatsLeft } } ... on Error { code }
  }
}
"""


@pytest.fixture
async def staff(client: httpx.AsyncClient, app: Any) -> str:
    return await staff_token(client, app.state.services, "events-op", ["operator"])


async def create_event(
    client: httpx.AsyncClient, staff: str, clock: FrozenClock, **fields: Any
) -> dict[str, Any]:
    values = {
        "title": "Bag Study Club salon",
        "city": "Shanghai",
        "startsAt": (clock.now() + timedelta(days=7)).isoformat(),
        "seats": 10,
        **fields,
    }
    body = await gql(client, CREATE, {"input": values}, token=staff, path=ADMIN)
    return dict(body["data"]["createEvent"])


async def sign_up(client: httpx.AsyncClient, token: str, event_id: str) -> dict[str, Any]:
    body = await gql(client, op("SignUpForEvent"), {"input": {"eventId": event_id}}, token=token)
    return dict(body["data"]["signUpForEvent"])


async def test_sign_up_cancel_and_list(
    client: httpx.AsyncClient, staff: str, clock: FrozenClock
) -> None:
    event = await create_event(client, staff, clock, seats=2)
    _, token = await new_member(client, "13900000001")
    signed = await sign_up(client, token, event["id"])
    assert (signed["__typename"], signed["event"]["seatsLeft"]) == ("EventSignup", 1)
    twice = await sign_up(client, token, event["id"])
    assert twice["code"] == "ALREADY_SIGNED_UP"
    listed = await gql(client, op("UpcomingEvents"), {"first": 5}, token=token)
    node = listed["data"]["events"]["edges"][0]["node"]
    assert (node["seatsLeft"], node["signedUpByMe"], node["city"]) == (1, True, "Shanghai")
    cancelled = (await gql(client, CANCEL, {"e": event["id"]}, token=token))["data"]
    assert cancelled["cancelEventSignUp"]["event"]["seatsLeft"] == 2
    again = (await gql(client, CANCEL, {"e": event["id"]}, token=token))["data"]
    assert again["cancelEventSignUp"]["code"] == "NOT_SIGNED_UP"
    assert (await sign_up(client, token, event["id"]))["event"]["seatsLeft"] == 1


async def test_gates_and_bad_input(
    client: httpx.AsyncClient, staff: str, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    gold_only = await create_event(client, staff, clock, minTier="GOLD")
    assert (await sign_up(client, token, gold_only["id"]))["code"] == "TIER_TOO_LOW"
    full = await create_event(client, staff, clock, seats=1)
    _, other = await new_member(client, "13900000002")
    await sign_up(client, other, full["id"])
    assert (await sign_up(client, token, full["id"]))["code"] == "NO_SEATS_LEFT"
    assert (await sign_up(client, token, str(uuid.uuid4())))["code"] == "UNKNOWN_EVENT"
    assert (await sign_up(client, token, "nope"))["code"] == "UNKNOWN_EVENT"
    past = await create_event(client, staff, clock, startsAt=clock.now().isoformat())
    assert past["code"] == "INVALID_START"
    assert (await create_event(client, staff, clock, seats=0))["code"] == "INVALID_SEATS"
    soon = await create_event(client, staff, clock)
    clock.advance(timedelta(days=8))
    login = {"input": {"phone": "13900000001", "password": "secret-pass-1"}}
    token = (await gql(client, op("Login"), login))["data"]["login"]["accessToken"]
    assert (await sign_up(client, token, soon["id"]))["code"] == "EVENT_STARTED"
    assert await EventSignup.filter(member_id=member_id).count() == 0


async def test_attendance_earns_fifty_points_once_and_counts_toward_diamond(
    client: httpx.AsyncClient, staff: str, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    event = await create_event(client, staff, clock)
    no_seat = await gql(client, ATTEND, {"e": event["id"], "m": member_id}, token=staff, path=ADMIN)
    assert no_seat["data"]["recordEventAttendance"]["code"] == "NOT_SIGNED_UP"
    await sign_up(client, token, event["id"])
    for expected in (True, False):
        body = await gql(
            client, ATTEND, {"e": event["id"], "m": member_id}, token=staff, path=ADMIN
        )
        assert body["data"]["recordEventAttendance"] == {
            "__typename": "AttendanceRecorded",
            "recorded": expected,
        }
    assert await ledger.balance(uuid.UUID(member_id)) == (50, 0)
    assert (await Member.get(id=member_id)).facts_version > 0


@pytest.mark.parametrize("backend", ["postgres"])
async def test_thirty_members_racing_for_ten_seats(
    client: httpx.AsyncClient, staff: str, clock: FrozenClock, backend: str
) -> None:
    event = await create_event(client, staff, clock, seats=10)
    tokens = [(await new_member(client, f"1390000{n:04d}"))[1] for n in range(30)]
    results = await asyncio.gather(*(sign_up(client, t, event["id"]) for t in tokens))
    outcome = sorted(r.get("code", r["__typename"]) for r in results)
    assert outcome == ["EventSignup"] * 10 + ["NO_SEATS_LEFT"] * 20
    stored = await OfflineEvent.get(id=event["id"])
    assert stored.seats_taken == 10
    assert await EventSignup.filter(event_id=event["id"], status="ACTIVE").count() == 10
    again = await asyncio.gather(*(sign_up(client, tokens[0], event["id"]) for _ in range(10)))
    assert all(r.get("code") in {"ALREADY_SIGNED_UP", "NO_SEATS_LEFT"} for r in again)
    assert (await OfflineEvent.get(id=event["id"])).seats_taken == 10
