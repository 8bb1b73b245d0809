"""Negative remarks about the service in posts and comments raise one care alert each:
sent for classification once the write is committed, swept up when the send was lost."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from member_api.audit.models import AuditEntry
from member_api.background import tasks
from member_api.background.scheduler import ClaimingScheduleSource
from member_api.clock import FrozenClock
from member_api.community.models import Comment
from member_api.intelligence import sentiment_service
from member_api.intelligence.models import CareAlert, ContentSentiment, SentimentPhrase
from member_api.intelligence.sentiment_service import SourceKind
from member_api.members.models import Member
from member_api.privacy.erasure import erase_member
from member_api.settings import Settings
from tests.community_support import group_with_members, post
from tests.support import gql, op, staff_token

ADMIN = "/admin/graphql"
ALERTS = """
query($first: Int!) {
  careAlerts(first: $first) {
    edges { node { memberId sourceKind sourceId matchedPhrases status } }
    pageInfo { hasNextPage }
  }
}
"""
MEMBER_VIEW = """
query($id: ID!) {
  member360(memberId: $id) {
    negativeRemarks
    careAlerts { edges { node { sourceKind matchedPhrases } } }
  }
}
"""
ADD = """
mutation($kind: SentimentPhraseKind!, $phrase: String!) {
  addSentimentPhrase(input: {kind: $kind, phrase: $phrase}) {
    __typename ... on SentimentPhrase { kind phrase builtIn } ... on Error { code }
  }
}
"""
REMOVE = ADD.replace("addSentimentPhrase", "removeSentimentPhrase")


async def comment(client: httpx.AsyncClient, token: str, post_id: str, body: str) -> str:
    answer = await gql(
        client, op("CommentOnPost"), {"input": {"postId": post_id, "body": body}}, token=token
    )
    created = answer["data"]["commentOnPost"]
    assert created["__typename"] == "Comment", answer
    return str(created["id"])


async def verdict(kind: str, source_id: str) -> ContentSentiment:
    """The verdict once the task sent after the write has run (in process here)."""
    for _ in range(200):
        row = await ContentSentiment.get_or_none(source_kind=kind, source_id=source_id)
        if row is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError(f"{kind} {source_id} was not classified")


async def test_a_negative_comment_raises_one_alert_and_a_positive_one_none(
    client: httpx.AsyncClient, app: Any, services: Any
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    member_id, token = members[1]
    created = await post(client, token, group_id, "分享一下我的新包")
    bad = await comment(client, token, created["id"], "鉴定太慢了，客服也没人理")
    good = await comment(client, token, created["id"], "鉴定很快，客服很好")

    assert not (await verdict("POST", created["id"])).negative
    negative = await verdict("COMMENT", bad)
    assert negative.negative
    assert negative.matched == ["鉴定", "慢", "客服", "没人理"]
    assert not (await verdict("COMMENT", good)).negative
    (alert,) = await CareAlert.all()
    assert (alert.member_id, alert.source_kind, alert.source_id) == (
        uuid.UUID(member_id),
        "COMMENT",
        uuid.UUID(bad),
    )
    assert (alert.status, alert.matched) == ("OPEN", ["鉴定", "慢", "客服", "没人理"])

    # Delivered again, or swept: nothing new.
    again = await sentiment_service.classify_source(services, SourceKind.COMMENT, uuid.UUID(bad))
    assert again is not None
    assert again.id == negative.id
    assert await sentiment_service.sweep(services) == 0
    assert await CareAlert.all().count() == 1
    assert await ContentSentiment.all().count() == 3


async def test_the_sweep_classifies_what_was_never_sent_once(
    client: httpx.AsyncClient, app: Any, services: Any, clock: FrozenClock
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    member_id, token = members[1]
    created = await post(client, token, group_id, "今天收到了新包")
    await verdict("POST", created["id"])
    # Committed by a process that died before it sent the task.
    lost = await Comment.create(
        post_id=created["id"], author_id=member_id, body="售后差，退款半个月还没到账",
        created_at=clock.now(),
    )  # fmt: skip
    long_ago = await Comment.create(
        post_id=created["id"], author_id=member_id, body="售后差",
        created_at=clock.now() - timedelta(days=3),
    )  # fmt: skip
    assert await sentiment_service.sweep(services) == 1
    assert await sentiment_service.sweep(services) == 0
    alert = await CareAlert.get(source_id=lost.id)
    assert alert.matched == ["售后差", "退款", "没到账"]
    assert not await ContentSentiment.exists(source_id=long_ago.id)

    # Care sees it, newest first; other roles do not.
    advisor = await staff_token(client, services, "care-advisor", ["advisor"])
    listed = await gql(client, ALERTS, {"first": 10}, token=advisor, path=ADMIN)
    edges = listed["data"]["careAlerts"]["edges"]
    assert [e["node"]["sourceId"] for e in edges] == [str(lost.id)]
    assert edges[0]["node"]["memberId"] == member_id
    assert await AuditEntry.filter(action="careAlerts", member_id=member_id).exists()
    view = await gql(client, MEMBER_VIEW, {"id": member_id}, token=advisor, path=ADMIN)
    assert view["data"]["member360"]["negativeRemarks"] == 1
    alerts = view["data"]["member360"]["careAlerts"]["edges"]
    assert alerts == [
        {"node": {"sourceKind": "COMMENT", "matchedPhrases": ["售后差", "退款", "没到账"]}}
    ]
    for role in ("moderator", "marketer", "authenticator"):
        other = await staff_token(client, services, f"not-care-{role}", [role])
        refused = await gql(client, ALERTS, {"first": 10}, token=other, path=ADMIN)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # Erased, the member's verdicts and alerts go, and the sweep leaves their posts be.
    await Member.filter(id=member_id).update(erasure_due_at=clock.now() - timedelta(minutes=1))
    assert await erase_member(services, uuid.UUID(member_id))
    assert not await ContentSentiment.filter(member_id=member_id).exists()
    assert not await CareAlert.filter(member_id=member_id).exists()
    assert await sentiment_service.sweep(services) == 0


async def test_a_phrase_operators_add_changes_what_raises_an_alert(
    client: httpx.AsyncClient, app: Any, services: Any
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    _, token = members[1]
    created = await post(client, token, group_id, "寄卖的包被压价压得厉害")
    assert not (await verdict("POST", created["id"])).negative

    operator = await staff_token(client, services, "phrase-op", ["operator"])
    added = await gql(client, ADD, {"kind": "NEGATIVE", "phrase": " 压价 "}, token=operator,
                      path=ADMIN)  # fmt: skip
    assert added["data"]["addSentimentPhrase"] == {
        "__typename": "SentimentPhrase",
        "kind": "NEGATIVE",
        "phrase": "压价",
        "builtIn": False,
    }
    (entry,) = await AuditEntry.filter(action="addSentimentPhrase")
    assert (entry.target_kind, entry.target_id) == ("SentimentPhrase", "NEGATIVE:压价")
    assert entry.diff["after"] == {"kind": "NEGATIVE", "phrase": "压价", "active": True}

    again = await post(client, token, group_id, "寄卖的包又被压价了")
    assert (await verdict("POST", again["id"])).matched == ["寄卖", "压价"]
    assert await CareAlert.filter(source_id=again["id"]).exists()

    # A built-in phrase taken away no longer counts; put back, its row goes.
    moderator = await staff_token(client, services, "phrase-mod", ["moderator"])
    removed = await gql(client, REMOVE, {"kind": "COMPLAINT", "phrase": "鉴定慢"},
                        token=moderator, path=ADMIN)  # fmt: skip
    assert removed["data"]["removeSentimentPhrase"]["builtIn"] is True
    assert not (await sentiment_service.lexicon()).has(sentiment_service.PhraseKind.COMPLAINT,
                                                       "鉴定慢")  # fmt: skip
    back = await gql(client, ADD, {"kind": "COMPLAINT", "phrase": "鉴定慢"}, token=moderator,
                     path=ADMIN)  # fmt: skip
    assert back["data"]["addSentimentPhrase"]["builtIn"] is True
    assert await SentimentPhrase.all().values_list("phrase", flat=True) == ["压价"]

    # Bad input: a typed error and nothing changed.
    cases = [
        (ADD, "NEGATIVE", "压价", "PHRASE_ALREADY_ACTIVE"),
        (ADD, "NEGATIVE", "太 慢", "INVALID_PHRASE"),
        (ADD, "NEGATIVE", "", "INVALID_PHRASE"),
        (ADD, "NEGATIVE", "慢" * 13, "PHRASE_TOO_LONG"),
        (REMOVE, "ASPECT", "天气", "UNKNOWN_PHRASE"),
    ]
    for query, kind, phrase, code in cases:
        body = await gql(client, query, {"kind": kind, "phrase": phrase}, token=operator,
                         path=ADMIN)  # fmt: skip
        (result,) = body["data"].values()
        assert result["code"] == code, (phrase, body)
    assert await SentimentPhrase.all().values_list("phrase", flat=True) == ["压价"]

    # Roles: care advisors and marketers do not change phrases.
    for role in ("advisor", "marketer"):
        other = await staff_token(client, services, f"no-phrases-{role}", [role])
        refused = await gql(client, ADD, {"kind": "NEGATIVE", "phrase": "拖沓"}, token=other,
                            path=ADMIN)  # fmt: skip
        assert refused["data"]["addSentimentPhrase"]["code"] == "FORBIDDEN"
    assert await SentimentPhrase.all().count() == 1


async def test_a_send_that_fails_leaves_the_comment_and_the_sweep_alerts(
    client: httpx.AsyncClient, app: Any, services: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    _, token = members[1]
    created = await post(client, token, group_id, "我的新包")
    await verdict("POST", created["id"])

    async def broker_away(*args: Any) -> None:
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.classify_content, "kiq", broker_away)
    kept = await comment(client, token, created["id"], "发货太慢了，客服也不回消息")
    assert await Comment.exists(id=kept)
    assert not await ContentSentiment.exists(source_id=kept)
    assert await sentiment_service.sweep(services) == 1
    assert (await CareAlert.get(source_id=kept)).source_kind == "COMMENT"


async def test_the_scheduler_sweeps_every_minute() -> None:
    schedules = await ClaimingScheduleSource(Settings()).get_schedules()
    (sweep,) = [s for s in schedules if s.schedule_id == "sentiment:sweep"]
    assert (sweep.task_name, sweep.cron) == (tasks.sweep_sentiment.task_name, "* * * * *")


@pytest.mark.parametrize("backend", ["postgres"])
async def test_deliveries_at_once_write_one_verdict_and_one_alert(
    client: httpx.AsyncClient, app: Any, services: Any, clock: FrozenClock
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    member_id, token = members[1]
    created = await post(client, token, group_id, "我的新包")
    await verdict("POST", created["id"])
    lost = await Comment.create(
        post_id=created["id"], author_id=member_id, body="客服太敷衍了", created_at=clock.now()
    )
    kind = SourceKind.COMMENT
    await asyncio.gather(
        sentiment_service.sweep(services),
        *(sentiment_service.classify_source(services, kind, lost.id) for _ in range(6)),
    )
    assert await ContentSentiment.filter(source_id=lost.id).count() == 1
    assert await CareAlert.filter(source_id=lost.id).count() == 1
