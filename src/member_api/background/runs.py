"""Jobs spread over chunks: a run per job and business date, its members split into id
ranges, each range an idempotent task. Any process may run any chunk, in any order, as
often as it is delivered: the work of a chunk is done once and counted once."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from member_api.background.models import JobChunk, JobRun
from member_api.community.quiz import run_weekly_quiz
from member_api.members.models import Member
from member_api.points import ledger
from member_api.services import Services
from member_api.tiers import review
from member_api.tiers.models import TierReview, TierReviewResult

logger = logging.getLogger(__name__)
# Members per chunk, on average (ids are random, so ranges of equal width hold about
# as many members each).
CHUNK_MEMBERS = 2_000
MAX_ID = 1 << 128
# How often a delivery waiting for another's claim on its chunk looks again.
CLAIM_POLL_SECONDS = 0.5


@dataclass(frozen=True)
class ChunkResult:
    processed: int
    changed: int


ChunkWork = Callable[[Services, date, uuid.UUID, uuid.UUID], Awaitable[ChunkResult]]


async def _review(services: Services, as_of: date, low: uuid.UUID, high: uuid.UUID) -> ChunkResult:
    await review.review_range(services, as_of, low, high)
    # Counted from the results, not from this attempt: a chunk taken over from a worker
    # that died halfway counts the members that worker reviewed too.
    tiers = await TierReviewResult.filter(
        review__review_date=as_of, member_id__gte=low, member_id__lt=high
    ).values_list("from_tier", "to_tier")
    return ChunkResult(len(tiers), sum(old != new for old, new in tiers))


async def _warnings(
    services: Services, as_of: date, low: uuid.UUID, high: uuid.UUID
) -> ChunkResult:
    warned = await review.send_downgrade_warnings(services, as_of, low=low, high=high)
    return ChunkResult(len(warned), len(warned))


async def _expiry(services: Services, as_of: date, low: uuid.UUID, high: uuid.UUID) -> ChunkResult:
    expired = await ledger.expire_lots(as_of, at=services.clock.now(), low=low, high=high)
    return ChunkResult(expired, expired)


async def _quiz(services: Services, as_of: date, low: uuid.UUID, high: uuid.UUID) -> ChunkResult:
    run = await run_weekly_quiz(services, today=as_of)
    return ChunkResult(len(run.revealed) + len(run.opened), len(run.revealed) + len(run.opened))


# Each job's work on one id range, and whether it is split by member at all.
CHUNK_WORK: dict[str, tuple[ChunkWork, bool]] = {
    "tier-review": (_review, True),
    "downgrade-warnings": (_warnings, True),
    "expire-points": (_expiry, True),
    "weekly-quiz": (_quiz, False),
}


def id_ranges(count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """`count` ranges [low, high) of equal width covering every member id (the last ends
    at the all-ones UUID, which a random UUID never is: its version bits say 4)."""
    bounds = [min(MAX_ID * i // count, MAX_ID - 1) for i in range(count + 1)]
    return [(uuid.UUID(int=bounds[i]), uuid.UUID(int=bounds[i + 1])) for i in range(count)]


async def start_run(services: Services, job: str, as_of: date) -> JobRun:
    """The run of `job` as of `as_of`, made with its chunks the first time; later calls
    (another trigger, a retry) find it and count the trigger."""
    run = await JobRun.get_or_none(job=job, as_of=as_of)
    if run is None:
        _, split = CHUNK_WORK[job]
        members = await Member.all().count() if split else 0
        count = max(1, math.ceil(members / CHUNK_MEMBERS)) if split else 1
        try:
            async with in_transaction():
                run = await JobRun.create(
                    job=job, as_of=as_of, chunks_total=count, started_at=services.clock.now()
                )
                for position, (low, high) in enumerate(id_ranges(count)):
                    await JobChunk.create(run=run, position=position, low=str(low), high=str(high))
        except IntegrityError:
            run = await JobRun.get(job=job, as_of=as_of)
    await JobRun.filter(id=run.id).update(triggers=F("triggers") + 1)
    return await JobRun.get(id=run.id)


async def pending_chunks(run_id: int) -> list[int]:
    rows = await JobChunk.filter(run_id=run_id, status="PENDING").order_by("position")
    return [chunk.id for chunk in rows]


async def _claim(services: Services, chunk_id: int) -> bool:
    """Take the chunk for this process: pending, or running under a lease that ran out
    (its process died). One claimant at a time."""
    now = services.clock.now()
    lease = now + timedelta(seconds=services.settings.job_chunk_lease_seconds)
    claimable = Q(status="PENDING") | Q(status="RUNNING", lease_until__lt=now)
    taken = await JobChunk.filter(claimable, id=chunk_id).update(
        status="RUNNING", lease_until=lease, attempts=F("attempts") + 1
    )
    return bool(taken)


async def run_chunk(services: Services, chunk_id: int) -> ChunkResult | None:
    """Do one chunk's work and count it in its run; None when it was done already.

    The chunk is claimed under a lease, so two deliveries of it never work at once: the
    second waits until the first is done (and returns) or its lease runs out (its
    process died: then it takes over). The work itself is idempotent (a member reviewed,
    warned or a lot expired once), so taking over a half-done chunk finishes it. A
    failure puts the chunk back, recorded, and is raised for a retry.
    """
    while not await _claim(services, chunk_id):
        chunk = await JobChunk.get_or_none(id=chunk_id)
        if chunk is None or chunk.status == "DONE":
            return None
        await asyncio.sleep(CLAIM_POLL_SECONDS)
    chunk = await JobChunk.get(id=chunk_id).prefetch_related("run")
    run = chunk.run
    work, _ = CHUNK_WORK[run.job]
    try:
        result = await work(services, run.as_of, uuid.UUID(chunk.low), uuid.UUID(chunk.high))
    except Exception as exc:
        message = f"{type(exc).__name__}: {exc}"[:500]
        await JobChunk.filter(id=chunk.id, status="RUNNING").update(
            status="PENDING", lease_until=None, last_error=message
        )
        await JobRun.filter(id=run.id).update(errors=F("errors") + 1, last_error=message)
        logger.exception("job %s as of %s: chunk %d failed", run.job, run.as_of, chunk.position)
        raise
    async with in_transaction():
        now = services.clock.now()
        finished = await JobChunk.filter(id=chunk.id, status="RUNNING").update(
            status="DONE",
            lease_until=None,
            processed=result.processed,
            changed=result.changed,
            finished_at=now,
        )
        if finished:
            await JobRun.filter(id=run.id).update(
                chunks_done=F("chunks_done") + 1,
                processed=F("processed") + result.processed,
                changed=F("changed") + result.changed,
            )
            await JobRun.filter(id=run.id, status="RUNNING", chunks_done=F("chunks_total")).update(
                status="DONE", finished_at=now
            )
    if finished and run.job == "tier-review":
        await _complete_review(services, run.as_of)
    return result


async def _complete_review(services: Services, review_date: date) -> None:
    done = await JobRun.filter(job="tier-review", as_of=review_date, status="DONE").exists()
    if done:
        await TierReview.filter(review_date=review_date, completed_at__isnull=True).update(
            completed_at=services.clock.now()
        )


async def refresh_job_metrics(services: Services) -> None:
    """Each job's latest run into the metrics (workers run elsewhere: the database
    is where their progress is)."""
    metrics = services.metrics
    for job in CHUNK_WORK:
        run = await JobRun.filter(job=job).order_by("-as_of", "-id").first()
        if run is None:
            continue
        metrics.job_chunks.labels(job, "done").set(run.chunks_done)
        metrics.job_chunks.labels(job, "pending").set(run.chunks_total - run.chunks_done)
        metrics.job_processed.labels(job).set(run.processed)
        metrics.job_errors.labels(job).set(run.errors)
