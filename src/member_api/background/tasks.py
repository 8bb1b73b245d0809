"""The tasks the queue carries: one chunk of a job's run, and a scheduled job's start."""

from __future__ import annotations

import logging
import uuid
from datetime import date
from typing import Any

from taskiq import Context, TaskiqDepends
from taskiq.brokers.shared_broker import async_shared_broker

from member_api.background import runs
from member_api.business_calendar import business_today
from member_api.intelligence import sentiment_service
from member_api.intelligence.sentiment_service import SourceKind
from member_api.outbox import service as outbox
from member_api.privacy import export as privacy_export
from member_api.services import Services

logger = logging.getLogger(__name__)
# The running task's context, given by taskiq to the parameter that defaults to it.
CONTEXT: Any = TaskiqDepends()


def _services(context: Context) -> Services:
    services: Services = context.state.services
    return services


@async_shared_broker.task(task_name="member_api.run_chunk")
async def run_chunk(chunk_id: int, context: Context = CONTEXT) -> None:
    """One id range of a run; idempotent, so a redelivered message does no harm."""
    await runs.run_chunk(_services(context), chunk_id)


@async_shared_broker.task(task_name="member_api.deliver_outbox")
async def deliver_outbox(context: Context = CONTEXT) -> int:
    """One delivery pass of the outbox (the scheduler sends it every minute)."""
    services = _services(context)
    return await outbox.deliver_due(services, now=services.clock.now())


@async_shared_broker.task(task_name="member_api.resume_chunks")
async def resume_chunks(context: Context = CONTEXT) -> int:
    """Send again the chunks whose wait after a failure is over, or whose worker died
    (the scheduler sends this every minute); returns how many."""
    return await send_again(_services(context))


async def send_again(services: Services) -> int:
    again = await runs.sweep(services)
    for chunk_id in again:
        await run_chunk.kiq(chunk_id)
    if again:
        logger.info("%d chunk(s) sent again", len(again))
    return len(again)


async def send_pending(run_id: int) -> int:
    """Send each pending chunk of a run; returns how many."""
    pending = await runs.pending_chunks(run_id)
    for chunk_id in pending:
        await run_chunk.kiq(chunk_id)
    return len(pending)


@async_shared_broker.task(task_name="member_api.start_job")
async def start_job(job: str, as_of: str | None = None, context: Context = CONTEXT) -> int:
    """Start (or find) the run of `job` as of `as_of` (today by default) and send its
    pending chunks; returns the run's id."""
    services = _services(context)
    day = date.fromisoformat(as_of) if as_of else business_today(services.clock)
    run = await runs.start_run(services, job, day)
    await send_pending(run.id)
    logger.info("job %s as of %s: run %d started", job, day, run.id)
    return int(run.id)


@async_shared_broker.task(task_name="member_api.build_data_export")
async def build_data_export(export_id: str, context: Context = CONTEXT) -> bool:
    """Build a member's data export; a redelivered message finds it built."""
    return await privacy_export.build_export(_services(context), uuid.UUID(export_id))


@async_shared_broker.task(task_name="member_api.classify_content")
async def classify_content(kind: str, source_id: str, context: Context = CONTEXT) -> bool:
    """The sentiment of a new post or comment, and its care alert; a redelivered message
    finds the verdict written. True when it was a negative remark about the service."""
    row = await sentiment_service.classify_source(
        _services(context), SourceKind(kind), uuid.UUID(source_id)
    )
    return bool(row is not None and row.negative)


@async_shared_broker.task(task_name="member_api.sweep_sentiment")
async def sweep_sentiment(context: Context = CONTEXT) -> int:
    """Classify the posts and comments whose task never ran (the scheduler sends this
    every minute); returns how many."""
    return await sentiment_service.sweep(_services(context))


async def send_classify(kind: str, source_id: uuid.UUID) -> None:
    """Send the classification of a post or comment just committed. The write stands
    whatever happens here: a send that fails is logged, and the sweep takes it up."""
    try:
        await classify_content.kiq(kind, str(source_id))
    except Exception as exc:
        logger.warning(
            "%s %s not sent for classification (%s: %s); the sentiment sweep will take it",
            kind,
            source_id,
            type(exc).__name__,
            exc,
        )
