"""Score rules as versioned data staff change without a deploy (checked whole, audited,
used by the next scores), and tags staff put on members by hand, with their history."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import httpx
import pytest

from member_api.audit.models import AuditEntry
from member_api.background import runs
from member_api.clock import BUSINESS_ZONE, FrozenClock
from member_api.commerce.models import MemberOrder
from member_api.intelligence.models import MemberScore, MemberTag, ScoreRulesVersion
from member_api.intelligence.scores import member_scores
from member_api.services import Services
from tests.commerce_support import new_member
from tests.support import STAFF_LOGIN, gql, staff_token

AS_OF = date(2026, 6, 30)
ADMIN = "/admin/graphql"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.combine(AS_OF, time(12), tzinfo=BUSINESS_ZONE).astimezone(UTC))


SET_RULES = """
mutation ($input: SetScoreRulesInput!) {
  setScoreRules(input: $input) {
    __typename
    ... on ScoreRules { version rules note createdBy }
    ... on Error { code message }
    ... on ValidationError { field }
  }
}
"""
RULES = "query { scoreRules { version rules note } scoreRulesHistory { version note } }"
TAG = """
mutation ($input: MemberTagInput!) {
  tagMember(input: $input) {
    __typename
    ... on ManualTag { tag addedAt removedAt }
    ... on Error { code }
    ... on ValidationError { field }
  }
}
"""
UNTAG = TAG.replace("tagMember", "untagMember")
TAGS_360 = """
query ($id: ID!, $on: Date) {
  member360(memberId: $id) {
    now: manualTags { tag }
    then: manualTags(on: $on) { tag removedAt }
  }
}
"""


async def set_rules(
    client: httpx.AsyncClient, token: str, rules: object, note: str = "sharper recency"
) -> dict[str, object]:
    text = rules if isinstance(rules, str) else json.dumps(rules)
    body = await gql(
        client, SET_RULES, {"input": {"rules": text, "note": note}}, token=token, path=ADMIN
    )
    assert "errors" not in body, body
    result: dict[str, object] = body["data"]["setScoreRules"]
    return result


async def run_scores(services: Services, as_of: date = AS_OF) -> None:
    run = await runs.start_run(services, "member-scores", as_of)
    for chunk_id in await runs.pending_chunks(run.id):
        await runs.run_chunk(services, chunk_id)


async def test_staff_change_the_score_rules_without_a_deploy_and_the_next_scores_use_them(
    client: httpx.AsyncClient, services: Services
) -> None:
    member_id, _ = await new_member(client, "13900002001")
    day = AS_OF - timedelta(days=12)
    await MemberOrder.create(
        order_id="o-rules",
        member_id=member_id,
        paid_fen=100_000,
        paid_at=datetime.combine(day, time(12), tzinfo=BUSINESS_ZONE),
        paid_on=day,
    )
    marketer = await staff_token(client, services, "rules-marketer", ["marketer"])
    shown = await gql(client, RULES, token=marketer, path=ADMIN)
    assert shown["data"]["scoreRules"]["version"] == 0
    assert json.loads(shown["data"]["scoreRules"]["rules"])["recency_days"] == [15, 30, 90, 180]

    # Refused, each naming what is wrong; nothing is kept.
    for rules, note, code, field in (
        ({"recency_days": [30, 15, 90, 180]}, "x", "INVALID_RULES", "rules"),
        (
            {"personas": [{"code": "A", "all": [{"fact": "shoe", "op": ">", "value": 1}]}]},
            "x",
            "INVALID_RULES",
            "rules",
        ),
        ({"bogus": 1}, "x", "INVALID_RULES", "rules"),
        ("{not json", "x", "INVALID_RULES", "rules"),
        ("[" * 20_000 + "]" * 20_000, "x", "INVALID_RULES", "rules"),
        ([1, 2], "x", "INVALID_RULES", "rules"),
        ({"recency_days": [10, 30, 90, 180]}, "  ", "NOTE_REQUIRED", "note"),
    ):
        refused = await set_rules(client, marketer, rules, note)
        assert (refused["code"], refused["field"]) == (code, field), refused
    refused = await set_rules(client, marketer, {"personas": [{"code": "A", "all": []}]})
    assert "personas[0]" in str(refused["message"])
    assert await ScoreRulesVersion.all().count() == 0

    operator = await staff_token(client, services, "rules-operator", ["operator"])
    forbidden = await gql(
        client,
        SET_RULES,
        {"input": {"rules": '{"recency_days": [10, 30, 90, 180]}', "note": "x"}},
        token=operator,
        path=ADMIN,
    )
    assert forbidden["data"]["setScoreRules"]["code"] == "FORBIDDEN"

    await run_scores(services)
    first = await MemberScore.get(member_id=member_id, day=AS_OF)
    assert (first.r, first.rules_version) == (5, 0)

    made = await set_rules(client, marketer, {"recency_days": [10, 30, 90, 180]})
    assert (made["__typename"], made["version"], made["note"]) == (
        "ScoreRules",
        1,
        "sharper recency",
    )
    kept = json.loads(str(made["rules"]))
    assert kept["recency_days"] == [10, 30, 90, 180]
    assert kept["reference_order_fen"] == 400_000  # the rest as in force
    # A second change builds on the first.
    second = await set_rules(client, marketer, {"reference_order_fen": 500_000}, "new reference")
    assert json.loads(str(second["rules"]))["recency_days"] == [10, 30, 90, 180]
    history = (await gql(client, RULES, token=operator, path=ADMIN))["data"]
    assert history["scoreRules"]["version"] == 2
    assert [v["version"] for v in history["scoreRulesHistory"]] == [2, 1]

    # The next run scores under the new rules: 11 days is R4 now; the job run by hand
    # rescoring the first day too, and that day's row says which version it came from.
    await run_scores(services, AS_OF - timedelta(days=1))
    again = await MemberScore.get(member_id=member_id, day=AS_OF - timedelta(days=1))
    assert (again.r, again.rules_version) == (4, 2)
    await member_scores(services, AS_OF, dry_run=False)
    rescored = await MemberScore.get(member_id=member_id, day=AS_OF)
    assert (rescored.r, rescored.rules_version) == (4, 2)
    outcomes = await AuditEntry.filter(action="setScoreRules").values_list("outcome", flat=True)
    assert (outcomes.count("OK"), outcomes.count("INVALID_RULES")) == (2, 7)
    assert outcomes.count("NOTE_REQUIRED") == 1


async def test_staff_tag_members_by_hand_and_each_past_day_keeps_its_tags(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> None:
    member_id, _ = await new_member(client, "13900002002")
    tokens = [await staff_token(client, services, "tags-operator", ["operator"])]

    async def signed_in_again() -> None:
        login = {"u": "tags-operator", "p": "staff-pass-1"}
        body = await gql(client, STAFF_LOGIN, login, path=ADMIN)
        tokens.append(body["data"]["staffLogin"]["accessToken"])

    async def tag(mutation: str, value: str, member: str = member_id) -> dict[str, object]:
        variables = {"input": {"memberId": member, "tag": value}}
        body = await gql(client, mutation, variables, token=tokens[-1], path=ADMIN)
        assert "errors" not in body, body
        result: dict[str, object] = body["data"][
            "untagMember" if "untag" in mutation else "tagMember"
        ]
        return result

    assert (await tag(TAG, " VIP客户 "))["tag"] == "VIP客户"
    assert (await tag(TAG, "VIP客户"))["code"] == "ALREADY_TAGGED"
    assert (await tag(TAG, "press"))["__typename"] == "ManualTag"
    for bad in ("", "   ", "x" * 41, "a\u0007b", "line\nbreak"):
        refused = await tag(TAG, bad)
        assert (refused["code"], refused["field"]) == ("INVALID_TAG", "tag"), bad
    assert (await tag(TAG, "x", str(uuid.uuid4())))["code"] == "UNKNOWN_MEMBER"
    assert (await tag(TAG, "x", "not-an-id"))["code"] == "UNKNOWN_MEMBER"
    assert await MemberTag.filter(member_id=member_id).count() == 2

    first_day = AS_OF
    clock.advance(timedelta(days=1))
    await signed_in_again()
    removed = await tag(UNTAG, "press")
    assert removed["__typename"] == "ManualTag", removed
    assert removed["removedAt"] is not None
    assert (await tag(UNTAG, "press"))["code"] == "NOT_TAGGED"
    # Tagged again later: a new row; the day in between had none.
    clock.advance(timedelta(days=2))
    await signed_in_again()
    await tag(TAG, "press")

    async def seen(on: date) -> dict[str, object]:
        body = await gql(
            client, TAGS_360, {"id": member_id, "on": on.isoformat()}, token=tokens[-1], path=ADMIN
        )
        assert "errors" not in body, body
        view: dict[str, object] = body["data"]["member360"]
        return view

    view = await seen(first_day)
    assert [t["tag"] for t in view["now"]] == ["VIP客户", "press"]  # type: ignore[attr-defined]
    assert [t["tag"] for t in view["then"]] == ["VIP客户", "press"]  # type: ignore[attr-defined]
    between = await seen(first_day + timedelta(days=1))
    assert [t["tag"] for t in between["then"]] == ["VIP客户"]  # type: ignore[attr-defined]
    before = await seen(first_day - timedelta(days=1))
    assert before["then"] == []

    authenticator = await staff_token(client, services, "tags-auth", ["authenticator"])
    refused = await gql(
        client, TAG, {"input": {"memberId": member_id, "tag": "x"}}, token=authenticator, path=ADMIN
    )
    assert refused["data"]["tagMember"]["code"] == "FORBIDDEN"
    audited = await AuditEntry.filter(action__in=["tagMember", "untagMember"]).count()
    assert audited >= 10
