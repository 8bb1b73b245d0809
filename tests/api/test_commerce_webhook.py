"""POST /hooks/commerce: signed events applied once; every bad request changes nothing."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest

from member_api.business_calendar import business_date
from member_api.clock import FrozenClock
from member_api.commerce.domain import CommerceEventIn, EventType
from member_api.commerce.models import CommerceEvent, ItemInteraction, MemberOrder, OrderLine
from member_api.commerce.service import apply_event
from member_api.compliance.models import AmlFlag
from member_api.errors import InvalidInput
from member_api.members.models import Member
from tests.commerce_support import days_ago, new_member, paid, refunded, send_event


@pytest.fixture
async def member_id(client: httpx.AsyncClient) -> str:
    return (await new_member(client, "13900000001"))[0]


async def test_paid_then_duplicate(
    client: httpx.AsyncClient, clock: FrozenClock, member_id: str
) -> None:
    event = paid(member_id, 1200, at=days_ago(clock, 1))
    first = await send_event(client, clock, event)
    assert (first.status_code, first.json()) == (200, {"status": "applied"})
    again = await send_event(client, clock, event)
    assert (again.status_code, again.json()) == (200, {"status": "duplicate"})
    assert await CommerceEvent.all().count() == 1
    order = await MemberOrder.get(order_id=event["orderId"])
    assert (order.paid_fen, order.refunded_fen) == (120_000, 0)


@pytest.mark.parametrize(
    ("secret", "timestamp_shift", "expected"),
    [
        ("another-secret", 0, "BAD_SIGNATURE"),
        (None, 301, "STALE_TIMESTAMP"),
        (None, -301, "STALE_TIMESTAMP"),
    ],
)
async def test_bad_signature_or_stale_timestamp_is_401(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    member_id: str,
    secret: str | None,
    timestamp_shift: int,
    expected: str,
) -> None:
    event = paid(member_id, 100, at=days_ago(clock, 1))
    kwargs = {"secret": secret} if secret else {}
    stamp = int(clock.now().timestamp()) + timestamp_shift
    response = await send_event(client, clock, event, timestamp=stamp, **kwargs)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == expected
    assert await CommerceEvent.all().count() == 0


async def test_missing_signature_is_401(
    client: httpx.AsyncClient, clock: FrozenClock, member_id: str
) -> None:
    body = json.dumps(paid(member_id, 100, at=days_ago(clock, 1))).encode()
    response = await client.post("/hooks/commerce", content=body)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "SIGNATURE_MISSING"


async def test_tampered_body_is_401(
    client: httpx.AsyncClient, clock: FrozenClock, member_id: str
) -> None:
    event = paid(member_id, 100, at=days_ago(clock, 1))
    body = json.dumps(event).encode()
    stamp = str(int(clock.now().timestamp()))
    from member_api.commerce.domain import sign
    from tests.commerce_support import SECRET

    signature = sign(SECRET, stamp, body)
    tampered = body.replace(b"10000", b"99900")
    response = await client.post(
        "/hooks/commerce",
        content=tampered,
        headers={"x-member-api-timestamp": stamp, "x-member-api-signature": signature},
    )
    assert response.status_code == 401
    assert await MemberOrder.all().count() == 0


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"type": "order.shipped"}, 422, "UNKNOWN_EVENT_TYPE"),
        ({"amountFen": 0}, 422, "INVALID_AMOUNT"),
        ({"amountFen": -5}, 422, "INVALID_AMOUNT"),
        ({"amountFen": "100"}, 422, "INVALID_AMOUNT"),
        ({"memberId": "not-a-member"}, 422, "UNKNOWN_MEMBER"),
        ({"memberId": "2b7dfa59-d5c7-4dd4-8178-0b0466bf42b6"}, 404, "UNKNOWN_MEMBER"),
        ({"occurredAt": "yesterday"}, 422, "INVALID_TIMESTAMP"),
        ({"occurredAt": "2026-11-20T10:00:00"}, 422, "INVALID_TIMESTAMP"),
        ({"orderId": None}, 422, "MISSING_FIELD"),
        ({"eventId": ""}, 422, "INVALID_FIELD"),
    ],
)
async def test_invalid_events_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
    clock: FrozenClock,
    member_id: str,
    change: dict[str, object],
    status: int,
    code: str,
) -> None:
    event = {**paid(member_id, 100, at=days_ago(clock, 1)), **change}
    response = await send_event(client, clock, event)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert await CommerceEvent.all().count() == 0
    assert await MemberOrder.all().count() == 0


@pytest.mark.parametrize("body", [b"{nope", b"", b"\xff"])
async def test_malformed_json_is_400(
    client: httpx.AsyncClient, clock: FrozenClock, body: bytes
) -> None:
    response = await send_event(client, clock, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "MALFORMED_JSON"


async def test_non_object_json_is_400(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    response = await send_event(client, clock, b"[1, 2]")
    assert (response.status_code, response.json()["error"]["code"]) == (400, "MALFORMED_EVENT")


async def test_refunds(client: httpx.AsyncClient, clock: FrozenClock, member_id: str) -> None:
    order = paid(member_id, 1000, at=days_ago(clock, 2))
    await send_event(client, clock, order)
    part = await send_event(
        client, clock, refunded(member_id, order["orderId"], 60_000, at=clock.now())
    )
    assert part.json() == {"status": "applied"}
    too_much = await send_event(
        client, clock, refunded(member_id, order["orderId"], 40_001, at=clock.now())
    )
    assert (too_much.status_code, too_much.json()["error"]["code"]) == (422, "REFUND_EXCEEDS_ORDER")
    unknown = await send_event(client, clock, refunded(member_id, "o-nope", 1, at=clock.now()))
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (404, "UNKNOWN_ORDER")
    rest = await send_event(
        client, clock, refunded(member_id, order["orderId"], 40_000, at=clock.now())
    )
    assert rest.json() == {"status": "applied"}
    row = await MemberOrder.get(order_id=order["orderId"])
    assert (row.paid_fen, row.refunded_fen) == (100_000, 100_000)
    assert await CommerceEvent.all().count() == 3  # refused events are not stored


async def test_an_order_is_paid_once(
    client: httpx.AsyncClient, clock: FrozenClock, member_id: str
) -> None:
    first = paid(member_id, 100, at=days_ago(clock, 1), order_id="o-1")
    second = paid(member_id, 100, at=days_ago(clock, 1), order_id="o-1")
    assert (await send_event(client, clock, first)).status_code == 200
    response = await send_event(client, clock, second)
    assert (response.status_code, response.json()["error"]["code"]) == (409, "ORDER_ALREADY_PAID")


async def test_refund_of_another_members_order_is_unknown(
    client: httpx.AsyncClient, clock: FrozenClock, member_id: str
) -> None:
    other, _ = await new_member(client, "13900000002")
    order = paid(member_id, 100, at=days_ago(clock, 1))
    await send_event(client, clock, order)
    response = await send_event(client, clock, refunded(other, order["orderId"], 1, at=clock.now()))
    assert response.json()["error"]["code"] == "UNKNOWN_ORDER"


async def test_other_event_types_are_stored(
    client: httpx.AsyncClient, clock: FrozenClock, member_id: str
) -> None:
    consignment = {
        "eventId": "evt-c1",
        "type": "consignment.completed",
        "occurredAt": clock.now().isoformat(),
        "memberId": member_id,
        "consignmentId": "c-1",
        "amountFen": 500_000,
    }
    authentication = {
        "eventId": "evt-a1",
        "type": "authentication.completed",
        "occurredAt": clock.now().isoformat(),
        "memberId": member_id,
        "itemPublicId": "item-1",
    }
    for event in (consignment, authentication):
        assert (await send_event(client, clock, event)).json() == {"status": "applied"}
    stored = await CommerceEvent.all().order_by("event_id").values_list("type", flat=True)
    assert stored == ["authentication.completed", "consignment.completed"]


async def test_aml_flags(client: httpx.AsyncClient, clock: FrozenClock, member_id: str) -> None:
    at = clock.now()
    await send_event(client, clock, paid(member_id, 50_000, at=at))  # not over 50,000
    assert await AmlFlag.all().count() == 0
    await send_event(client, clock, paid(member_id, 50_001, at=at, order_id="big"))
    await send_event(client, clock, paid(member_id, 99_999, at=at, order_id="more"))
    await send_event(client, clock, paid(member_id, 1, at=at))
    flags = await AmlFlag.all().order_by("id").values_list("kind", "reference")
    month = at.astimezone(__import__("zoneinfo").ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
    assert ("SINGLE_ORDER", "big") in flags
    assert ("SINGLE_ORDER", "more") in flags
    assert flags.count(("MONTHLY_TOTAL", month)) == 1


@pytest.mark.parametrize(
    ("event_type", "order_id", "amount_fen", "field"),
    [
        (EventType.ORDER_PAID, None, 10_000, "orderId"),
        (EventType.ORDER_PAID, "o-1", None, "amountFen"),
        (EventType.ORDER_REFUNDED, None, 10_000, "orderId"),
        (EventType.ORDER_REFUNDED, "o-1", None, "amountFen"),
    ],
)
async def test_an_order_event_without_its_order_or_amount_is_refused(
    app: Any,
    clock: FrozenClock,
    member_id: str,
    event_type: EventType,
    order_id: str | None,
    amount_fen: int | None,
    field: str,
) -> None:
    event = CommerceEventIn(
        event_id="evt-incomplete",
        type=event_type,
        occurred_at=clock.now(),
        member_id=uuid.UUID(member_id),
        amount_fen=amount_fen,
        order_id=order_id,
    )
    with pytest.raises(InvalidInput) as refused:
        await apply_event(app.state.services, event, source="test")
    assert (refused.value.code, refused.value.field) == ("MISSING_FIELD", field)
    assert await CommerceEvent.all().count() == 0


async def test_an_order_with_lines_keeps_them_and_one_without_stays_valid(
    client: httpx.AsyncClient, clock: FrozenClock, member_id: str
) -> None:
    lines = [
        {"brand": "Hermès", "category": "bags", "amountFen": 80_000},
        {"brand": "Cartier", "category": "jewellery", "amountFen": 20_000},
    ]
    with_lines = paid(member_id, 1_000, at=days_ago(clock, 1), order_id="o-lines", lines=lines)
    without = paid(member_id, 500, at=days_ago(clock, 1), order_id="o-plain")
    for event in (with_lines, without, with_lines):
        assert (await send_event(client, clock, event)).status_code == 200
    order = await MemberOrder.get(order_id="o-lines")
    kept = await OrderLine.filter(order_id=order.id).order_by("position")
    assert [(line.brand, line.category, line.amount_fen) for line in kept] == [
        ("Hermès", "bags", 80_000),
        ("Cartier", "jewellery", 20_000),
    ]
    assert await OrderLine.all().count() == 2  # the replay added nothing
    assert await MemberOrder.filter(order_id="o-plain").exists()


async def test_bad_lines_are_refused_and_change_nothing(
    client: httpx.AsyncClient, clock: FrozenClock, member_id: str
) -> None:
    over = [{"brand": "Hermès", "category": "bags", "amountFen": 100_001}]
    response = await send_event(
        client, clock, paid(member_id, 1_000, at=days_ago(clock, 1), lines=over)
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "INVALID_LINES"
    assert await CommerceEvent.all().count() == 0
    assert await MemberOrder.all().count() == 0
    assert await OrderLine.all().count() == 0


def interaction(member_id: str, kind: str, at: datetime, **values: Any) -> dict[str, Any]:
    return {
        "eventId": values.pop("eventId", f"evt-{uuid.uuid4().hex}"),
        "type": kind,
        "occurredAt": at.isoformat(),
        "memberId": member_id,
        "itemId": "item-42",
        "brand": "Chanel",
        "category": "bags",
        **values,
    }


async def test_favourites_and_views_are_kept_once_each_and_touch_no_tier(
    client: httpx.AsyncClient, clock: FrozenClock, member_id: str
) -> None:
    at = days_ago(clock, 1)
    day = business_date(at).isoformat()
    favourite = interaction(member_id, "item.favourited", at, eventId="evt-fav")
    views = interaction(member_id, "item.viewed", at, eventId="evt-views", count=7, day=day)
    facts_before = (await Member.get(id=member_id)).facts_version
    for event in (favourite, views, views, favourite):
        assert (await send_event(client, clock, event)).status_code == 200
    kept = await ItemInteraction.all().order_by("kind").values_list("kind", "item_id", "count")
    assert kept == [("FAVOURITE", "item-42", 1), ("VIEW", "item-42", 7)]
    assert (await Member.get(id=member_id)).facts_version == facts_before
    bad = interaction(member_id, "item.viewed", at, count=0, day=day)
    response = await send_event(client, clock, bad)
    assert (response.status_code, response.json()["error"]["code"]) == (422, "INVALID_FIELD")
    assert await ItemInteraction.all().count() == 2
    assert await CommerceEvent.all().count() == 2
