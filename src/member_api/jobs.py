"""The scheduled jobs by name, each run as of a business date; the work lives in its area.

A job refuses a date in the future and, for the review, a date that is not a review
date; with `dry_run` it reports what it would change and changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date

from member_api.background import runs
from member_api.background.broker import is_in_process, make_broker
from member_api.background.models import JobRun
from member_api.business_calendar import business_today
from member_api.community import jobs as community_jobs
from member_api.error_codes import JobErrorCode
from member_api.errors import InvalidInput
from member_api.intelligence.recommendations import member_recommendations
from member_api.intelligence.scores import member_scores
from member_api.notifications.models import Notification
from member_api.points import jobs as points_jobs
from member_api.privacy.erasure import erase_accounts
from member_api.services import Services, open_services
from member_api.settings import Settings
from member_api.tiers import domain as tiers_domain
from member_api.tiers import jobs as tier_jobs
from member_api.tiers import review


@dataclass(frozen=True)
class JobReport:
    """A one-line summary and one line per member or thing changed (or, in a dry run,
    that would change)."""

    summary: str
    details: list[str] = field(default_factory=list)


Job = Callable[[Services, date, bool], Awaitable[tuple[str, list[str]]]]

JOBS: dict[str, Job] = {
    "tier-review": tier_jobs.tier_review,
    "downgrade-warnings": tier_jobs.downgrade_warnings,
    "expire-points": points_jobs.points_expiry,
    "weekly-quiz": community_jobs.weekly_quiz,
    "erase-accounts": erase_accounts,
    "member-scores": member_scores,
    "recommendations": member_recommendations,
}


def check_job_date(services: Services, name: str, as_of: date) -> None:
    """Refuse what a job must not do: run ahead of today, or review on a non-review date."""
    today = business_today(services.clock)
    if as_of > today:
        raise InvalidInput(
            JobErrorCode.DATE_IN_FUTURE,
            f"{as_of} is in the future (today is {today}); a job runs as of today or earlier.",
            field="as_of",
        )
    if name == "tier-review":
        rules = services.settings.tier_rules
        if as_of.day != 1 or as_of.month not in rules.review_months:
            months = ", ".join(f"{m:02d}-01" for m in rules.review_months)
            before = tiers_domain.next_review_date(as_of, rules)
            raise InvalidInput(
                JobErrorCode.NOT_A_REVIEW_DATE,
                f"{as_of} is not a review date (reviews fall on {months}; the next is {before}).",
                field="as_of",
            )


async def run_job(
    settings: Settings,
    name: str,
    as_of: date,
    *,
    dry_run: bool = False,
    wait: bool = True,
    progress: Callable[[JobRun], None] | None = None,
) -> JobReport:
    """Run the job called `name` as of `as_of`, or preview it with `dry_run`.

    The run is the scheduler's: split into chunks by member id. With a broker, the
    chunks go to the workers and this waits for them (unless `wait` is off); without
    one, this process does them itself. `progress` is told after each chunk.
    """
    async with open_services(settings) as services:
        check_job_date(services, name, as_of)
        if dry_run:
            summary, details = await JOBS[name](services, as_of, True)
            return JobReport("dry run, nothing changed: " + summary, details)
        run = await runs.start_run(services, name, as_of)
        pending = await runs.pending_chunks(run.id)
        if is_in_process(settings):
            for chunk_id in pending:
                await runs.run_chunk(services, chunk_id)
                if progress is not None:
                    progress(await JobRun.get(id=run.id))
        else:
            from member_api.background.tasks import run_chunk

            broker = make_broker(settings)
            await broker.startup()
            try:
                for chunk_id in pending:
                    await run_chunk.kiq(chunk_id)
            finally:
                await broker.shutdown()
            while wait:
                run = await JobRun.get(id=run.id)
                if progress is not None:
                    progress(run)
                if run.status != "RUNNING":
                    break
                await asyncio.sleep(0.5)
        run = await JobRun.get(id=run.id)
        summary = (
            f"{name} as of {as_of}: run {run.id} {run.status.lower()}, "
            f"{run.chunks_done}/{run.chunks_total} chunks, {run.processed} processed, "
            f"{run.changed} changed, {run.errors} error(s)"
            + (f", {run.chunks_failed} chunk(s) failed" if run.chunks_failed else "")
        )
        return JobReport(summary, await _whom(name, as_of, settings))


async def _whom(name: str, as_of: date, settings: Settings) -> list[str]:
    """Whom the run changed, one line each."""
    if name == "tier-review":
        return [change.line() for change in await review.review_changes(as_of)]
    if name == "downgrade-warnings":
        review_date = tiers_domain.next_review_date(as_of, settings.tier_rules)
        rows = await Notification.filter(
            dedupe_key=f"downgrade-warning:{review_date.isoformat()}"
        ).values_list("member_id", "member__display_name", "member__tier")
        return sorted(f"{member} {name_}: {tier} warned" for member, name_, tier in rows)
    return []
