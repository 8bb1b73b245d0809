"""Deliverers racing on PostgreSQL: each message is sent once, and never before its
transaction commits."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest
from tortoise.transactions import in_transaction

from member_api.clock import FrozenClock
from member_api.outbox.domain import Channel, DeliveryOutcome, OutboxStatus
from member_api.outbox.models import OutboxMessage
from member_api.outbox.service import deliver_due, deliver_one, enqueue
from member_api.services import Services
from member_api.settings import Settings
from tests.outbox_support import queue, with_gateway
from tests.stubs import GatewayStub, gateway_stub


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
def gateway() -> Iterator[GatewayStub]:
    with gateway_stub() as stub:
        stub.hang_seconds = 0.05  # a send takes a while: the race stays open
        yield stub


@pytest.fixture
def settings(settings: Settings, gateway: GatewayStub) -> Settings:
    # Twenty deliverers at once on a busy machine: a send may wait its turn longer than
    # the half second the other outbox tests allow; what is tested here is the sharing.
    return with_gateway(settings, gateway, outbox_timeout_seconds=5.0)


async def test_twenty_deliverers_send_a_message_once(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    message = await queue(clock.now())
    passes = [deliver_due(services, now=clock.now(), limit=10) for _ in range(10)]
    fast = [deliver_one(services, message.id) for _ in range(10)]
    results = await asyncio.gather(*passes, *fast)
    attempted = sum(r for r in results[:10] if isinstance(r, int))
    outcomes = Counter(results[10:])
    assert attempted + outcomes[DeliveryOutcome.SENT] == 1
    assert len(gateway.posts()) == 1
    assert (await OutboxMessage.get(id=message.id)).status == OutboxStatus.SENT


async def test_twenty_deliverers_share_a_backlog_without_sending_twice(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    for n in range(60):
        await queue(clock.now(), recipient=f"member-{n}", key=f"backlog:{n}")
    results = await asyncio.gather(
        *(deliver_due(services, now=clock.now(), limit=5) for _ in range(20))
    )
    while leftover := await deliver_due(services, now=clock.now(), limit=100):
        results.append(leftover)
    assert sum(results) == 60
    failed = await OutboxMessage.exclude(status=OutboxStatus.SENT).values_list("last_error")
    assert failed == []
    recipients = Counter(request.json()["to"] for request in gateway.posts())
    assert recipients == Counter({f"member-{n}": 1 for n in range(60)})
    assert await OutboxMessage.filter(status=OutboxStatus.SENT).count() == 60


async def test_a_message_is_not_delivered_before_its_transaction_commits(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    queued = asyncio.Event()
    may_commit = asyncio.Event()

    async def business_change() -> None:
        async with in_transaction():
            await enqueue(
                channel=Channel.APP_PUSH,
                recipient="member-1",
                payload={"title": "after commit"},
                dedupe_key="uncommitted",
                at=clock.now(),
            )
            queued.set()
            await may_commit.wait()

    change = asyncio.create_task(business_change())
    await queued.wait()
    try:
        assert await deliver_due(services, now=clock.now(), limit=10) == 0
        assert gateway.posts() == []
    finally:
        may_commit.set()
        await change
    assert await deliver_due(services, now=clock.now(), limit=10) == 1
    assert len(gateway.posts()) == 1
