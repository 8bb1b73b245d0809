"""Processes of the task queue: `member-api worker` runs tasks from the broker,
`member-api scheduler` fires the scheduled jobs; in process, the server does both."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

from aio_pika.exceptions import AMQPError
from taskiq import AsyncBroker, InMemoryBroker
from taskiq.api import run_receiver_task, run_scheduler_task

from member_api import db
from member_api.background.broker import (
    attach_services,
    is_in_process,
    make_broker,
    open_worker_services,
)
from member_api.background.scheduler import make_scheduler
from member_api.services import Services
from member_api.settings import Settings

logger = logging.getLogger(__name__)


async def run_worker(settings: Settings, *, max_async_tasks: int = 8) -> None:
    """Take tasks from the broker until stopped; a task is acknowledged once it ran."""
    import member_api.background.tasks  # noqa: F401  (registers the tasks)

    broker = make_broker(settings, prefetch=max_async_tasks)
    open_worker_services(broker, settings)
    broker.is_worker_process = True
    await start_when_reachable(broker)
    logger.info(
        "worker started on %s", "in-process broker" if is_in_process(settings) else "RabbitMQ"
    )
    try:
        await listen_until_stopped(broker, max_async_tasks=max_async_tasks)
    finally:
        await broker.shutdown()


async def start_when_reachable(
    broker: AsyncBroker, *, first_pause: float = 1.0, longest_pause: float = 15.0
) -> None:
    """Start the broker, waiting for it while it cannot be reached (a broker restarting,
    or started after the workers) instead of exiting; the pause doubles up to the
    longest. What a failed start opened is closed before the next try."""
    pause = first_pause
    while True:
        try:
            await broker.startup()
            return
        except (OSError, AMQPError) as exc:
            logger.warning("the broker cannot be reached (%s); trying again in %.0f s", exc, pause)
        with suppress(Exception):
            await broker.shutdown()
        await asyncio.sleep(pause)
        pause = min(longest_pause, pause * 2)


async def listen_until_stopped(
    broker: AsyncBroker, *, max_async_tasks: int, pause: float = 1.0
) -> None:
    """Run tasks from the broker until this task is cancelled. Listening can end on its
    own: a broker that went away mid-delivery closes the consumer without an error.
    The worker then listens again once the connection is back, rather than exiting
    with the queue still full."""
    while True:
        try:
            await run_receiver_task(broker, max_async_tasks=max_async_tasks)
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # stopped from outside: the process is ending
        logger.warning("listening to the broker ended; listening again in %.1f s", pause)
        await asyncio.sleep(pause)


async def run_scheduler(settings: Settings) -> None:
    """Fire the scheduled jobs (JOB_SCHEDULES) until stopped; replicas fire each once."""
    import member_api.background.tasks  # noqa: F401

    broker = make_broker(settings)
    await db.init_orm(settings.database_url, global_fallback=True)
    await broker.startup()
    scheduler = make_scheduler(broker, settings)
    logger.info("scheduler started: %s", dict(settings.job_schedules))
    try:
        await run_scheduler_task(scheduler)
    finally:
        await broker.shutdown()
        await db.close_orm()


@asynccontextmanager
async def in_process_queue(settings: Settings, services: Services) -> AsyncIterator[None]:
    """The server's own queue when no broker is configured: tasks run in this process,
    and the scheduler runs beside the server (claims keep replicas from firing twice)."""
    import member_api.background.tasks  # noqa: F401

    if not is_in_process(settings):
        # Only send: workers and the scheduler run as processes of their own.
        broker = make_broker(settings)
        await broker.startup()
        try:
            yield
        finally:
            await broker.shutdown()
        return
    broker = make_broker(settings)
    attach_services(broker, services)
    await broker.startup()
    scheduling = None
    if settings.run_scheduler:
        scheduling = asyncio.create_task(run_scheduler_task(make_scheduler(broker, settings)))
    try:
        yield
    finally:
        if scheduling is not None:
            scheduling.cancel()
            with suppress(asyncio.CancelledError):
                await scheduling
        await _finish_running(broker)
        await broker.shutdown()


# How long a stopping server gives the tasks it runs itself to end.
FINISH_SECONDS = 10.0


async def _finish_running(broker: AsyncBroker) -> None:
    """Let the tasks this process runs end before the database closes under them; one
    that takes too long is left (what it did not do, its sweep does)."""
    if isinstance(broker, InMemoryBroker):
        try:
            await asyncio.wait_for(broker.wait_all(), FINISH_SECONDS)
        except TimeoutError:
            logger.warning("tasks still running after %.0f s: stopping anyway", FINISH_SECONDS)
