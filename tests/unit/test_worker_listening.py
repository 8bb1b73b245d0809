"""A worker whose listening ends on its own (the broker closed the consumer) listens
again instead of exiting with work still queued; cancelled from outside, it stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from taskiq import AckableMessage, AsyncBroker, BrokerMessage, TaskiqMessage

from member_api.background.worker import listen_until_stopped, start_when_reachable


class FlakyBroker(AsyncBroker):
    """Its first consumer ends at once, as one closed by a lost broker does; the next
    delivers the tasks sent to it."""

    def __init__(self) -> None:
        super().__init__()
        self.listens = 0
        self.queued: asyncio.Queue[bytes] = asyncio.Queue()

    async def kick(self, message: BrokerMessage) -> None:
        await self.queued.put(message.message)

    async def listen(self) -> AsyncGenerator[AckableMessage, None]:
        self.listens += 1
        if self.listens == 1:
            return
        while True:
            data = await self.queued.get()
            yield AckableMessage(data=data, ack=lambda: None)


async def test_a_consumer_that_ends_is_replaced_and_queued_work_still_runs() -> None:
    broker = FlakyBroker()
    ran = asyncio.Event()

    @broker.task(task_name="member_api_test.mark")
    async def mark() -> None:
        ran.set()

    await broker.startup()
    message = TaskiqMessage(
        task_id="1", task_name="member_api_test.mark", labels={}, args=[], kwargs={}
    )
    await broker.kick(broker.formatter.dumps(message))
    worker = asyncio.create_task(listen_until_stopped(broker, max_async_tasks=1, pause=0.01))
    try:
        await asyncio.wait_for(ran.wait(), timeout=10)
        assert broker.listens == 2
        assert not worker.done()
    finally:
        worker.cancel()
        with pytest.raises(asyncio.CancelledError):
            await worker
        await broker.shutdown()


class LateBroker(FlakyBroker):
    """Unreachable for its first two starts, as a broker still booting is."""

    def __init__(self) -> None:
        super().__init__()
        self.starts = 0
        self.shutdowns = 0

    async def startup(self) -> None:
        self.starts += 1
        if self.starts <= 2:
            raise ConnectionRefusedError(111, "Connect call failed")
        await super().startup()

    async def shutdown(self) -> None:
        self.shutdowns += 1
        await super().shutdown()


async def test_a_worker_waits_for_a_broker_it_cannot_reach_at_start() -> None:
    broker = LateBroker()
    await asyncio.wait_for(start_when_reachable(broker, first_pause=0.01), timeout=10)
    # Each failed start was cleaned up; the third one held.
    assert (broker.starts, broker.shutdowns) == (3, 2)
    await broker.shutdown()
