"""A worker whose listening ends on its own (the broker closed the consumer) listens
again instead of exiting with work still queued; cancelled from outside, it stops."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest
from taskiq import AckableMessage, AsyncBroker, BrokerMessage, TaskiqMessage

from member_api.background.worker import listen_until_stopped


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
