"""Redemption races on PostgreSQL: the last unit, a short balance, one key, one cancellation.

Every test checks afterwards that nothing was lost or counted twice: stock, redemption rows,
balances, and the ledger invariant (sum of entries = sum of lot remainders - debt).
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from tortoise.functions import Sum

from member_api.errors import DomainError
from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.points.models import LedgerAccount, LedgerEntry, LedgerLot
from member_api.rewards import service
from member_api.rewards.models import Redemption, Reward
from tests.commerce_support import new_member
from tests.rewards_support import create_reward, give_points, operator_token, redeem
from tests.support import gql, op


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
async def staff(client: httpx.AsyncClient, app: Any) -> str:
    return await operator_token(client, app.state.services)


async def balance(member_id: str) -> int:
    return int((await ledger.balance(uuid.UUID(member_id)))[0])


async def assert_ledger_consistent(member_id: str) -> None:
    """Sum of entries = sum of lot remainders - debt, for the member's points account."""
    account = await LedgerAccount.get(member_id=uuid.UUID(member_id), currency=ledger.POINTS)
    entries = (
        await LedgerEntry.filter(account_id=account.id)
        .annotate(total=Sum("delta"))
        .first()
        .values("total")
    )
    lots = (
        await LedgerLot.filter(account_id=account.id)
        .annotate(total=Sum("remaining"))
        .first()
        .values("total")
    )
    entry_total = int((entries or {}).get("total") or 0)
    lot_total = int((lots or {}).get("total") or 0)
    assert entry_total == lot_total - int(account.debt), (entry_total, lot_total, account.debt)
    assert await LedgerLot.filter(account_id=account.id, remaining__lt=0).count() == 0


def outcome_of(body: dict[str, Any], field: str) -> str:
    """'Redemption', an error code, or what came back instead (a masked error, say)."""
    result = (body.get("data") or {}).get(field)
    if result is None:
        return f"no result: {body.get('errors')}"
    if result["__typename"] == "Redemption":
        return "Redemption"
    return str(result.get("code") or result["__typename"])


async def test_fifty_members_racing_for_the_last_unit_have_one_winner(
    client: httpx.AsyncClient, staff: str
) -> None:
    reward = await create_reward(client, staff, pointsPrice=10, stock=1)
    assert reward["__typename"] == "Reward"
    members: list[tuple[str, str]] = []
    for n in range(50):
        member_id, token = await new_member(client, f"139{n:08d}")
        await give_points(member_id, 50)
        members.append((member_id, token))

    bodies = await asyncio.gather(
        *(
            redeem(client, token, reward["id"], 1, key=f"last-unit-{n}")
            for n, (_, token) in enumerate(members)
        )
    )

    outcomes = [outcome_of(body, "redeemReward") for body in bodies]
    assert Counter(outcomes) == {"Redemption": 1, "OUT_OF_STOCK": 49}, Counter(outcomes)
    assert (await Reward.get(id=reward["id"])).stock == 0
    rows = await Redemption.all()
    assert len(rows) == 1
    winner = next(m for m, o in zip(members, outcomes, strict=True) if o == "Redemption")
    assert str(rows[0].member_id) == winner[0]
    assert rows[0].points_spent == 10
    for member_id, _ in members:
        expected = 40 if member_id == winner[0] else 50
        assert await balance(member_id) == expected, member_id
        await assert_ledger_consistent(member_id)
    assert await LedgerEntry.filter(reason=Reason.REDEMPTION).count() == 1


async def test_concurrent_redemptions_never_overspend_a_balance(
    client: httpx.AsyncClient, staff: str, app: Any
) -> None:
    services = app.state.services
    reward = await create_reward(client, staff, pointsPrice=10, stock=100)
    member_id, _ = await new_member(client, "13900000001")
    await give_points(member_id, 100)

    async def attempt(n: int) -> str:
        try:
            await service.redeem(
                services,
                member_id=uuid.UUID(member_id),
                reward_id=uuid.UUID(reward["id"]),
                quantity=1,
                idempotency_key=f"spend-{n}",
            )
        except DomainError as exc:
            return str(exc.code)
        return "Redemption"

    results = await asyncio.gather(*(attempt(n) for n in range(20)), return_exceptions=True)
    outcomes = [r if isinstance(r, str) else f"raised {r!r}" for r in results]
    counts = Counter(outcomes)
    successes = counts["Redemption"]
    assert successes <= 10, counts
    assert counts == {"Redemption": 10, "INSUFFICIENT_POINTS": 10}, counts

    final, debt = await ledger.balance(uuid.UUID(member_id))
    assert final == 100 - 10 * successes
    assert final >= 0
    assert debt == 0
    assert await Redemption.filter(member_id=uuid.UUID(member_id)).count() == successes
    assert (await Reward.get(id=reward["id"])).stock == 100 - successes
    assert await LedgerEntry.filter(reason=Reason.REDEMPTION).count() == successes
    await assert_ledger_consistent(member_id)


async def test_concurrent_retries_with_one_key_redeem_once(
    client: httpx.AsyncClient, staff: str
) -> None:
    reward = await create_reward(client, staff, pointsPrice=10, stock=5)
    member_id, token = await new_member(client, "13900000001")
    await give_points(member_id, 100)

    bodies = await asyncio.gather(
        *(redeem(client, token, reward["id"], 1, key="one-key") for _ in range(20))
    )

    outcomes = Counter(outcome_of(body, "redeemReward") for body in bodies)
    assert outcomes == {"Redemption": 20}, outcomes
    assert all("errors" not in body for body in bodies)
    assert all(body["data"] == bodies[0]["data"] for body in bodies)
    rows = await Redemption.all()
    assert len(rows) == 1
    assert str(rows[0].id) == bodies[0]["data"]["redeemReward"]["id"]
    assert (await Reward.get(id=reward["id"])).stock == 4
    assert await balance(member_id) == 90
    assert await LedgerEntry.filter(reason=Reason.REDEMPTION).count() == 1
    await assert_ledger_consistent(member_id)


async def test_concurrent_cancellations_of_one_redemption_cancel_once(
    client: httpx.AsyncClient, staff: str
) -> None:
    reward = await create_reward(client, staff, pointsPrice=30, stock=5)
    member_id, token = await new_member(client, "13900000001")
    await give_points(member_id, 100)
    before = await balance(member_id)
    redeemed = (await redeem(client, token, reward["id"], 2, key="to-cancel"))["data"][
        "redeemReward"
    ]
    assert redeemed["__typename"] == "Redemption", redeemed
    assert await balance(member_id) == before - 60
    assert (await Reward.get(id=reward["id"])).stock == 3

    variables = {"input": {"redemptionId": redeemed["id"]}}
    bodies = await asyncio.gather(
        *(gql(client, op("CancelRedemption"), variables, token=token) for _ in range(20))
    )

    outcomes = [outcome_of(body, "cancelRedemption") for body in bodies]
    assert Counter(outcomes) == {"Redemption": 1, "NOT_CANCELLABLE": 19}, Counter(outcomes)
    winner = next(
        b["data"]["cancelRedemption"]
        for b, o in zip(bodies, outcomes, strict=True)
        if o == "Redemption"
    )
    assert (winner["id"], winner["status"]) == (redeemed["id"], "CANCELLED")
    row = await Redemption.get(id=redeemed["id"])
    assert row.status == "CANCELLED"
    assert row.cancelled_at is not None
    assert await balance(member_id) == before
    assert (await Reward.get(id=reward["id"])).stock == 5
    assert await LedgerEntry.filter(reason=Reason.CANCELLATION).count() == 1
    await assert_ledger_consistent(member_id)
