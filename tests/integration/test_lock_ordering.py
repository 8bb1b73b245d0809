"""On PostgreSQL: a member's redemptions, commerce events and activity running at once
neither deadlock nor fail."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from member_api.commerce.domain import parse_event
from member_api.commerce.service import apply_event
from member_api.errors import DomainError
from member_api.rewards import service as rewards
from member_api.tiers.service import record_activity
from tests.commerce_support import new_member, paid
from tests.rewards_support import create_reward, give_points, operator_token


@pytest.fixture
def backend() -> str:
    return "postgres"


async def test_redemptions_and_commerce_events_for_one_member(
    client: httpx.AsyncClient, app: Any
) -> None:
    services = app.state.services
    staff = await operator_token(client, services)
    reward = await create_reward(client, staff, pointsPrice=1, stock=1000)
    member_id, _ = await new_member(client, "13900000001")
    await give_points(member_id, 1000)
    member = uuid.UUID(member_id)
    now = services.clock.now()

    async def redeem(n: int) -> str:
        try:
            await rewards.redeem(
                services,
                member_id=member,
                reward_id=uuid.UUID(reward["id"]),
                quantity=1,
                idempotency_key=f"k-{n}",
            )
        except DomainError as exc:
            return exc.code
        return "ok"

    async def pay(n: int) -> str:
        return await apply_event(
            services, parse_event(paid(member_id, 10 + n, at=now), now=now), source="t"
        )

    results = await asyncio.gather(*(redeem(n) for n in range(30)), *(pay(n) for n in range(30)))
    assert results.count("ok") == 30
    assert results.count("applied") == 30


async def test_first_activity_of_the_day_during_a_commerce_event(
    client: httpx.AsyncClient, app: Any
) -> None:
    services = app.state.services
    members = [uuid.UUID((await new_member(client, f"1390000{n:04d}"))[0]) for n in range(20)]
    from member_api.members.models import ActivityDay

    await ActivityDay.all().delete()  # registration marked today; start from nothing
    now = services.clock.now()
    await asyncio.gather(
        *(
            apply_event(services, parse_event(paid(str(m), 100, at=now), now=now), source="t")
            for m in members
        ),
        *(record_activity(services, m) for m in members),
    )
    assert await ActivityDay.all().count() == 20


async def test_fifty_service_calls_for_the_last_unit_have_one_winner(
    client: httpx.AsyncClient, app: Any
) -> None:
    from member_api.points import ledger
    from member_api.rewards.models import Redemption, Reward

    services = app.state.services
    staff = await operator_token(client, services)
    reward = await create_reward(client, staff, pointsPrice=10, stock=1)
    members = []
    for n in range(50):
        member_id, _ = await new_member(client, f"1391000{n:04d}")
        await give_points(member_id, 10)
        members.append(uuid.UUID(member_id))

    async def attempt(member: uuid.UUID) -> str:
        try:
            await rewards.redeem(
                services,
                member_id=member,
                reward_id=uuid.UUID(reward["id"]),
                quantity=1,
                idempotency_key="k",
            )
        except DomainError as exc:
            return exc.code
        return "ok"

    results = await asyncio.gather(*(attempt(m) for m in members))
    assert sorted(results) == ["OUT_OF_STOCK"] * 49 + ["ok"]
    assert (await Reward.get(id=reward["id"])).stock == 0
    assert await Redemption.all().count() == 1
    balances = [(await ledger.balance(m))[0] for m in members]
    assert sorted(balances) == [0] + [10] * 49
