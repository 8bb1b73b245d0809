"""Jobs on the task queue: runs split into id ranges, each chunk done and counted once
however often it is delivered; on RabbitMQ, a worker killed mid-run loses and duplicates
nothing, and two scheduler replicas fire each due time once."""

from __future__ import annotations

import asyncio
import itertools
import random
import signal
import subprocess
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from tortoise.expressions import F

from member_api.background import runs
from member_api.background.models import JobChunk, JobRun, ScheduleClaim
from member_api.business_calendar import business_today
from member_api.clock import FrozenClock, SystemClock
from member_api.errors import Conflict
from member_api.jobs import run_job
from member_api.members.models import Member
from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.points.models import LedgerAllocation, LedgerEntry, LedgerLot
from member_api.services import Services
from member_api.settings import Settings
from member_api.tiers.models import TierReview, TierReviewResult
from tests.conftest import run_in_own_loop
from tests.queue_support import gold_members, in_db, start, stop
from tests.support import gql, staff_token

REVIEW = date(2026, 10, 1)


def test_id_ranges_cover_every_id_once() -> None:
    for count in (1, 2, 7, 64):
        ranges = runs.id_ranges(count)
        assert len(ranges) == count
        assert ranges[0][0].int == 0
        assert ranges[-1][1].int == (1 << 128) - 1
        assert all(a[1] == b[0] for a, b in itertools.pairwise(ranges))
        for _ in range(200):
            member = uuid.uuid4()
            assert sum(low <= member < high for low, high in ranges) == 1


async def test_a_run_split_in_chunks_reviews_each_member_once_in_any_order(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs, "CHUNK_MEMBERS", 400)
    members = await gold_members(1_500)
    run = await runs.start_run(services, "tier-review", REVIEW)
    assert run.chunks_total == 4
    chunks = await runs.pending_chunks(run.id)
    # Delivered out of order, every one twice (a redelivery), two at a time.
    deliveries = chunks * 2
    random.Random(7).shuffle(deliveries)
    for first, second in zip(deliveries[::2], deliveries[1::2], strict=True):
        await asyncio.gather(runs.run_chunk(services, first), runs.run_chunk(services, second))
    run = await JobRun.get(id=run.id)
    assert (run.status, run.chunks_done, run.processed, run.changed) == ("DONE", 4, 1_500, 1_500)
    reviewed = await TierReviewResult.filter(review__review_date=REVIEW).values_list(
        "member_id", flat=True
    )
    assert sorted(map(str, reviewed)) == sorted(map(str, members))
    assert set(await Member.all().values_list("tier", flat=True)) == {"SILVER"}
    assert (await TierReview.get(review_date=REVIEW)).completed_at is not None
    # Another trigger of the same job and date finds the run; nothing is done again.
    again = await runs.start_run(services, "tier-review", REVIEW)
    assert (again.id, again.triggers, await runs.pending_chunks(run.id)) == (run.id, 2, [])


def flaky_expiry(monkeypatch: pytest.MonkeyPatch, failures: int) -> None:
    """Point expiry whose first `failures` tries fail."""
    work, split = runs.CHUNK_WORK["expire-points"]
    left = iter(range(failures))

    async def flaky(services: Services, part: runs.Slice) -> runs.ChunkResult:
        for _ in left:
            raise RuntimeError("database went away")
        return await work(services, part)

    monkeypatch.setitem(runs.CHUNK_WORK, "expire-points", (flaky, split))


async def test_a_failed_chunk_waits_then_the_sweep_sends_it_again(
    services: Services, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    flaky_expiry(monkeypatch, failures=2)
    run = await runs.start_run(services, "expire-points", date(2026, 11, 1))
    [chunk_id] = await runs.pending_chunks(run.id)
    assert await runs.run_chunk(services, chunk_id) is None
    chunk = await JobChunk.get(id=chunk_id)
    assert (chunk.status, chunk.attempts, "went away" in chunk.last_error) == ("PENDING", 1, True)
    assert chunk.not_before == clock.now() + timedelta(seconds=30)
    assert (await JobRun.get(id=run.id)).errors == 1
    # A delivery before the wait is over leaves it be; so does the sweep.
    assert await runs.run_chunk(services, chunk_id) is None
    assert (await JobChunk.get(id=chunk_id)).attempts == 1
    assert await runs.sweep(services) == []
    clock.advance(timedelta(seconds=30))
    assert await runs.sweep(services) == [chunk_id]
    assert await runs.sweep(services) == []  # handed out once
    assert await runs.run_chunk(services, chunk_id) is None  # fails again: waits twice as long
    assert (await JobChunk.get(id=chunk_id)).not_before == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    assert await runs.sweep(services) == [chunk_id]
    assert await runs.run_chunk(services, chunk_id) is not None
    chunk = await JobChunk.get(id=chunk_id)
    assert (chunk.status, chunk.attempts) == ("DONE", 3)
    assert (await JobRun.get(id=run.id)).status == "DONE"


async def test_a_chunk_out_of_tries_fails_its_run_and_staff_retry_it(
    app: object,
    client: httpx.AsyncClient,
    services: Services,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runs, "CHUNK_MEMBERS", 100)
    await gold_members(150)
    work, split = runs.CHUNK_WORK["tier-review"]
    broken: set[int] = set()

    async def sometimes(services: Services, part: runs.Slice) -> runs.ChunkResult:
        if part.chunk_id in broken:
            raise ValueError("bad data in this range")
        return await work(services, part)

    monkeypatch.setitem(runs.CHUNK_WORK, "tier-review", (sometimes, split))
    run = await runs.start_run(services, "tier-review", REVIEW)
    first, second = await runs.pending_chunks(run.id)
    broken.add(second)
    await runs.run_chunk(services, first)
    for _ in range(services.settings.job_chunk_max_attempts):
        clock.advance(timedelta(hours=1))
        assert await runs.sweep(services) in ([], [second])
        await runs.run_chunk(services, second)
    chunk = await JobChunk.get(id=second)
    assert (chunk.status, chunk.attempts) == ("FAILED", services.settings.job_chunk_max_attempts)
    row = await JobRun.get(id=run.id)
    assert (row.status, row.chunks_done, row.chunks_failed) == ("FAILED", 1, 1)
    assert row.errors == services.settings.job_chunk_max_attempts
    clock.advance(timedelta(hours=1))
    assert await runs.sweep(services) == []  # a failed chunk waits for staff
    assert (await TierReview.get(review_date=REVIEW)).completed_at is None

    operator = await staff_token(client, services, "ops", ["operator"])
    retry = (
        "mutation($id: ID!) { retryJobRun(input: {id: $id}) { __typename "
        "... on JobRun { status chunksDone chunksFailed } ... on Error { code } } }"
    )
    listed = await gql(
        client,
        "{ jobRuns { id status chunksFailed lastError } }",
        token=operator,
        path="/admin/graphql",
    )
    [seen] = listed["data"]["jobRuns"]
    assert (seen["status"], seen["chunksFailed"]) == ("FAILED", 1)
    assert "bad data" in seen["lastError"]
    broken.clear()  # the data was mended
    body = await gql(client, retry, {"id": seen["id"]}, token=operator, path="/admin/graphql")
    assert body["data"]["retryJobRun"]["__typename"] == "JobRun"
    # In process, the retried chunk runs beside the server.
    for _ in range(200):
        row = await JobRun.get(id=run.id)
        if row.status != "RUNNING":
            break
        await asyncio.sleep(0.05)
    assert (row.status, row.chunks_done, row.chunks_failed) == ("DONE", 2, 0)
    assert row.processed == 150
    assert (await TierReview.get(review_date=REVIEW)).completed_at is not None
    for bad, code in (
        (seen["id"], "NOTHING_TO_RETRY"),
        ("999", "UNKNOWN_RUN"),
        ("x" * 40, "UNKNOWN_RUN"),
        ("9" * 40, "UNKNOWN_RUN"),
        ("²", "UNKNOWN_RUN"),
    ):
        refused = await gql(client, retry, {"id": bad}, token=operator, path="/admin/graphql")
        assert refused["data"]["retryJobRun"]["code"] == code
    moderator = await staff_token(client, services, "mod", ["moderator"])
    refused = await gql(client, retry, {"id": seen["id"]}, token=moderator, path="/admin/graphql")
    assert refused["data"]["retryJobRun"] == {"__typename": "ForbiddenError", "code": "FORBIDDEN"}


async def test_a_chunk_whose_workers_keep_dying_is_given_up(
    services: Services, clock: FrozenClock
) -> None:
    """Each taker's lease runs out (it died); the one after the last try gives up."""
    run = await runs.start_run(services, "expire-points", date(2026, 11, 1))
    [chunk_id] = await runs.pending_chunks(run.id)
    lease = timedelta(seconds=services.settings.job_chunk_lease_seconds)
    for _ in range(services.settings.job_chunk_max_attempts):
        assert await runs._claim(services, chunk_id)  # taken; its worker dies
        clock.advance(lease * 2 + timedelta(seconds=1))
        assert await runs.sweep(services) == [chunk_id]  # its message may be lost
        clock.advance(timedelta(seconds=1))
    assert await runs.run_chunk(services, chunk_id) is None
    chunk = await JobChunk.get(id=chunk_id)
    assert (chunk.status, "died" in chunk.last_error) == ("FAILED", True)
    assert (await JobRun.get(id=run.id)).status == "FAILED"
    # Another trigger of the job puts it back, and it is done.
    await runs.start_run(services, "expire-points", date(2026, 11, 1))
    assert await runs.run_chunk(services, chunk_id) is not None
    assert (await JobRun.get(id=run.id)).status == "DONE"


@pytest.mark.parametrize("backend", ["postgres"])
async def test_expiry_in_batches_racing_spends_takes_each_point_once(
    services: Services, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lots expire in bulk while their members spend: each point is spent or expired,
    never both, and every account still adds up."""
    monkeypatch.setattr(ledger, "EXPIRY_BATCH", 7)
    members = sorted(await gold_members(40), key=lambda m: m.int)
    for member in members:
        for amount, expires in ((100, date(2026, 10, 31)), (50, None)):
            await ledger.credit(
                member,
                amount,
                Reason.ADJUSTMENT,
                reference=f"grant:{member}:{amount}",
                at=clock.now(),
                expires_on=expires,
            )
    spent_at = datetime(2026, 10, 30, 12, tzinfo=UTC)  # the day before the lots expire

    async def spend(member: uuid.UUID) -> bool:
        try:
            await ledger.debit(member, 120, Reason.SPEND, reference=f"order:{member}", at=spent_at)
        except Conflict:
            return False
        return True

    expiring = ledger.expire_lots(date(2026, 11, 1), at=clock.now())
    outcomes = await asyncio.gather(expiring, *(spend(m) for m in members))
    expired, spent = outcomes[0], outcomes[1:]
    assert expired + sum(spent) == len(members)  # one or the other took each lot
    for member, did_spend in zip(members, spent, strict=True):
        lots = await LedgerLot.filter(account__member_id=member).order_by("amount")
        entries = await LedgerEntry.filter(account__member_id=member).values_list("reason", "delta")
        assert sum(lot.remaining for lot in lots) == sum(delta for _, delta in entries)
        assert all(lot.remaining >= 0 for lot in lots)
        taken = {lot.id: lot.amount - lot.remaining for lot in lots}
        for lot_id, points in taken.items():
            given = await LedgerAllocation.filter(lot_id=lot_id).values_list("points", flat=True)
            assert sum(given) == points
        reasons = sorted(reason for reason, _ in entries)
        assert reasons == sorted(["ADJUSTMENT", "ADJUSTMENT", "SPEND" if did_spend else "EXPIRY"])


async def test_a_run_whose_messages_were_lost_is_sent_again_once_it_stalls(
    services: Services, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Messages of chunks nobody took went to the dead letters with a poison task that
    killed the worker holding them: no progress for a lease's time resends them."""
    monkeypatch.setattr(runs, "CHUNK_MEMBERS", 50)
    await gold_members(120)
    run = await runs.start_run(services, "tier-review", REVIEW)
    first, *others = await runs.pending_chunks(run.id)
    lease = timedelta(seconds=services.settings.job_chunk_lease_seconds)
    clock.advance(lease / 2)
    await runs.run_chunk(services, first)  # progress: nothing is stalled yet
    clock.advance(lease / 2 + timedelta(seconds=1))
    assert await runs.sweep(services) == []
    clock.advance(lease / 2)
    assert sorted(await runs.sweep(services)) == sorted(others)
    assert await runs.sweep(services) == []  # once per stall
    for chunk_id in others:
        await runs.run_chunk(services, chunk_id)
    assert (await JobRun.get(id=run.id)).status == "DONE"
    clock.advance(lease * 3)
    assert await runs.sweep(services) == []


async def test_a_chunk_taken_over_counts_what_the_dead_worker_expired(
    services: Services, clock: FrozenClock
) -> None:
    members = sorted(await gold_members(6), key=lambda m: m.int)
    for member in members:
        await ledger.credit(
            member,
            100,
            Reason.ADJUSTMENT,
            reference=f"grant:{member}",
            at=clock.now(),
            expires_on=date(2026, 10, 31),
        )
    as_of = date(2026, 11, 1)
    run = await runs.start_run(services, "expire-points", as_of)
    [chunk_id] = await runs.pending_chunks(run.id)
    # The first worker takes the chunk, expires half the lots, and dies.
    assert await runs._claim(services, chunk_id)

    async def counted(lots: int) -> object:
        return await JobChunk.filter(id=chunk_id).update(changed=F("changed") + lots)

    half = members[3]
    assert await ledger.expire_lots(as_of, at=clock.now(), high=half, counted=counted) == 3
    clock.advance(timedelta(seconds=services.settings.job_chunk_lease_seconds + 1))
    result = await runs.run_chunk(services, chunk_id)
    assert result == runs.ChunkResult(6, 6)
    row = await JobRun.get(id=run.id)
    assert (row.status, row.processed, row.changed) == ("DONE", 6, 6)


# --- RabbitMQ: real workers and schedulers, each a process of its own ---


def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(
    queue_env: dict[str, str], tmp_path: Path
) -> None:
    url = queue_env["DATABASE_URL"]
    members = run_in_own_loop(in_db(url, lambda: gold_members(6_000)))
    settings = Settings.from_env(queue_env)
    log = tmp_path / "workers.log"
    first = start(queue_env, "worker", "--tasks", "1", log=log)
    second: subprocess.Popen[bytes] | None = None
    try:
        report = run_in_own_loop(
            run_job(settings, "tier-review", REVIEW, wait=False)  # send the chunks only
        )
        assert "tier-review" in report.summary

        async def progress() -> tuple[int, int]:
            run = await JobRun.get(job="tier-review", as_of=REVIEW)
            attempts = sum(await JobChunk.filter(run_id=run.id).values_list("attempts", flat=True))
            return run.chunks_done, attempts

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            done, attempts = run_in_own_loop(in_db(url, progress))  # type: ignore[misc]
            if attempts > done:  # a chunk is under way
                break
            time.sleep(0.05)
        first.send_signal(signal.SIGKILL)
        first.wait()
        second = start(queue_env, "worker", log=log)

        async def finished() -> JobRun:
            return await JobRun.get(job="tier-review", as_of=REVIEW)

        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            run = run_in_own_loop(in_db(url, finished))
            if run.status == "DONE":  # type: ignore[attr-defined]
                break
            time.sleep(0.5)
        else:
            raise AssertionError(log.read_text()[-3000:])
    finally:
        stop(first)
        if second is not None:
            stop(second)

    async def outcome() -> tuple[int, int, list[str]]:
        run = await JobRun.get(job="tier-review", as_of=REVIEW)
        results = await TierReviewResult.filter(review__review_date=REVIEW).count()
        tiers = await Member.all().values_list("tier", flat=True)
        return run.processed, results, sorted(set(tiers))

    processed, results, tiers = run_in_own_loop(in_db(url, outcome))  # type: ignore[misc]
    assert (processed, results, tiers) == (len(members), len(members), ["SILVER"])


def test_two_scheduler_replicas_fire_each_due_time_once(
    queue_env: dict[str, str], tmp_path: Path
) -> None:
    """Every job is switched off but the weekly quiz, due every minute; both replicas see
    each minute come, one sends it, and the worker runs it once."""
    env = {
        **queue_env,
        "JOB_SCHEDULES": (
            '{"expire-points": "", "downgrade-warnings": "", "tier-review": "", '
            '"weekly-quiz": "* * * * *"}'
        ),
    }
    log = tmp_path / "scheduling.log"
    processes = [
        start(env, "worker", log=log),
        start(env, "scheduler", log=log),
        start(env, "scheduler", log=log),
    ]
    url = env["DATABASE_URL"]

    async def claims() -> list[tuple[str, datetime]]:
        rows = await ScheduleClaim.filter(schedule_id="job:weekly-quiz").values_list(
            "claimed_by", "due_at"
        )
        return [(str(by), due) for by, due in rows]

    try:
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            claimed = run_in_own_loop(in_db(url, claims))
            if len(claimed) >= 2:  # type: ignore[arg-type]
                break
            time.sleep(1)
        else:
            raise AssertionError(log.read_text()[-3000:])
        time.sleep(3)  # let the worker run what was sent
    finally:
        for process in processes:
            stop(process)
    claimed = run_in_own_loop(in_db(url, claims))
    due_times = [due for _, due in claimed]  # type: ignore[union-attr]
    assert len(due_times) == len(set(due_times))

    async def triggers() -> int:
        today = business_today(SystemClock())
        run = await JobRun.get(job="weekly-quiz", as_of=today)
        return run.triggers

    # One start per due time: with two replicas firing, it would be twice that.
    assert run_in_own_loop(in_db(url, triggers)) == len(due_times)
    text = log.read_text()
    assert "claimed by another replica" in text


async def test_staff_and_metrics_see_how_far_a_run_got(
    app: object, client: httpx.AsyncClient, services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(runs, "CHUNK_MEMBERS", 100)
    await gold_members(250)
    run = await runs.start_run(services, "tier-review", REVIEW)
    first, *_ = await runs.pending_chunks(run.id)
    await runs.run_chunk(services, first)
    operator = await staff_token(client, services, "ops", ["operator"])
    query = '{ jobRuns(job: "tier-review") { job asOf status chunksTotal chunksDone processed } }'
    body = await gql(client, query, token=operator, path="/admin/graphql")
    [seen] = body["data"]["jobRuns"]
    assert seen["job"] == "tier-review"
    assert (seen["status"], seen["chunksTotal"], seen["chunksDone"]) == ("RUNNING", 3, 1)
    assert 0 < seen["processed"] < 250
    moderator = await staff_token(client, services, "mod", ["moderator"])
    refused = await gql(client, query, token=moderator, path="/admin/graphql")
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    text = (await client.get("/metrics")).text
    assert 'member_api_job_chunks{job="tier-review",state="done"} 1.0' in text
    assert 'member_api_job_chunks{job="tier-review",state="pending"} 2.0' in text
