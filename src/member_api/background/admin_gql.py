"""Staff GraphQL for background work: the jobs' runs and how far they got."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

import strawberry

from member_api.background import runs
from member_api.background.models import JobRun as JobRunRow
from member_api.db import after_commit
from member_api.graphql.context import GqlInfo
from member_api.graphql.errors import AnyError
from member_api.graphql.results import outcome
from member_api.graphql.roles import Roles
from member_api.staff.domain import StaffRole

MAX_RUNS = 100


@strawberry.type(description="One scheduled job as of one business date, split in chunks.")
class JobRun:
    id: strawberry.ID
    job: str
    as_of: date
    status: str = strawberry.field(
        description="RUNNING, DONE, or FAILED (every chunk ended, at least one out of tries)."
    )
    chunks_total: int
    chunks_done: int
    chunks_failed: int = strawberry.field(
        description="Chunks given up after their last try; retryJobRun puts them back."
    )
    processed: int = strawberry.field(description="Members (or lots, quizzes) handled.")
    changed: int = strawberry.field(description="Of those, how many it changed.")
    errors: int = strawberry.field(description="Chunk tries that failed.")
    last_error: str
    triggers: int = strawberry.field(description="How often it was asked for.")
    started_at: datetime
    finished_at: datetime | None


def run_of(row: JobRunRow) -> JobRun:
    return JobRun(
        id=strawberry.ID(str(row.id)),
        job=row.job,
        as_of=row.as_of,
        status=row.status,
        chunks_total=row.chunks_total,
        chunks_done=row.chunks_done,
        chunks_failed=row.chunks_failed,
        processed=row.processed,
        changed=row.changed,
        errors=row.errors,
        last_error=row.last_error,
        triggers=row.triggers,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )


@strawberry.type
class BackgroundAdminQuery:
    @strawberry.field(
        description="The latest runs of the scheduled jobs, newest first (at most 100).",
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def job_runs(
        self, info: GqlInfo, job: str | None = None, first: int = 20
    ) -> list[JobRun]:
        query = JobRunRow.all() if job is None else JobRunRow.filter(job=job)
        rows = await query.order_by("-started_at", "-id").limit(max(1, min(first, MAX_RUNS)))
        return [run_of(row) for row in rows]


@strawberry.input
class RetryJobRunInput:
    id: strawberry.ID


RetryResult = Annotated[JobRun | AnyError, strawberry.union("RetryJobRunResult")]


@strawberry.type
class BackgroundAdminMutation:
    @strawberry.mutation(
        description=(
            "Try a run's failed chunks again now (and those waiting after a failure), "
            "their tries counted afresh; the run is RUNNING until they end."
        ),
        extensions=[Roles(StaffRole.OPERATOR)],
    )
    async def retry_job_run(self, info: GqlInfo, input: RetryJobRunInput) -> RetryResult:
        async def retry() -> JobRunRow:
            from member_api.background.tasks import send_pending

            run = await runs.retry_run(runs.parse_run_id(input.id))
            # Sent once the retry is committed (the audit log wraps staff mutations in a
            # transaction): a worker must find the chunks pending.
            await after_commit(lambda: send_pending(run.id))
            return run

        return await outcome(retry(), run_of)
