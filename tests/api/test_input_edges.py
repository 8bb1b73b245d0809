"""Inputs at the edges get typed errors, never an internal error: cursors, times, amounts,
bodies; and value moves that must not open a hole (debt, expired lots, late upgrades)."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.points import ledger
from member_api.points.domain import Reason
from tests.commerce_support import new_member, paid, refunded, send_event
from tests.rewards_support import create_reward, operator_token, redeem
from tests.support import gql, op


def cursor(*values: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode()


@pytest.mark.parametrize(
    "after",
    [
        cursor("2025-01-01T00:00:00+00:00", "zzz"),
        cursor("2025-01-01T00:00:00+00:00", 10**30),
        cursor("2025-01-01T00:00:00+00:00", [1]),
        cursor("2025-01-01", 1),
        cursor("not a time", 1),
    ],
)
async def test_forged_cursors_are_invalid_cursor(client: httpx.AsyncClient, after: str) -> None:
    _, token = await new_member(client, "13900000001")
    for document, variables in (
        (op("RewardCatalogue"), {"first": 5, "after": after}),
        (op("PointsHistory"), {"first": 5, "after": after}),
        (op("MyRedemptions"), {"first": 5, "after": after}),
    ):
        body = await gql(client, document, variables, token=token)
        assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR", body


async def test_reward_times_need_an_offset(client: httpx.AsyncClient, app: Any) -> None:
    staff = await operator_token(client, app.state.services)
    naive = await create_reward(
        client, staff, activeFrom="2020-01-01T00:00:00", activeUntil="2030-01-01T00:00:00+00:00"
    )
    assert naive["code"] == "INVALID_WINDOW"
    too_dear = await create_reward(client, staff, pointsPrice=2**31 - 1)
    assert too_dear["code"] == "INVALID_PRICE"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"amountFen": 2**63}, "INVALID_AMOUNT"),
        ({"occurredAt": "9999-12-31T20:00:00-08:00"}, "INVALID_TIMESTAMP"),
        ({"occurredAt": "0001-01-01T01:00:00+08:00"}, "INVALID_TIMESTAMP"),
    ],
)
async def test_webhook_refuses_implausible_values(
    client: httpx.AsyncClient, clock: FrozenClock, change: dict[str, object], code: str
) -> None:
    member_id, _ = await new_member(client, "13900000001")
    response = await send_event(client, clock, {**paid(member_id, 1, at=clock.now()), **change})
    assert (response.status_code, response.json()["error"]["code"]) == (422, code)


async def test_webhook_refuses_a_huge_body_without_reading_it(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    response = await send_event(client, clock, b"{" + b" " * 70_000 + b"}")
    assert (response.status_code, response.json()["error"]["code"]) == (413, "BODY_TOO_LARGE")


async def test_a_cancellation_during_debt_does_not_let_the_balance_go_below_it(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    staff = await operator_token(client, app.state.services)
    member_id, token = await new_member(client, "13900000001")
    order = paid(member_id, 60, at=clock.now())
    await send_event(client, clock, order)
    reward = await create_reward(client, staff, pointsPrice=60)
    redemption = (await redeem(client, token, reward["id"]))["data"]["redeemReward"]
    await send_event(client, clock, refunded(member_id, order["orderId"], 6_000, at=clock.now()))
    assert await ledger.balance(uuid.UUID(member_id)) == (-60, 60)
    cancel = {"input": {"redemptionId": redemption["id"]}}
    await gql(client, op("CancelRedemption"), cancel, token=token)
    assert await ledger.balance(uuid.UUID(member_id)) == (0, 60)
    again = (await redeem(client, token, reward["id"]))["data"]["redeemReward"]
    assert again["code"] == "INSUFFICIENT_POINTS"
    assert await ledger.balance(uuid.UUID(member_id)) == (0, 60)


async def test_cancelling_after_expiry_keeps_the_expiry_job_working(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    services = app.state.services
    staff = await operator_token(client, services)
    member_id, token = await new_member(client, "13900000001")
    today = clock.now().date()
    await ledger.credit(
        uuid.UUID(member_id),
        100,
        Reason.SPEND,
        reference="e1",
        at=clock.now(),
        expires_on=today + timedelta(days=2),
    )
    reward = await create_reward(client, staff, pointsPrice=60)
    redemption = (await redeem(client, token, reward["id"]))["data"]["redeemReward"]
    clock.advance(timedelta(days=5))
    assert await ledger.expire_lots(today + timedelta(days=5), at=clock.now()) == 1
    login = {"input": {"phone": "13900000001", "password": "secret-pass-1"}}
    token = (await gql(client, op("Login"), login))["data"]["login"]["accessToken"]
    cancel = {"input": {"redemptionId": redemption["id"]}}
    result = await gql(client, op("CancelRedemption"), cancel, token=token)
    assert result["data"]["cancelRedemption"]["status"] == "CANCELLED"
    # The refilled lot is past its date: it expires again, and the job keeps going.
    assert await ledger.expire_lots(today + timedelta(days=5), at=clock.now()) == 1
    assert await ledger.expire_lots(today + timedelta(days=5), at=clock.now()) == 0
    assert await ledger.balance(uuid.UUID(member_id), as_of=today + timedelta(days=5)) == (0, 0)


async def test_the_review_keeps_an_upgrade_earned_on_its_date(
    client: httpx.AsyncClient, app: Any
) -> None:
    from member_api.members.models import Member
    from member_api.tiers.review import run_review

    services = app.state.services
    clock: FrozenClock = services.clock
    clock.set(datetime(2026, 12, 20, 2, 0, tzinfo=UTC))
    member_id, _ = await new_member(client, "13900000001")
    for day in (28, 29):  # two small orders: not yet Silver on the day before the review
        clock.set(datetime(2026, 12, day, 2, 0, tzinfo=UTC))
        await send_event(client, clock, paid(member_id, 100, at=clock.now()))
    clock.set(datetime(2027, 1, 1, 2, 0, tzinfo=UTC))  # review day, 10:00 in Shanghai
    await send_event(client, clock, paid(member_id, 5_000, at=clock.now()))
    assert (await Member.get(id=member_id)).tier == "SILVER"
    await run_review(services, date(2027, 1, 1))
    assert (await Member.get(id=member_id)).tier == "SILVER"


async def test_webhook_refuses_unstorable_text_and_deep_json_typed_on_every_backend(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    """NUL and lone surrogates in any field, and JSON nested 30,000 deep: a typed 400 and
    nothing applied, on SQLite (which would store a NUL) as on PostgreSQL (which would not)."""
    from member_api.commerce.models import CommerceEvent

    member_id, token = await new_member(client, "13900000001")
    authentication = {
        "eventId": "evt-auth",
        "type": "authentication.completed",
        "occurredAt": clock.now().isoformat(),
        "memberId": member_id,
        "itemPublicId": "item-1",
    }
    bodies = [
        json.dumps(paid(member_id, 100, at=clock.now(), eventId="e\x00")).encode(),
        json.dumps(paid(member_id, 100, at=clock.now(), order_id="o\x00")).encode(),
        json.dumps({**authentication, "itemPublicId": "item\x00"}).encode(),
        json.dumps(paid(member_id, 100, at=clock.now(), order_id="o-1")).encode()[:-1]
        + b', "note": "\\ud800"}',
    ]
    for body in bodies:
        response = await send_event(client, clock, body)
        assert response.status_code == 400, response.text
        assert response.json()["error"]["code"] in {"INVALID_CHARACTERS", "MALFORMED_JSON"}
    deep = b'{"a": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"
    response = await send_event(client, clock, deep)
    assert (response.status_code, response.json()["error"]["code"]) == (400, "MALFORMED_JSON")
    assert await CommerceEvent.all().count() == 0
    balance = await gql(client, "{ me { points { balance } } }", token=token)
    assert balance["data"]["me"]["points"]["balance"] == 0
