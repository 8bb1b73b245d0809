"""Staff GraphQL for background work: the jobs' runs and how far they got."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from member_api.background.models import JobRun as JobRunRow
from member_api.graphql.context import GqlInfo
from member_api.graphql.roles import Roles
from member_api.staff.domain import StaffRole

MAX_RUNS = 100


@strawberry.type(description="One scheduled job as of one business date, split in chunks.")
class JobRun:
    id: strawberry.ID
    job: str
    as_of: date
    status: str = strawberry.field(description="RUNNING or DONE.")
    chunks_total: int
    chunks_done: int
    processed: int = strawberry.field(description="Members (or lots, quizzes) handled.")
    changed: int = strawberry.field(description="Of those, how many it changed.")
    errors: int = strawberry.field(description="Chunk attempts that failed (and were retried).")
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
