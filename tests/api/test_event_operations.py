"""Staff run events: the list with sign-ups and attendance, editing, cancelling."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.events import service as events
from member_api.events.models import EventSignup, OfflineEvent
from member_api.notifications.models import Notification
from member_api.outbox.models import OutboxMessage
from member_api.points import ledger
from tests.api.test_offline_events import ATTEND, CANCEL, create_event, sign_up
from tests.commerce_support import new_member
from tests.support import gql, op, staff_token

ADMIN = "/admin/graphql"
EVENTS = """
query($upcoming: Boolean, $cancelled: Boolean, $first: Int! = 20, $signUps: Int! = 20,
      $after: String) {
  events(upcoming: $upcoming, cancelled: $cancelled, first: $first) {
    edges { node {
      id title description city seats seatsTaken cancelledAt cancelReason attendedCount
      signUps(first: $signUps, after: $after) {
        edges { node { status attended attendanceRecordedAt member { id phoneMasked } } }
        pageInfo { hasNextPage endCursor }
      }
    } }
  }
}
"""
EVENT = "query($id: ID!) { event(id: $id) { id title seats } }"
UPDATE = """
mutation($input: UpdateEventInput!) {
  updateEvent(input: $input) {
    __typename
    ... on StaffEvent { title description city startsAt seats seatsTaken }
    ... on Error { code message }
    ... on ValidationError { field }
  }
}
"""
CANCEL_EVENT = """
mutation($id: ID!, $reason: String!) {
  cancelEvent(input: {eventId: $id, reason: $reason}) {
    __typename
    ... on EventCancelled { notified event { cancelledAt cancelReason } }
    ... on Error { code message }
  }
}
"""


@pytest.fixture
async def staff(client: httpx.AsyncClient, app: Any) -> str:
    return await staff_token(client, app.state.services, "events-op", ["operator"])


async def admin(client: httpx.AsyncClient, staff: str, query: str, **variables: Any) -> Any:
    return (await gql(client, query, variables, token=staff, path=ADMIN))["data"]


async def members(client: httpx.AsyncClient, n: int) -> list[tuple[str, str]]:
    return [await new_member(client, f"139000{k:05d}") for k in range(1, n + 1)]


async def test_events_list_their_sign_ups_with_attendance(
    client: httpx.AsyncClient, staff: str, clock: FrozenClock
) -> None:
    event = await create_event(client, staff, clock, seats=5)
    joined = await members(client, 3)
    for _, token in joined:
        await sign_up(client, token, event["id"])
    await gql(client, CANCEL, {"e": event["id"]}, token=joined[2][1])
    attend = {"e": event["id"], "m": joined[0][0]}
    await gql(client, ATTEND, attend, token=staff, path=ADMIN)

    (edge,) = (await admin(client, staff, EVENTS, signUps=2))["events"]["edges"]
    node = edge["node"]
    assert (node["seatsTaken"], node["attendedCount"], node["cancelledAt"]) == (2, 1, None)
    page = node["signUps"]
    seen = [e["node"] for e in page["edges"]]
    assert page["pageInfo"]["hasNextPage"]
    rest = await admin(client, staff, EVENTS, signUps=2, after=page["pageInfo"]["endCursor"])
    seen += [e["node"] for e in rest["events"]["edges"][0]["node"]["signUps"]["edges"]]
    by_member = {s["member"]["id"]: s for s in seen}
    assert set(by_member) == {member_id for member_id, _ in joined}
    first, second, third = (by_member[member_id] for member_id, _ in joined)
    assert (first["status"], first["attended"]) == ("ACTIVE", True)
    assert first["attendanceRecordedAt"] is not None
    assert first["member"]["phoneMasked"] == "139****0001"
    assert (second["status"], second["attended"]) == ("ACTIVE", False)
    assert (third["status"], third["attended"]) == ("CANCELLED", False)
    assert (await admin(client, staff, EVENT, id=event["id"]))["event"]["seats"] == 5
    assert (await admin(client, staff, EVENT, id="nope"))["event"] is None
    assert (await admin(client, staff, EVENTS, upcoming=False))["events"]["edges"] == []
    assert (await admin(client, staff, EVENTS, cancelled=True))["events"]["edges"] == []


async def test_an_event_is_edited_never_below_its_sign_ups(
    client: httpx.AsyncClient, staff: str, clock: FrozenClock, app: Any
) -> None:
    event = await create_event(client, staff, clock, seats=5)
    for _, token in await members(client, 3):
        await sign_up(client, token, event["id"])
    later = (clock.now() + timedelta(days=9)).isoformat()
    changes = {
        "eventId": event["id"],
        "title": " Watch Collectors evening ",
        "description": "Vintage Rolex, with a watchmaker.",
        "city": "Hangzhou",
        "startsAt": later,
        "seats": 3,
    }
    edited = (await admin(client, staff, UPDATE, input=changes))["updateEvent"]
    assert edited == {
        "__typename": "StaffEvent",
        "title": "Watch Collectors evening",
        "description": "Vintage Rolex, with a watchmaker.",
        "city": "Hangzhou",
        "startsAt": edited["startsAt"],
        "seats": 3,
        "seatsTaken": 3,
    }
    before = await OfflineEvent.filter(id=event["id"]).first().values()
    refusals = [
        ({"seats": 2}, "SEATS_BELOW_SIGN_UPS"),
        ({"seats": 0}, "INVALID_SEATS"),
        ({"seats": 100_001}, "INVALID_SEATS"),
        ({"title": "  ", "seats": 10}, "INVALID_TITLE"),
        ({"city": ""}, "INVALID_CITY"),
        ({"description": "x" * 2001}, "INVALID_DESCRIPTION"),
        ({"startsAt": clock.now().isoformat()}, "INVALID_START"),
        ({"eventId": str(uuid.uuid4())}, "UNKNOWN_EVENT"),
        ({"eventId": "nope"}, "UNKNOWN_EVENT"),
    ]
    for change, code in refusals:
        answer = await admin(client, staff, UPDATE, input={**changes, **change})
        assert answer["updateEvent"]["code"] == code, change
    assert await OfflineEvent.filter(id=event["id"]).first().values() == before
    _, late = await new_member(client, "13900000009")
    assert (await sign_up(client, late, event["id"]))["code"] == "NO_SEATS_LEFT"
    clock.advance(timedelta(days=10))
    staff = await staff_token(client, app.state.services, "events-op-2", ["operator"])
    started = await admin(client, staff, UPDATE, input={"eventId": event["id"], "seats": 9})
    assert started["updateEvent"]["code"] == "EVENT_STARTED"


async def test_cancelling_tells_seat_holders_and_keeps_attendance_points(
    client: httpx.AsyncClient, staff: str, clock: FrozenClock
) -> None:
    event = await create_event(client, staff, clock, seats=5)
    joined = await members(client, 3)
    for _, token in joined:
        await sign_up(client, token, event["id"])
    await gql(client, CANCEL, {"e": event["id"]}, token=joined[2][1])
    attendee = joined[0][0]
    await gql(client, ATTEND, {"e": event["id"], "m": attendee}, token=staff, path=ADMIN)
    assert await ledger.balance(uuid.UUID(attendee)) == (50, 0)

    for reason, code in (("  ", "REASON_REQUIRED"), ("x" * 501, "REASON_REQUIRED")):
        refused = await admin(client, staff, CANCEL_EVENT, id=event["id"], reason=reason)
        assert refused["cancelEvent"]["code"] == code
    unknown = await admin(client, staff, CANCEL_EVENT, id=str(uuid.uuid4()), reason="Flooded")
    assert unknown["cancelEvent"]["code"] == "UNKNOWN_EVENT"
    assert (await OfflineEvent.get(id=event["id"])).cancelled_at is None
    assert await Notification.filter(kind="EVENT_CANCELLED").count() == 0
    assert await OutboxMessage.all().count() == 0

    done = await admin(client, staff, CANCEL_EVENT, id=event["id"], reason="The venue flooded.")
    cancelled = done["cancelEvent"]
    assert (cancelled["notified"], cancelled["event"]["cancelReason"]) == (2, "The venue flooded.")
    told = await Notification.filter(kind="EVENT_CANCELLED").values_list("member_id", flat=True)
    assert sorted(str(m) for m in told) == sorted([joined[0][0], joined[1][0]])
    pushes = await OutboxMessage.all().values_list("channel", "recipient", "payload")
    assert sorted(r for _, r, _ in pushes) == sorted([joined[0][0], joined[1][0]])
    assert all(c == "APP_PUSH" and p["eventId"] == event["id"] for c, _, p in pushes)
    assert await ledger.balance(uuid.UUID(attendee)) == (50, 0)

    _, newcomer = await new_member(client, "13900000009")
    assert (await sign_up(client, newcomer, event["id"]))["code"] == "EVENT_CANCELLED"
    assert (await sign_up(client, joined[2][1], event["id"]))["code"] == "EVENT_CANCELLED"
    give_back = await gql(client, CANCEL, {"e": event["id"]}, token=joined[1][1])
    assert give_back["data"]["cancelEventSignUp"]["code"] == "EVENT_CANCELLED"
    late = await gql(client, ATTEND, {"e": event["id"], "m": joined[1][0]}, token=staff, path=ADMIN)
    assert late["data"]["recordEventAttendance"]["code"] == "EVENT_CANCELLED"
    again = await admin(client, staff, CANCEL_EVENT, id=event["id"], reason="Twice")
    assert again["cancelEvent"]["code"] == "EVENT_CANCELLED"
    edit = await admin(client, staff, UPDATE, input={"eventId": event["id"], "title": "New"})
    assert edit["updateEvent"]["code"] == "EVENT_CANCELLED"
    assert await Notification.filter(kind="EVENT_CANCELLED").count() == 2
    listed = await gql(client, op("UpcomingEvents"), {"first": 5}, token=newcomer)
    assert listed["data"]["events"]["edges"] == []
    staff_list = await admin(client, staff, EVENTS, cancelled=True)
    assert staff_list["events"]["edges"][0]["node"]["cancelReason"] == "The venue flooded."


async def test_a_cancellation_whose_pushes_cannot_be_queued_does_not_happen(
    client: httpx.AsyncClient,
    staff: str,
    clock: FrozenClock,
    app: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    event = await create_event(client, staff, clock, seats=5)
    for _, token in await members(client, 2):
        await sign_up(client, token, event["id"])

    async def broken(**kwargs: Any) -> bool:
        raise RuntimeError("the outbox is unavailable")

    monkeypatch.setattr(events, "enqueue", broken)
    with pytest.raises(RuntimeError, match="outbox"):
        await events.cancel_event(
            app.state.services,
            event_id=uuid.UUID(event["id"]),
            staff_id=uuid.uuid4(),
            reason="Flooded",
        )
    assert (await OfflineEvent.get(id=event["id"])).cancelled_at is None
    assert await Notification.filter(kind="EVENT_CANCELLED").count() == 0
    monkeypatch.undo()
    done = await admin(client, staff, CANCEL_EVENT, id=event["id"], reason="Flooded")
    assert done["cancelEvent"]["notified"] == 2
    assert await Notification.filter(kind="EVENT_CANCELLED").count() == 2
    assert await OutboxMessage.all().count() == 2


@pytest.mark.parametrize("backend", ["postgres"])
async def test_seats_cut_and_cancellation_racing_sign_ups(
    client: httpx.AsyncClient, staff: str, clock: FrozenClock, backend: str
) -> None:
    tokens = [token for _, token in await members(client, 12)]
    event = await create_event(client, staff, clock, seats=12)
    cut = {"eventId": event["id"], "seats": 6}
    results = await asyncio.gather(
        *(sign_up(client, t, event["id"]) for t in tokens),
        admin(client, staff, UPDATE, input=cut),
    )
    stored = await OfflineEvent.get(id=event["id"])
    assert stored.seats_taken <= stored.seats
    active = await EventSignup.filter(event_id=event["id"], status="ACTIVE").count()
    assert active == stored.seats_taken
    cut_result = results[-1]["updateEvent"]
    assert cut_result.get("code", "ok") in {"ok", "SEATS_BELOW_SIGN_UPS"}
    assert (stored.seats == 6) == ("code" not in cut_result)

    other = await create_event(client, staff, clock, seats=12)
    racing = await asyncio.gather(
        *(sign_up(client, t, other["id"]) for t in tokens),
        admin(client, staff, CANCEL_EVENT, id=other["id"], reason="Cancelled"),
    )
    holders = await EventSignup.filter(event_id=other["id"], status="ACTIVE").count()
    assert racing[-1]["cancelEvent"]["notified"] == holders
    assert {r.get("code", "EventSignup") for r in racing[:-1]} <= {"EventSignup", "EVENT_CANCELLED"}
    assert (
        await OutboxMessage.filter(dedupe_key__startswith=f"event-cancelled:{other['id']}").count()
        == holders
    )


async def test_only_operators_run_events(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock, staff: str
) -> None:
    event = await create_event(client, staff, clock)
    moderator = await staff_token(client, app.state.services, "mod", ["moderator"])
    listed = await gql(client, EVENTS, {}, token=moderator, path=ADMIN)
    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    edit = await admin(client, moderator, UPDATE, input={"eventId": event["id"], "seats": 1})
    assert edit["updateEvent"]["code"] == "FORBIDDEN"
    cancel = await admin(client, moderator, CANCEL_EVENT, id=event["id"], reason="No")
    assert cancel["cancelEvent"]["code"] == "FORBIDDEN"
    assert (await OfflineEvent.get(id=event["id"])).cancelled_at is None
