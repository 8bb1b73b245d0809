"""Segments: a filter tree over facts, scores, tags, tier, consents, groups and birthday
month, compiled to one parameterised query; previewed, saved and versioned by
marketers; bad filters refused naming the node."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import BUSINESS_ZONE, FrozenClock
from member_api.commerce.models import MemberOrder
from member_api.community.models import Group, GroupMembership
from member_api.intelligence import facts
from member_api.intelligence.domain import ScoreRules
from member_api.intelligence.models import MemberScore, MemberTag
from member_api.intelligence.scores import HIGHEST_ID, LOWEST_ID
from member_api.intelligence.segment_service import members_page
from member_api.members.models import Member
from member_api.privacy.domain import Purpose
from member_api.privacy.service import set_consent
from member_api.services import Services
from tests.commerce_support import new_member
from tests.support import gql, sql_statements, staff_token

AS_OF = date(2026, 6, 30)
ADMIN = "/admin/graphql"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime.combine(AS_OF, time(12), tzinfo=BUSINESS_ZONE).astimezone(UTC))


PREVIEW = """
query ($filter: String!) {
  previewSegment(filter: $filter) { count sample { id tier } }
}
"""


async def people(client: httpx.AsyncClient, services: Services) -> dict[str, str]:
    ids = {}
    for n, name in enumerate(("gold", "silver", "new", "erased")):
        ids[name], _ = await new_member(client, f"1390000300{n}")
    await Member.filter(id=ids["gold"]).update(tier="GOLD", birthday_month=3, birthday_day=9)
    await Member.filter(id=ids["silver"]).update(tier="SILVER", birthday_month=3, birthday_day=1)
    await Member.filter(id=ids["erased"]).update(tier="GOLD", erased_at=services.clock.now())
    for n in range(5):
        day = AS_OF - timedelta(days=10 + n)
        await MemberOrder.create(
            order_id=f"o-seg-{n}",
            member_id=ids["gold"],
            paid_fen=500_000,
            paid_at=datetime.combine(day, time(12), tzinfo=BUSINESS_ZONE),
            paid_on=day,
        )
    await facts.refresh_range(AS_OF, LOWEST_ID, HIGHEST_ID, services.clock.now(), ScoreRules())
    await set_consent(
        services,
        member_id=uuid.UUID(ids["gold"]),
        purpose=Purpose.MARKETING,
        granted=True,
        policy_version=None,
    )
    for granted in (True, False):
        await set_consent(
            services,
            member_id=uuid.UUID(ids["silver"]),
            purpose=Purpose.MARKETING,
            granted=granted,
            policy_version=None,
        )
    group = await Group.create(
        slug="hermes-club",
        name="爱马仕俱乐部",
        owner_id=ids["new"],
        created_at=services.clock.now(),
    )
    ids["group"] = str(group.id)
    await GroupMembership.create(
        group_id=group.id, member_id=ids["gold"], joined_at=services.clock.now()
    )
    await MemberTag.create(
        member_id=ids["gold"], tag="VIP_100%", added_by=uuid.uuid4(), added_at=services.clock.now()
    )
    await MemberScore.create(
        member_id=ids["silver"],
        day=AS_OF,
        r=5,
        f=1,
        m=1,
        tags='["KEY_RETENTION"]',
        computed_at=services.clock.now(),
    )
    return ids


async def preview(client: httpx.AsyncClient, token: str, tree: Any) -> dict[str, Any]:
    text = tree if isinstance(tree, str) else json.dumps(tree, ensure_ascii=False)
    body = await gql(client, PREVIEW, {"filter": text}, token=token, path=ADMIN)
    return body


async def reached(client: httpx.AsyncClient, token: str, tree: Any) -> set[str]:
    body = await preview(client, token, tree)
    assert "errors" not in body, body
    found = body["data"]["previewSegment"]
    assert found["count"] == len(found["sample"])
    return {m["id"] for m in found["sample"]}


async def test_each_kind_of_node_reaches_the_right_members(
    client: httpx.AsyncClient, services: Services, backend: str
) -> None:
    ids = await people(client, services)
    token = await staff_token(client, services, "seg-marketer", ["marketer"])
    gold, silver, new = ids["gold"], ids["silver"], ids["new"]
    three = {
        "all": [
            {"fact": "orders_90d", "op": ">=", "value": 3},
            {"tier": ["GOLD", "DIAMOND"]},
            {"consent": "MARKETING", "granted": True},
        ]
    }
    for part in three["all"]:
        assert gold in await reached(client, token, part), (backend, part)
    with sql_statements() as seen:
        assert await reached(client, token, three) == {gold}
    selects = [s for s in seen if "FROM member m" in s]
    assert len(selects) == 1
    if backend == "postgres":
        assert "GOLD" not in selects[0].rsplit(": [", 1)[0]  # a parameter, not text
    cases: list[tuple[Any, set[str]]] = [
        ({"not": {"tier": ["NEW"]}}, {gold, silver}),
        ({"any": [{"tier": ["NEW"]}, {"birthdayMonth": [3]}]}, {gold, silver, new}),
        ({"birthdayMonth": [3, 4]}, {gold, silver}),
        ({"fact": "orders_90d", "op": "=", "value": 0}, {silver, new}),  # no facts: zeros
        ({"fact": "spend_90d_fen", "op": ">=", "value": 2_500_000}, {gold}),
        ({"fact": "community_actions_90d", "op": "<", "value": 1}, {gold, silver, new}),
        ({"score": "r", "op": ">=", "value": 5}, {silver}),
        ({"score": "r", "op": "=", "value": 1}, {gold, new}),  # unscored: 1
        ({"tag": "KEY_RETENTION"}, {silver}),
        ({"tag": "VIP_100%"}, {gold}),
        ({"tag": "VIP_1000"}, set()),  # _ and % are no wildcards
        ({"consent": "MARKETING", "granted": False}, {silver, new}),  # withdrawn, never asked
        ({"consent": "PERSONALISATION", "granted": True}, set()),
        ({"group": ids["group"]}, {gold}),
        ({"tag": "x'); DROP TABLE member; --"}, set()),
    ]
    for tree, expected in cases:
        assert await reached(client, token, tree) == expected, tree
    assert await Member.all().count() == 4


@pytest.mark.parametrize(
    ("tree", "place"),
    [
        ("{not json", "the root"),
        ("[" * 20_000 + "]" * 20_000, "the root"),
        ([], "the root"),
        ({}, "the root"),
        ({"tier": ["GOLD"], "fact": "x"}, "the root"),
        ({"all": []}, "all"),
        (
            {"all": [{"tier": ["GOLD"]}, {"fact": "shoe_size", "op": ">", "value": 1}]},
            "all[1].fact",
        ),
        ({"any": [{"not": {"score": "x", "op": ">", "value": 1}}]}, "any[0].not.score"),
        ({"fact": "orders_90d", "op": "~", "value": 1}, "fact"),
        ({"fact": "orders_90d", "op": ">", "value": "3"}, "fact"),
        ({"fact": "orders_90d", "op": ">", "value": 2**60}, "fact"),
        ({"fact": "orders_90d", "op": ">", "value": 1, "extra": 1}, "the root"),
        ({"tier": ["PLATINUM"]}, "tier"),
        ({"tier": []}, "tier"),
        ({"birthdayMonth": [13]}, "birthdayMonth"),
        ({"consent": "SPAM", "granted": True}, "consent"),
        ({"consent": "MARKETING"}, "consent"),
        ({"group": "not-a-group"}, "group"),
        ({"tag": ""}, "tag"),
        (
            {
                "not": {
                    "not": {
                        "not": {
                            "not": {"not": {"not": {"not": {"not": {"not": {"tier": ["GOLD"]}}}}}}
                        }
                    }
                }
            },
            "not.not.not.not.not.not.not.not.not",
        ),
    ],
)
async def test_a_bad_filter_is_refused_naming_the_node(
    client: httpx.AsyncClient, services: Services, tree: Any, place: str
) -> None:
    token = await staff_token(client, services, "seg-bad", ["marketer"])
    body = await preview(client, token, tree)
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID_FILTER"
    assert error["message"].startswith(f"at {place}:"), error["message"]


SAVE = """
mutation ($input: CreateSegmentInput!) {
  createSegment(input: $input) {
    __typename
    ... on Segment { id name version }
    ... on Error { code message }
  }
}
"""
REVISE = """
mutation ($input: ReviseSegmentInput!) {
  reviseSegment(input: $input) {
    __typename
    ... on Segment { id version }
    ... on Error { code message }
  }
}
"""
SHOW = """
query ($id: ID!) {
  segment(id: $id) { name version versions { version filter } preview { count sample { id } } }
  segments { name }
}
"""


async def test_marketers_save_and_version_segments_and_others_are_refused(
    client: httpx.AsyncClient, services: Services
) -> None:
    ids = await people(client, services)
    token = await staff_token(client, services, "seg-saver", ["marketer"])
    gold_tier = json.dumps({"tier": ["GOLD"]})
    made = (
        await gql(
            client,
            SAVE,
            {"input": {"name": " 金卡 会员 ", "filter": gold_tier}},
            token=token,
            path=ADMIN,
        )
    )["data"]["createSegment"]
    assert (made["name"], made["version"]) == ("金卡 会员", 1)
    again = (
        await gql(
            client,
            SAVE,
            {"input": {"name": "金卡 会员", "filter": gold_tier}},
            token=token,
            path=ADMIN,
        )
    )["data"]["createSegment"]
    assert again["code"] == "SEGMENT_NAME_TAKEN"
    bad = (
        await gql(
            client, SAVE, {"input": {"name": "x", "filter": '{"tier": 1}'}}, token=token, path=ADMIN
        )
    )["data"]["createSegment"]
    assert bad["code"] == "INVALID_FILTER"
    revised = (
        await gql(
            client,
            REVISE,
            {"input": {"segmentId": made["id"], "filter": json.dumps({"birthdayMonth": [3]})}},
            token=token,
            path=ADMIN,
        )
    )["data"]["reviseSegment"]
    assert revised["version"] == 2
    unknown = (
        await gql(
            client,
            REVISE,
            {"input": {"segmentId": str(uuid.uuid4()), "filter": gold_tier}},
            token=token,
            path=ADMIN,
        )
    )["data"]["reviseSegment"]
    assert unknown["code"] == "UNKNOWN_SEGMENT"
    shown = await gql(client, SHOW, {"id": made["id"]}, token=token, path=ADMIN)
    segment = shown["data"]["segment"]
    assert [v["version"] for v in segment["versions"]] == [2, 1]
    assert json.loads(segment["versions"][1]["filter"]) == {"tier": ["GOLD"]}
    assert segment["preview"]["count"] == 2  # gold and silver were born in March
    assert {m["id"] for m in segment["preview"]["sample"]} == {ids["gold"], ids["silver"]}
    assert shown["data"]["segments"] == [{"name": "金卡 会员"}]

    operator = await staff_token(client, services, "seg-operator", ["operator"])
    refused = await gql(
        client, SAVE, {"input": {"name": "y", "filter": gold_tier}}, token=operator, path=ADMIN
    )
    assert refused["data"]["createSegment"]["code"] == "FORBIDDEN"
    looked = await preview(client, operator, {"tier": ["GOLD"]})
    assert looked["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_a_segment_is_paged_through_by_id_for_whatever_acts_on_it(
    client: httpx.AsyncClient, services: Services
) -> None:
    ids = await people(client, services)
    everyone = json.dumps({"not": {"tier": ["BLACK_DIAMOND"]}})
    seen: list[str] = []
    after = None
    while True:
        page = await members_page(services, everyone, after=after, limit=2)
        if not page.sample:
            break
        seen += [str(m.id) for m in page.sample]
        after = page.sample[-1].id
    assert seen == sorted({ids["gold"], ids["silver"], ids["new"]})
