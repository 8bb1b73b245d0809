"""The quiz payout survives a failure part-way through: a retry pays the rest, once each."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from member_api.community import quiz as community
from member_api.community.domain import QuizVerdict
from member_api.community.models import Post
from member_api.errors import Conflict
from member_api.points import ledger
from member_api.points import service as points
from member_api.points.domain import Reason
from member_api.points.models import LedgerEntry
from member_api.services import Services
from tests.community_support import group_with_members

GENUINE = QuizVerdict.GENUINE


async def quiz_with_answers(
    client: httpx.AsyncClient, app: Any
) -> tuple[Post, uuid.UUID, list[uuid.UUID], uuid.UUID]:
    """A quiz, its owner, three members who answered right and one who did not."""
    services: Services = app.state.services
    group_id, members = await group_with_members(client, app, 5)
    owner, *winners, loser = (uuid.UUID(member_id) for member_id, _ in members)
    quiz = await community.create_quiz(
        services,
        member_id=owner,
        group_id=uuid.UUID(group_id),
        body="This week: a Kelly 28",
        image_urls=[],
        question="Genuine?",
    )
    for member_id in winners:
        await community.answer_quiz(services, member_id=member_id, post_id=quiz.id, verdict=GENUINE)
    await community.answer_quiz(
        services, member_id=loser, post_id=quiz.id, verdict=QuizVerdict.COUNTERFEIT
    )
    return quiz, owner, winners, loser


async def quiz_credits(member_id: uuid.UUID) -> int:
    return await LedgerEntry.filter(account__member_id=member_id, reason=Reason.QUIZ).count()


async def test_reveal_quiz_retried_after_a_crash_pays_every_winner_once(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services: Services = app.state.services
    quiz, owner, winners, loser = await quiz_with_answers(client, app)
    before = {m: (await ledger.balance(m))[0] for m in [*winners, loser]}
    pay = points.credit_activity
    paid: list[uuid.UUID] = []

    async def crash_after_the_first_winner(services: Services, **values: Any) -> None:
        if paid:
            raise ConnectionError("the process died mid-payout")
        await pay(services, **values)
        paid.append(values["member_id"])

    monkeypatch.setattr(points, "credit_activity", crash_after_the_first_winner)
    with pytest.raises(ConnectionError):
        await community.reveal_quiz(services, member_id=owner, post_id=quiz.id, verdict=GENUINE)
    monkeypatch.setattr(points, "credit_activity", pay)
    assert [await quiz_credits(m) for m in winners].count(1) == 1

    await community.reveal_quiz(services, member_id=owner, post_id=quiz.id, verdict=GENUINE)
    await community.reveal_quiz(services, member_id=owner, post_id=quiz.id, verdict=GENUINE)
    with pytest.raises(Conflict) as refused:
        await community.reveal_quiz(
            services, member_id=owner, post_id=quiz.id, verdict=QuizVerdict.COUNTERFEIT
        )
    assert refused.value.code == "QUIZ_REVEALED"

    reward = services.settings.community_rules.quiz_points
    assert [await quiz_credits(m) for m in winners] == [1, 1, 1]
    assert [(await ledger.balance(m))[0] - before[m] for m in winners] == [reward] * 3
    assert await quiz_credits(loser) == 0
    assert (await ledger.balance(loser))[0] == before[loser]
    assert (await Post.get(id=quiz.id)).quiz_answer == GENUINE.value
