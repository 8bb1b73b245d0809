"""Jobs spread over chunks: a run per job and business date, its members split into id
ranges, each range an idempotent task. Any process may run any chunk, in any order, as
often as it is delivered: the work of a chunk is done once and counted once.

A chunk whose work fails waits (30 s, doubling, at most an hour) and is sent again by
the sweep; one that has been tried JOB_CHUNK_MAX_ATTEMPTS times (failing, or killing
the worker that took it) is FAILED, and its run ends FAILED once the others are done.
Staff (or another trigger of the job) put failed chunks back."""

from __future__ import annotations

import asyncio
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F, Q, Subquery
from tortoise.transactions import in_transaction

from member_api import freshness
from member_api.background.models import JobChunk, JobRun
from member_api.business_calendar import start_of_business_day
from member_api.community.quiz import run_weekly_quiz
from member_api.error_codes import JobErrorCode
from member_api.errors import Conflict, NotFound
from member_api.intelligence import facts, recommendations, scores
from member_api.intelligence import service as intelligence
from member_api.members.models import Member
from member_api.points import ledger
from member_api.privacy.erasure import erase_due, purge_expired_exports
from member_api.services import Services
from member_api.text import is_digits
from member_api.tiers import review
from member_api.tiers.models import TierReview, TierReviewResult

logger = logging.getLogger(__name__)
# Members per chunk, on average (ids are random, so ranges of equal width hold about
# as many members each).
CHUNK_MEMBERS = 2_000
MAX_ID = 1 << 128
# How often a delivery waiting for another's claim on its chunk looks again.
CLAIM_POLL_SECONDS = 0.5
# The wait before a failed chunk is tried again: doubling from the first, up to the last.
RETRY_FIRST_SECONDS = 30
RETRY_LAST_SECONDS = 3600


def retry_delay(attempts: int) -> timedelta:
    """How long a chunk that failed on its `attempts`-th try waits for the next."""
    return timedelta(seconds=min(RETRY_LAST_SECONDS, RETRY_FIRST_SECONDS << (attempts - 1)))


@dataclass(frozen=True)
class ChunkResult:
    processed: int
    changed: int


@dataclass(frozen=True)
class Slice:
    """What a chunk's work is given: its run's date, its id range [low, high), and its
    own id (for counts kept with the chunk)."""

    as_of: date
    low: uuid.UUID
    high: uuid.UUID
    chunk_id: int


ChunkWork = Callable[[Services, Slice], Awaitable[ChunkResult]]


async def _review(services: Services, part: Slice) -> ChunkResult:
    as_of, low, high = part.as_of, part.low, part.high
    await review.review_range(services, as_of, low, high)
    # Counted from the results, not from this attempt: a chunk taken over from a worker
    # that died halfway counts the members that worker reviewed too.
    tiers = await TierReviewResult.filter(
        review__review_date=as_of, member_id__gte=low, member_id__lt=high
    ).values_list("from_tier", "to_tier")
    return ChunkResult(len(tiers), sum(old != new for old, new in tiers))


async def _warnings(services: Services, part: Slice) -> ChunkResult:
    await review.send_downgrade_warnings(services, part.as_of, low=part.low, high=part.high)
    # Counted from the warnings sent (each once per review and member), so a chunk taken
    # over from a worker that died counts what that worker sent too.
    warned = await review.warned_count(services, part.as_of, low=part.low, high=part.high)
    return ChunkResult(warned, warned)


async def _expiry(services: Services, part: Slice) -> ChunkResult:
    def counted(lots: int) -> Awaitable[int]:
        # In the expiring transaction: the count survives the worker that made it.
        return JobChunk.filter(id=part.chunk_id).update(changed=F("changed") + lots)

    await ledger.expire_lots(
        part.as_of, at=services.clock.now(), low=part.low, high=part.high, counted=counted
    )
    expired = (await JobChunk.get(id=part.chunk_id)).changed
    return ChunkResult(expired, expired)


async def _quiz(services: Services, part: Slice) -> ChunkResult:
    run = await run_weekly_quiz(services, today=part.as_of)
    return ChunkResult(len(run.revealed) + len(run.opened), len(run.revealed) + len(run.opened))


async def _erasure(services: Services, part: Slice) -> ChunkResult:
    await erase_due(services, low=part.low, high=part.high)
    await purge_expired_exports(services, low=part.low, high=part.high)
    # Counted from the members erased that day, whoever erased them.
    erased = await Member.filter(
        id__gte=part.low,
        id__lt=part.high,
        erased_at__gte=start_of_business_day(part.as_of),
        erased_at__lt=start_of_business_day(part.as_of + timedelta(days=1)),
    ).count()
    return ChunkResult(erased, erased)


async def _scores(services: Services, part: Slice) -> ChunkResult:
    version, rules = await intelligence.rules_in_force(services)
    now = services.clock.now()
    await facts.refresh_range(part.as_of, part.low, part.high, now, rules)
    await scores.score_range(services, part.as_of, part.low, part.high, rules, version)
    # Counted from the scores kept for the day: processed are the members scored,
    # changed those tagged.
    scored, tagged = await scores.scored_count(part.as_of, part.low, part.high)
    return ChunkResult(scored, tagged)


async def _recommendations(services: Services, part: Slice) -> ChunkResult:
    # The similarities and popular lists are computed by the run's first chunk, once.
    # Processed are the members given a list, changed those whose list was rewritten.
    result = await recommendations.recommend_range(services, part.as_of, part.low, part.high)
    return ChunkResult(result.members, result.changed)


# Each job's work on one id range, and whether it is split by member at all.
CHUNK_WORK: dict[str, tuple[ChunkWork, bool]] = {
    "tier-review": (_review, True),
    "downgrade-warnings": (_warnings, True),
    "expire-points": (_expiry, True),
    "weekly-quiz": (_quiz, False),
    "erase-accounts": (_erasure, True),
    "member-scores": (_scores, True),
    "recommendations": (_recommendations, True),
}


def id_ranges(count: int) -> list[tuple[uuid.UUID, uuid.UUID]]:
    """`count` ranges [low, high) of equal width covering every member id (the last ends
    at the all-ones UUID, which a random UUID never is: its version bits say 4)."""
    bounds = [min(MAX_ID * i // count, MAX_ID - 1) for i in range(count + 1)]
    return [(uuid.UUID(int=bounds[i]), uuid.UUID(int=bounds[i + 1])) for i in range(count)]


async def start_run(services: Services, job: str, as_of: date) -> JobRun:
    """The run of `job` as of `as_of`, made with its chunks the first time; later calls
    (another trigger, a retry) find it, count the trigger and put its failed chunks
    back to be done now."""
    run = await JobRun.get_or_none(job=job, as_of=as_of)
    if run is None:
        _, split = CHUNK_WORK[job]
        members = await Member.all().count() if split else 0
        count = max(1, math.ceil(members / CHUNK_MEMBERS)) if split else 1
        try:
            async with in_transaction():
                now = services.clock.now()
                run = await JobRun.create(
                    job=job, as_of=as_of, chunks_total=count, started_at=now, progressed_at=now
                )
                for position, (low, high) in enumerate(id_ranges(count)):
                    await JobChunk.create(run=run, position=position, low=str(low), high=str(high))
        except IntegrityError:
            run = await JobRun.get(job=job, as_of=as_of)
    else:
        await retry_failed(run.id)
    await JobRun.filter(id=run.id).update(triggers=F("triggers") + 1)
    return await JobRun.get(id=run.id)


async def pending_chunks(run_id: int) -> list[int]:
    rows = await JobChunk.filter(run_id=run_id, status="PENDING").order_by("position")
    return [chunk.id for chunk in rows]


async def retry_failed(run_id: int) -> int:
    """Put a run's failed chunks (and those waiting to be tried again) back to be done now,
    with their attempts counted afresh; the run is RUNNING again. Returns how many."""
    async with in_transaction():
        again = await JobChunk.filter(
            Q(status="FAILED") | Q(status="PENDING", not_before__isnull=False), run_id=run_id
        ).update(status="PENDING", not_before=None, attempts=0)
        failed = await JobChunk.filter(run_id=run_id, status="FAILED").count()
        await JobRun.filter(id=run_id, status="FAILED").update(
            status="RUNNING", chunks_failed=failed, finished_at=None
        )
    return again


def parse_run_id(value: str) -> int:
    """A run's id as staff send it; anything else names no run."""
    text = str(value)
    if not (is_digits(text) and len(text) <= 18):
        raise NotFound(JobErrorCode.UNKNOWN_RUN, "No job run has that id.")
    return int(text)


async def retry_run(run_id: int) -> JobRun:
    """Staff's retry: the run's failed chunks (and those waiting after a failure) are due
    now; refused when it has none."""
    if not await JobRun.exists(id=run_id):
        raise NotFound(JobErrorCode.UNKNOWN_RUN, "No job run has that id.")
    if not await retry_failed(run_id):
        raise Conflict(
            JobErrorCode.NOTHING_TO_RETRY,
            f"Run {run_id} has no failed chunk, nor one waiting after a failure.",
        )
    return await JobRun.get(id=run_id)


async def _claim(services: Services, chunk_id: int) -> bool:
    """Take the chunk for this process: pending (and due), or running under a lease that
    ran out (its process died). One claimant at a time."""
    now = services.clock.now()
    lease = now + timedelta(seconds=services.settings.job_chunk_lease_seconds)
    due = Q(not_before__isnull=True) | Q(not_before__lte=now)
    claimable = Q(Q(status="PENDING") & due) | Q(status="RUNNING", lease_until__lt=now)
    async with in_transaction():
        taken = await JobChunk.filter(claimable, id=chunk_id).update(
            status="RUNNING", lease_until=lease, not_before=None, attempts=F("attempts") + 1
        )
        if taken:
            of_chunk = JobChunk.filter(id=chunk_id).values("run_id")
            await JobRun.filter(id__in=Subquery(of_chunk)).update(progressed_at=now)
    return bool(taken)


async def _settle(services: Services, run_id: int) -> None:
    """End the run once every chunk is done or failed: DONE, or FAILED if one failed."""
    now = services.clock.now()
    complete = Q(chunks_done=F("chunks_total") - F("chunks_failed"))
    await JobRun.filter(complete, id=run_id, status="RUNNING", chunks_failed=0).update(
        status="DONE", finished_at=now
    )
    await JobRun.filter(complete, id=run_id, status="RUNNING", chunks_failed__gt=0).update(
        status="FAILED", finished_at=now
    )


async def _fail(services: Services, chunk: JobChunk, message: str) -> None:
    """Record a failed try of a claimed chunk: it waits to be tried again, or, out of
    tries, is FAILED."""
    now = services.clock.now()
    async with in_transaction():
        if chunk.attempts >= services.settings.job_chunk_max_attempts:
            failed = await JobChunk.filter(id=chunk.id, status="RUNNING").update(
                status="FAILED", lease_until=None, last_error=message, finished_at=now
            )
            if failed:
                await JobRun.filter(id=chunk.run_id).update(chunks_failed=F("chunks_failed") + 1)
        else:
            await JobChunk.filter(id=chunk.id, status="RUNNING").update(
                status="PENDING",
                lease_until=None,
                not_before=now + retry_delay(chunk.attempts),
                last_error=message,
            )
        await JobRun.filter(id=chunk.run_id).update(errors=F("errors") + 1, last_error=message)
        await _settle(services, chunk.run_id)


async def run_chunk(services: Services, chunk_id: int) -> ChunkResult | None:
    """Do one chunk's work and count it in its run; None when it was done already.

    The chunk is claimed under a lease, so two deliveries of it never work at once: the
    second waits until the first is done (and returns) or its lease runs out (its
    process died: then it takes over). The work itself is idempotent (a member reviewed,
    warned or a lot expired once), so taking over a half-done chunk finishes it. A
    failure is recorded and the chunk waits for the sweep to send it again; a chunk
    waiting so, or given up, is left alone by a delivery.
    """
    while not await _claim(services, chunk_id):
        chunk = await JobChunk.get_or_none(id=chunk_id)
        if chunk is None or chunk.status in ("DONE", "FAILED"):
            return None
        if chunk.status == "PENDING" and chunk.not_before is not None:
            return None  # waiting after a failure: the sweep sends it when it is due
        await asyncio.sleep(CLAIM_POLL_SECONDS)
    chunk = await JobChunk.get(id=chunk_id).prefetch_related("run")
    run = chunk.run
    if chunk.attempts > services.settings.job_chunk_max_attempts:
        # Taken over after its worker died this often: the chunk itself kills workers.
        await _fail(services, chunk, "gave up: each worker that took it died")
        logger.error("job %s as of %s: chunk %d given up", run.job, run.as_of, chunk.position)
        return None
    async with freshness.writing(services.cache) as writes:
        if run.job not in JOBS_MEMBERS_DO_NOT_SEE:
            # A job may change any member's data: answers stored before it are not used.
            await writes.touch(freshness.EVERYTHING)
        return await _work_and_count(services, run, chunk)


# Jobs whose results no member-facing answer shows.
JOBS_MEMBERS_DO_NOT_SEE = frozenset({"member-scores"})


async def _work_and_count(services: Services, run: JobRun, chunk: JobChunk) -> ChunkResult | None:
    work, _ = CHUNK_WORK[run.job]
    part = Slice(run.as_of, uuid.UUID(chunk.low), uuid.UUID(chunk.high), chunk.id)
    try:
        result = await work(services, part)
    except Exception as exc:
        logger.exception("job %s as of %s: chunk %d failed", run.job, run.as_of, chunk.position)
        await _fail(services, chunk, f"{type(exc).__name__}: {exc}"[:500])
        return None
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
                progressed_at=now,
                chunks_done=F("chunks_done") + 1,
                processed=F("processed") + result.processed,
                changed=F("changed") + result.changed,
            )
            # The run and the review end in the transaction of their last chunk.
            await _settle(services, run.id)
            if run.job == "tier-review":
                await _complete_review(services, run.as_of)
    return result


async def _complete_review(services: Services, review_date: date) -> None:
    done = await JobRun.filter(job="tier-review", as_of=review_date, status="DONE").exists()
    if done:
        await TierReview.filter(review_date=review_date, completed_at__isnull=True).update(
            completed_at=services.clock.now()
        )


async def sweep(services: Services) -> list[int]:
    """The chunks to send again now, each handed to one sweeper only:

    - those whose wait after a failure is over;
    - those whose worker died long ago (their message may have gone to the dead
      letters with it);
    - every pending chunk of a run that has made no progress for a lease's time
      although chunks are pending: their messages were lost (a worker killed while
      holding them, by a task of its own or of another's). A duplicate does no harm.
    """
    now = services.clock.now()
    lease = timedelta(seconds=services.settings.job_chunk_lease_seconds)
    again: list[int] = []
    due = await JobChunk.filter(
        status="PENDING", not_before__lte=now, run__status="RUNNING"
    ).values_list("id", "not_before")
    for chunk_id, not_before in due:
        if await JobChunk.filter(id=chunk_id, status="PENDING", not_before=not_before).update(
            not_before=None
        ):
            again.append(chunk_id)
    stale = await JobChunk.filter(status="RUNNING", lease_until__lt=now - lease).values_list(
        "id", "lease_until"
    )
    for chunk_id, lease_until in stale:
        # Pushed a little into the future, so the next sweep does not send it again
        # before a worker has had the time to take it.
        if await JobChunk.filter(id=chunk_id, status="RUNNING", lease_until=lease_until).update(
            lease_until=now
        ):
            again.append(chunk_id)
    for run in await JobRun.filter(status="RUNNING", progressed_at__lt=now - lease):
        if await JobRun.filter(id=run.id, progressed_at=run.progressed_at).update(
            progressed_at=now
        ):
            lost = JobChunk.filter(run_id=run.id, status="PENDING", not_before__isnull=True)
            again.extend(chunk.id for chunk in await lost.only("id"))
    return list(dict.fromkeys(again))


async def refresh_job_metrics(services: Services) -> None:
    """Each job's latest run into the metrics (workers run elsewhere: the database
    is where their progress is)."""
    metrics = services.metrics
    for job in CHUNK_WORK:
        run = await JobRun.filter(job=job).order_by("-as_of", "-id").first()
        if run is None:
            continue
        metrics.job_chunks.labels(job, "done").set(run.chunks_done)
        metrics.job_chunks.labels(job, "failed").set(run.chunks_failed)
        metrics.job_chunks.labels(job, "pending").set(
            run.chunks_total - run.chunks_done - run.chunks_failed
        )
        metrics.job_processed.labels(job).set(run.processed)
        metrics.job_errors.labels(job).set(run.errors)
