"""Reports, moderation and who sees what; the weekly quiz; group health."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.community.models import ModerationAction, Post
from member_api.points.models import LedgerEntry
from tests.community_support import ADMIN, CREATE_QUIZ, group_with_members, moderator, post
from tests.support import gql, login, op, staff_token

FEED = """
query($g: ID!) {
  communityGroup(id: $g) { posts(first: 50) { edges { node { id state hiddenReason } } } }
}
"""
POST = """
query($p: ID!) {
  post(id: $p) { id state hiddenReason comments(first: 10) { edges { node { body state } } } }
}
"""
QUEUE = """
query($s: ContentState!) {
  moderationQueue(state: $s, first: 10) { edges { node { id state reportCount hiddenReason } } }
}
"""
STAFF_POST = """
query($p: ID!) {
  communityPost(id: $p) { state comments(first: 10) { edges { node { body state hiddenReason } } } }
}
"""
LOG = "{ moderationLog(first: 20) { edges { node { action targetKind reason staffId } } } }"
MODERATE = """
mutation($id: ID!, $r: String!) {
  %s(input: {%s: $id, reason: $r}) {
    __typename ... on %s { state } ... on Error { code }
  }
}
"""
ANSWER = """
mutation($p: ID!, $v: QuizVerdict!) {
  %s(input: {postId: $p, verdict: $v}) {
    __typename ... on Post { quiz { revealed answer myAnswer } } ... on Error { code }
  }
}
"""
HEALTH = "{ groupHealth(weeks: 2) { group { slug } weekStarting posts comments activeMembers } }"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))  # a Wednesday


def ids(feed: dict[str, Any]) -> list[str]:
    return [e["node"]["id"] for e in feed["data"]["communityGroup"]["posts"]["edges"]]


async def report(client: httpx.AsyncClient, token: str, post_id: str) -> dict[str, Any]:
    variables = {"input": {"postId": post_id, "reason": "counterfeit advertising"}}
    return dict((await gql(client, op("ReportPost"), variables, token=token))["data"]["reportPost"])


async def test_five_distinct_reports_hide_a_post_pending_review(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, members = await group_with_members(client, app, 7)
    author = members[1][1]
    post_id = (await post(client, author, group_id, "Selling my bag"))["id"]
    assert (await report(client, author, post_id))["code"] == "OWN_POST"
    for _, token in members[2:6]:
        assert (await report(client, token, post_id))["__typename"] == "PostReported"
    assert (await report(client, members[2][1], post_id))["code"] == "ALREADY_REPORTED"
    assert (await Post.get(id=post_id)).state == "VISIBLE"  # four distinct reporters
    assert (await report(client, members[6][1], post_id))["__typename"] == "PostReported"
    reader = members[0][1]
    assert ids(await gql(client, FEED, {"g": group_id}, token=reader)) == []
    assert (await gql(client, POST, {"p": post_id}, token=reader))["data"]["post"] is None
    own = (await gql(client, POST, {"p": post_id}, token=author))["data"]["post"]
    assert (own["state"], own["hiddenReason"]) == ("PENDING_REVIEW", "Reported by 5 members")
    assert ids(await gql(client, FEED, {"g": group_id}, token=author)) == [post_id]
    staff = await moderator(client, app)
    queue = await gql(client, QUEUE, {"s": "PENDING_REVIEW"}, token=staff, path=ADMIN)
    node = queue["data"]["moderationQueue"]["edges"][0]["node"]
    assert (node["id"], node["reportCount"]) == (post_id, 5)
    log = (await gql(client, LOG, token=staff, path=ADMIN))["data"]["moderationLog"]["edges"]
    assert [(e["node"]["action"], e["node"]["staffId"]) for e in log] == [("AUTO_HIDE", None)]
    restored = await gql(
        client,
        MODERATE % ("restorePost", "postId", "Post"),
        {"id": post_id, "r": "checked: genuine"},
        token=staff,
        path=ADMIN,
    )
    assert restored["data"]["restorePost"] == {"__typename": "Post", "state": "VISIBLE"}
    assert ids(await gql(client, FEED, {"g": group_id}, token=reader)) == [post_id]
    # Reviewed and restored: a sixth report does not hide it again.
    assert (await report(client, reader, post_id))["__typename"] == "PostReported"
    assert (await Post.get(id=post_id)).state == "VISIBLE"


async def test_moderators_hide_and_restore_with_a_logged_reason(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    group_id, members = await group_with_members(client, app, 3)
    author, reader = members[1][1], members[2][1]
    post_id = (await post(client, author, group_id, "Look at this"))["id"]
    for body, token in (("kind words", reader), ("rude words", reader)):
        await gql(
            client, op("CommentOnPost"), {"input": {"postId": post_id, "body": body}}, token=token
        )
        clock.advance(timedelta(seconds=1))
    rude = await gql(
        client, STAFF_POST.replace("communityPost", "post"), {"p": post_id}, token=reader
    )
    assert rude["data"]["post"]["comments"]["edges"][1]["node"]["body"] == "rude words"
    from member_api.community.models import Comment

    rude_id = str((await Comment.get(body="rude words")).id)
    operator = await staff_token(client, app.state.services, "operator-1", ["operator"])
    refused = await gql(
        client,
        MODERATE % ("hidePost", "postId", "Post"),
        {"id": post_id, "r": "x"},
        token=operator,
        path=ADMIN,
    )
    assert refused["data"]["hidePost"]["code"] == "FORBIDDEN"
    staff = await moderator(client, app)
    no_reason = await gql(
        client,
        MODERATE % ("hidePost", "postId", "Post"),
        {"id": post_id, "r": " "},
        token=staff,
        path=ADMIN,
    )
    assert no_reason["data"]["hidePost"]["code"] == "REASON_REQUIRED"
    hidden = await gql(
        client,
        MODERATE % ("hideComment", "commentId", "Comment"),
        {"id": rude_id, "r": "insult"},
        token=staff,
        path=ADMIN,
    )
    assert hidden["data"]["hideComment"] == {"__typename": "Comment", "state": "HIDDEN"}
    # The reader wrote the comment and still sees it, with its state; the author does not.
    as_author = await gql(client, POST, {"p": post_id}, token=author)
    assert [e["node"]["body"] for e in as_author["data"]["post"]["comments"]["edges"]] == [
        "kind words"
    ]
    as_writer = await gql(client, POST, {"p": post_id}, token=reader)
    assert [e["node"]["state"] for e in as_writer["data"]["post"]["comments"]["edges"]] == [
        "VISIBLE",
        "HIDDEN",
    ]
    await gql(
        client,
        MODERATE % ("hidePost", "postId", "Post"),
        {"id": post_id, "r": "spam"},
        token=staff,
        path=ADMIN,
    )
    assert ids(await gql(client, FEED, {"g": group_id}, token=reader)) == []
    own = (await gql(client, POST, {"p": post_id}, token=author))["data"]["post"]
    assert (own["state"], own["hiddenReason"]) == ("HIDDEN", "spam")
    seen_by_staff = await gql(client, STAFF_POST, {"p": post_id}, token=staff, path=ADMIN)
    staff_view = seen_by_staff["data"]["communityPost"]
    assert staff_view["state"] == "HIDDEN"
    assert [e["node"]["hiddenReason"] for e in staff_view["comments"]["edges"]] == [None, "insult"]
    log = (await gql(client, LOG, token=staff, path=ADMIN))["data"]["moderationLog"]["edges"]
    assert [(e["node"]["action"], e["node"]["targetKind"], e["node"]["reason"]) for e in log] == [
        ("HIDE", "POST", "spam"),
        ("HIDE", "COMMENT", "insult"),
    ]
    assert await ModerationAction.all().count() == 2


async def test_the_weekly_quiz(client: httpx.AsyncClient, app: Any) -> None:
    group_id, members = await group_with_members(client, app, 5)
    owner, asker, right, wrong, late = (token for _, token in members)
    quiz = {
        "groupId": group_id,
        "body": "This week: my Kelly 28",
        "question": "Genuine?",
        "imageUrls": ["https://img.example.com/kelly.jpg"],
    }
    # Any member puts up an item of theirs; the group's first this week opens at once.
    post_id = (await gql(client, CREATE_QUIZ, {"input": quiz}, token=asker))["data"]["createQuiz"][
        "id"
    ]

    async def answer(token: str, verdict: str, action: str = "answerQuiz") -> dict[str, Any]:
        body = await gql(client, ANSWER % action, {"p": post_id, "v": verdict}, token=token)
        return dict(body["data"][action])

    assert (await answer(right, "GENUINE"))["quiz"] == {
        "revealed": False,
        "answer": None,
        "myAnswer": "GENUINE",
    }
    assert (await answer(right, "COUNTERFEIT"))["code"] == "ALREADY_ANSWERED"
    assert (await answer(wrong, "COUNTERFEIT"))["__typename"] == "Post"
    assert (await answer(asker, "GENUINE"))["code"] == "OWN_QUIZ"
    assert (await answer(right, "GENUINE", "revealQuiz"))["code"] == "NOT_QUIZ_AUTHOR"
    revealed = await answer(asker, "GENUINE", "revealQuiz")
    assert revealed["quiz"] == {"revealed": True, "answer": "GENUINE", "myAnswer": None}
    assert (await answer(late, "GENUINE"))["code"] == "QUIZ_REVEALED"
    assert (await answer(owner, "COUNTERFEIT", "revealQuiz"))["code"] == "QUIZ_REVEALED"
    quiz_points = await LedgerEntry.filter(reason="QUIZ").values_list("delta", flat=True)
    assert list(quiz_points) == [20]
    balance = "{ me { points { balance } } }"
    assert (await gql(client, balance, token=right))["data"]["me"]["points"]["balance"] == 10 + 20
    assert (await gql(client, balance, token=wrong))["data"]["me"]["points"]["balance"] == 10


WEEK_OF = "query($id: ID!) { post(id: $id) { quiz { week revealed answer } } }"


async def test_one_quiz_a_week_each_group_and_the_weekly_run_turns_them_over(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    from member_api.business_calendar import business_date
    from member_api.community.quiz import run_weekly_quiz

    services = app.state.services
    group_id, members = await group_with_members(client, app, 4)
    _, first, second, player = (token for _, token in members)
    quiz = {"groupId": group_id, "body": "My bag", "question": "Genuine?"}
    this_week = await gql(
        client, CREATE_QUIZ, {"input": {**quiz, "verdict": "COUNTERFEIT"}}, token=first
    )
    waiting = await gql(
        client, CREATE_QUIZ, {"input": {**quiz, "verdict": "GENUINE"}}, token=second
    )
    open_id = this_week["data"]["createQuiz"]["id"]
    waiting_id = waiting["data"]["createQuiz"]["id"]

    async def verdict(post_id: str, choice: str, action: str = "answerQuiz") -> dict[str, Any]:
        body = await gql(client, ANSWER % action, {"p": post_id, "v": choice}, token=player)
        return dict(body["data"][action])

    async def quiz_of(post_id: str) -> dict[str, Any]:
        body = await gql(client, WEEK_OF, {"id": post_id}, token=player)
        return dict(body["data"]["post"]["quiz"])

    assert (await verdict(waiting_id, "GENUINE"))["code"] == "QUIZ_NOT_OPEN"
    assert (await quiz_of(waiting_id))["week"] is None
    assert (await verdict(open_id, "COUNTERFEIT"))["__typename"] == "Post"
    mismatch = await gql(client, ANSWER % "revealQuiz", {"p": open_id, "v": "GENUINE"}, token=first)
    assert mismatch["data"]["revealQuiz"]["code"] == "QUIZ_VERDICT_MISMATCH"

    clock.advance(timedelta(days=7))
    player = (await login(client, "13900000003"))["accessToken"]  # a week on: a new session
    today = business_date(clock.now())
    for _ in range(2):  # a second run (another replica, a retry) changes nothing
        run = await run_weekly_quiz(services, today=today)
    assert (await quiz_of(open_id))["revealed"] is True
    assert (await quiz_of(open_id))["answer"] == "COUNTERFEIT"
    assert (await quiz_of(waiting_id))["week"] == run.week.isoformat()
    assert run.opened == []  # the first run opened it; this one found the week taken
    assert (await verdict(waiting_id, "GENUINE"))["__typename"] == "Post"
    quiz_points = await LedgerEntry.filter(reason="QUIZ").values_list("delta", flat=True)
    assert list(quiz_points) == [20]  # paid once, by the run, for the right answer


async def test_group_health_per_week(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    clock.advance(timedelta(days=-7))  # last week: one post by the owner
    group_id, members = await group_with_members(client, app, 3)
    await post(client, members[0][1], group_id, "last week")
    clock.advance(timedelta(days=7))
    members = [
        (m, (await login(client, f"1390000{n:04d}"))["accessToken"])
        for n, (m, _) in enumerate(members)
    ]
    post_id = (await post(client, members[1][1], group_id, "this week"))["id"]
    await gql(client, op("LikePost"), {"input": {"postId": post_id}}, token=members[2][1])
    await gql(
        client,
        op("CommentOnPost"),
        {"input": {"postId": post_id, "body": "nice"}},
        token=members[1][1],
    )
    staff = await moderator(client, app)
    weeks = (await gql(client, HEALTH, token=staff, path=ADMIN))["data"]["groupHealth"]
    assert weeks == [
        {
            "group": {"slug": "bag-study-club"},
            "weekStarting": "2026-11-09",
            "posts": 1,
            "comments": 0,
            "activeMembers": 1,
        },
        {
            "group": {"slug": "bag-study-club"},
            "weekStarting": "2026-11-16",
            "posts": 1,
            "comments": 1,
            "activeMembers": 2,
        },
    ]
