"""The community jobs: the weekly quiz's turn of the week."""

from __future__ import annotations

from datetime import date

from member_api.community.quiz import preview_weekly_quiz, run_weekly_quiz
from member_api.services import Services


async def weekly_quiz(services: Services, as_of: date, dry_run: bool) -> tuple[str, list[str]]:
    run = await (preview_weekly_quiz if dry_run else run_weekly_quiz)(services, today=as_of)
    details = [f"reveal quiz {post_id}" for post_id in run.revealed]
    details += [f"open quiz {post_id}" for post_id in run.opened]
    verb = ("would be revealed", "would be opened") if dry_run else ("revealed", "opened")
    return (
        f"weekly quiz for the week of {run.week}: {len(run.revealed)} {verb[0]}, "
        f"{len(run.opened)} {verb[1]}",
        details,
    )
