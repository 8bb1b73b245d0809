"""The weekly authentication quiz (每周一鉴): members put up an item of theirs for their
group to judge, genuine or counterfeit; correct answers earn points once revealed.

A group has one quiz a week (Monday to Sunday, business time). An entry opens at once
when its group has none open this week, and otherwise waits its turn: each week
`run_weekly_quiz` reveals the quizzes of past weeks whose author declared the verdict,
pays (or finishes paying) their winners, and opens the oldest waiting entry of every
group. A unique key on (group, week) keeps it to one quiz, however many runs overlap.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from member_api.business_calendar import business_date
from member_api.community import service
from member_api.community.domain import ContentState, QuizVerdict
from member_api.community.models import Group, Post, QuizAnswer
from member_api.db import create_once
from member_api.error_codes import CommunityErrorCode
from member_api.errors import Conflict, Forbidden, InvalidInput
from member_api.points import service as points
from member_api.points.domain import Reason
from member_api.services import Services
from member_api.tiers import service as tiers


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


async def create_quiz(
    services: Services,
    *,
    member_id: uuid.UUID,
    group_id: uuid.UUID,
    body: str,
    question: str,
    image_urls: list[str],
    verdict: QuizVerdict | None = None,
) -> Post:
    """Put up an item for the group's quiz; it opens now if the group has none this week."""
    post = await service.create_post(
        services,
        member_id=member_id,
        group_id=group_id,
        body=body,
        image_urls=image_urls,
        quiz_question=question,
        quiz_key=verdict,
    )
    await _open(post, week_of(business_date(services.clock.now())))
    return await Post.get(id=post.id)


async def _open(post: Post, week: date) -> bool:
    """Make `post` its group's quiz of `week`, unless the group has one already."""
    try:
        async with in_transaction():
            opened = await Post.filter(id=post.id, quiz_week__isnull=True).update(quiz_week=week)
    except IntegrityError:
        return False  # another entry holds this week
    return bool(opened)


async def answer_quiz(
    services: Services, *, member_id: uuid.UUID, post_id: uuid.UUID, verdict: QuizVerdict
) -> Post:
    post = await _quiz(post_id, member_id)
    if post.author_id == member_id:
        raise InvalidInput(CommunityErrorCode.OWN_QUIZ, "You asked this quiz.")
    await service.require_membership(post.group_id, member_id)
    async with in_transaction():
        # The post row is held until the answer is in: a reveal waits for it, or it
        # sees the reveal and refuses.
        locked = await Post.select_for_update(no_key=True).get(id=post.id)
        if locked.quiz_revealed_at is not None:
            raise Conflict(
                CommunityErrorCode.QUIZ_REVEALED,
                "The answer has been revealed; answers are closed.",
            )
        if locked.quiz_week is None:
            raise Conflict(
                CommunityErrorCode.QUIZ_NOT_OPEN, "This quiz waits for its week; answer it then."
            )
        if not await create_once(
            QuizAnswer,
            post_id=post.id,
            member_id=member_id,
            answer=verdict.value,
            answered_at=services.clock.now(),
        ):
            raise Conflict(
                CommunityErrorCode.ALREADY_ANSWERED, "You have answered this quiz already."
            )
    return post


async def reveal_quiz(
    services: Services, *, member_id: uuid.UUID, post_id: uuid.UUID, verdict: QuizVerdict
) -> Post:
    """The quiz's author (or the group's owner) reveals the verdict; each correct answer
    earns its points once.

    Revealing the same verdict again resumes the payout (after a failure part-way through
    it); another verdict, or one that differs from the author's declared one, is refused.
    """
    post = await _quiz(post_id, member_id)
    group = await Group.get(id=post.group_id)
    if member_id not in {post.author_id, group.owner_id}:
        raise Forbidden(
            CommunityErrorCode.NOT_QUIZ_AUTHOR,
            "Only the quiz's author or the group's owner reveals it.",
        )
    if post.quiz_week is None:
        raise Conflict(
            CommunityErrorCode.QUIZ_NOT_OPEN,
            "This quiz waits for its week; it cannot be revealed yet.",
        )
    if post.quiz_key is not None and post.quiz_key != verdict.value:
        raise Conflict(
            CommunityErrorCode.QUIZ_VERDICT_MISMATCH, "The author declared another verdict."
        )
    await _close(services, post.id, verdict)
    await _pay_winners(services, post.id, verdict)
    return await Post.get(id=post.id)


async def _quiz(post_id: uuid.UUID, viewer_id: uuid.UUID) -> Post:
    post = await service.visible_post(post_id, viewer_id)
    if post.kind != "QUIZ":
        raise InvalidInput(CommunityErrorCode.NOT_A_QUIZ, "This post is not a quiz.")
    return post


async def _close(services: Services, post_id: uuid.UUID, verdict: QuizVerdict) -> None:
    revealed = await Post.filter(id=post_id, quiz_revealed_at__isnull=True).update(
        quiz_answer=verdict.value, quiz_revealed_at=services.clock.now()
    )
    if revealed or await Post.exists(id=post_id, quiz_answer=verdict.value):
        return
    raise Conflict(CommunityErrorCode.QUIZ_REVEALED, "The answer has been revealed already.")


async def _pay_winners(services: Services, post_id: uuid.UUID, verdict: QuizVerdict) -> None:
    """Pay every correct answer, skipping those paid already.

    Answers are closed now (an answer re-reads the post under its lock). Each winner is
    paid in a short transaction of their own, member row first as everywhere, and at
    most once: the ledger keeps one credit per member and reference, so a retry after a
    failure pays only those the failure left out.
    """
    reward = services.settings.community_rules.quiz_points
    winners = await QuizAnswer.filter(post_id=post_id, answer=verdict.value).values_list(
        "member_id", flat=True
    )
    for winner in sorted(str(w) for w in winners):
        async with in_transaction():
            await tiers.lock_member(uuid.UUID(winner))
            await points.credit_activity(
                services,
                member_id=uuid.UUID(winner),
                reason=Reason.QUIZ,
                points=reward,
                reference=f"quiz:{post_id}",
            )


@dataclass(frozen=True)
class WeeklyQuizRun:
    week: date
    revealed: list[uuid.UUID]  # quizzes of past weeks revealed by their declared verdict
    opened: list[uuid.UUID]  # entries opened as their group's quiz of `week`


async def preview_weekly_quiz(services: Services, *, today: date) -> WeeklyQuizRun:
    """What `run_weekly_quiz` would reveal and open, changing nothing."""
    week = week_of(today)
    due = await Post.filter(
        kind="QUIZ", quiz_week__lt=week, quiz_key__isnull=False, quiz_revealed_at__isnull=True
    ).values_list("id", flat=True)
    holding = await Post.filter(kind="QUIZ", quiz_week=week).values_list("group_id", flat=True)
    busy: set[uuid.UUID] = {uuid.UUID(str(group_id)) for group_id in holding}
    opened: list[uuid.UUID] = []
    waiting = await Post.filter(
        kind="QUIZ", quiz_week__isnull=True, state=ContentState.VISIBLE.value
    ).order_by("created_at", "id")
    for post in waiting:
        if post.group_id not in busy:
            opened.append(post.id)
            busy.add(post.group_id)
    return WeeklyQuizRun(week=week, revealed=[uuid.UUID(str(i)) for i in due], opened=opened)


async def run_weekly_quiz(services: Services, *, today: date) -> WeeklyQuizRun:
    """Close the past weeks' quizzes and open this week's; safe to run again and again."""
    week = week_of(today)
    revealed: list[uuid.UUID] = []
    due = await Post.filter(kind="QUIZ", quiz_week__lt=week, quiz_key__isnull=False).filter(
        quiz_revealed_at__isnull=True
    )
    for post in due:
        verdict = QuizVerdict(str(post.quiz_key))
        await _close(services, post.id, verdict)
        revealed.append(post.id)
    # Paying again is free for those paid: it finishes any payout a crash cut short.
    recent = await Post.filter(
        kind="QUIZ", quiz_week__gte=week - timedelta(weeks=2), quiz_answer__isnull=False
    )
    for post in recent:
        await _pay_winners(services, post.id, QuizVerdict(str(post.quiz_answer)))
    opened: list[uuid.UUID] = []
    holding = await Post.filter(kind="QUIZ", quiz_week=week).values_list("group_id", flat=True)
    busy: set[uuid.UUID] = {uuid.UUID(str(group_id)) for group_id in holding}
    waiting = await Post.filter(
        kind="QUIZ", quiz_week__isnull=True, state=ContentState.VISIBLE.value
    ).order_by("created_at", "id")
    for post in waiting:
        if post.group_id in busy:
            continue
        if await _open(post, week):
            opened.append(post.id)
        busy.add(post.group_id)
    return WeeklyQuizRun(week=week, revealed=revealed, opened=opened)
