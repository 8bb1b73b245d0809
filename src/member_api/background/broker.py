"""The task queue: taskiq, on RabbitMQ in production (`BROKER_URL=amqp://...`), in
process otherwise. Tasks are declared once (shared tasks) and sent through whichever
broker the process set up; workers find the services on the broker's state."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from taskiq import AsyncBroker, InMemoryBroker, TaskiqEvents, TaskiqState
from taskiq.brokers.shared_broker import async_shared_broker
from taskiq_aio_pika import AioPikaBroker, Exchange, Queue

from member_api import db
from member_api.intelligence.segment import SEGMENTER
from member_api.services import Services, build_services
from member_api.settings import Settings

logger = logging.getLogger(__name__)
# A message redelivered this often (its worker died each time) goes to the dead letters.
DELIVERY_LIMIT = 5


def is_in_process(settings: Settings) -> bool:
    return not settings.broker_url or settings.broker_url.startswith("memory://")


def make_broker(settings: Settings, *, prefetch: int = 1) -> AsyncBroker:
    """The broker for these settings, made the one shared tasks are sent through. A
    worker takes `prefetch` messages at a time: as many as it runs at once, so it holds
    no message it has not started (one that dies returns only those it was running)."""
    broker: AsyncBroker
    if is_in_process(settings):
        broker = InMemoryBroker()
    else:
        broker = AioPikaBroker(
            settings.broker_url,
            exchange=Exchange(name=settings.broker_queue),
            # Quorum queues: a message stays until a worker acknowledges it after the
            # task ran, so a worker that dies mid-task leaves it for another.
            task_queues=[
                Queue(
                    name=f"{settings.broker_queue}.tasks",
                    arguments={"x-delivery-limit": DELIVERY_LIMIT},
                )
            ],
            dead_letter_queue=Queue(name=f"{settings.broker_queue}.dead-letters"),
            qos=prefetch,
        )
    async_shared_broker.default_broker(broker)
    return broker


def attach_services(broker: AsyncBroker, services: Services) -> None:
    """Tasks run in this process use these services (the server's, in process)."""
    broker.state.services = services


def open_worker_services(broker: AsyncBroker, settings: Settings) -> None:
    """A worker process opens the ORM and its services when it starts, closes at the end."""

    @broker.on_event(TaskiqEvents.WORKER_STARTUP)
    async def _open(state: TaskiqState) -> None:
        await db.init_orm(settings.database_url, global_fallback=True)
        state.services = build_services(settings)
        # The word dictionary of the sentiment rules, loaded before the first post needs it.
        await asyncio.to_thread(SEGMENTER.warm)

    @broker.on_event(TaskiqEvents.WORKER_SHUTDOWN)
    async def _close(state: TaskiqState) -> None:
        services: Any = getattr(state, "services", None)
        if services is not None:
            await services.aclose()
        await db.close_orm()
