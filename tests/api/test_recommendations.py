"""ForYou over the member API: the stored list with its reasons, ranked; never what the
member cannot use now, even when the stored list still holds it; the popular list of
the tier for a newcomer and for a member who withdrew the personalisation consent."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import date
from typing import Any

import httpx
import pytest

from member_api.business_calendar import business_today
from member_api.clock import FrozenClock
from member_api.intelligence.models import MemberRecommendation
from member_api.members.models import Member
from member_api.services import Services
from member_api.settings import Settings
from tests.commerce_support import new_member
from tests.recommendations_support import World, consent, joins, run_recommendations, world
from tests.support import gql, op, staff_token

ADMIN = "/admin/graphql"

PAGED = """
query ($first: Int!, $after: String) {
  me {
    recommendations(first: $first, after: $after) {
      edges { cursor node { reason target { ... on CommunityGroup { id } ... on Reward { id }
        ... on Event { id } ... on Post { id } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}
"""


async def for_you(
    client: httpx.AsyncClient, token: str, first: int = 20, after: str | None = None
) -> dict[str, Any]:
    if after is None:
        return await gql(client, op("ForYou"), {"first": first}, token=token)
    return await gql(client, PAGED, {"first": first, "after": after}, token=token)


def nodes(body: dict[str, Any]) -> list[dict[str, Any]]:
    assert "errors" not in body, body
    return [edge["node"] for edge in body["data"]["me"]["recommendations"]["edges"]]


async def set_consent(client: httpx.AsyncClient, token: str, granted: bool) -> None:
    body = await gql(
        client,
        op("SetConsent"),
        {"input": {"purpose": "PERSONALISATION", "granted": granted}},
        token=token,
    )
    assert body["data"]["setConsent"]["__typename"] == "Consent", body


async def stale_rows(member_id: uuid.UUID, w: World, after: int) -> None:
    """Rows a list stored earlier may hold: items the member cannot use (any more)."""
    stale = [
        ("REWARD", w.gold_reward),
        ("REWARD", w.sold_out),
        ("EVENT", w.past_event),
        ("EVENT", w.full_event),
        ("POST", w.hidden_post),
        ("GROUP", w.hermes_club),  # joined already
    ]
    for n, (kind, target) in enumerate(stale, start=after + 1):
        await MemberRecommendation.create(
            member_id=member_id,
            rank=n,
            target_kind=kind,
            target_id=target,
            score=0.01,
            reason="stale",
            day=date(2026, 1, 1),
        )


@pytest.fixture
async def viewer(
    client: httpx.AsyncClient, services: Services, clock: FrozenClock
) -> tuple[uuid.UUID, str, World]:
    w = await world(services, clock)
    member_id, token = await new_member(client, "13900000001")
    viewer_id = uuid.UUID(member_id)
    await set_consent(client, token, True)
    await joins(clock, viewer_id, w.hermes_club)
    for m in w.crowd:
        await consent(services, m)
    await run_recommendations(services, business_today(clock))
    return viewer_id, token, w


async def test_for_you_lists_the_ranked_recommendations_with_their_reasons(
    client: httpx.AsyncClient, viewer: tuple[uuid.UUID, str, World]
) -> None:
    viewer_id, token, w = viewer
    stored = await MemberRecommendation.filter(member_id=viewer_id).count()
    await stale_rows(viewer_id, w, stored)
    shown = nodes(await for_you(client, token))
    first = shown[0]
    assert first["reason"] == "Members who joined 爱马仕俱乐部 also joined 腕表俱乐部"
    assert first["target"] == {
        "__typename": "CommunityGroup",
        "id": str(w.watch_club),
        "name": "腕表俱乐部",
    }
    by_id = {node["target"]["id"]: node for node in shown}
    assert by_id[str(w.salon)]["target"]["__typename"] == "Event"
    assert by_id[str(w.salon)]["target"]["title"] == "Leather care salon"
    assert by_id[str(w.spa)]["target"] == {
        "__typename": "Reward",
        "id": str(w.spa),
        "name": "Spa voucher",
        "pointsPrice": 10,
    }
    assert by_id[str(w.post)]["target"]["body"] == "How to store a Kelly"
    assert all(node["reason"] for node in shown)
    # Never what the member cannot use, even though the stored list holds it.
    assert not set(by_id) & (w.never_shown() | {str(w.hermes_club)})
    assert "stale" not in {node["reason"] for node in shown}

    # Pages follow on from each other.
    one = await gql(client, PAGED, {"first": 2}, token=token)
    page = one["data"]["me"]["recommendations"]
    assert [n["node"]["target"]["id"] for n in page["edges"]] == [
        n["target"]["id"] for n in shown[:2]
    ]
    assert page["pageInfo"]["hasNextPage"] is True
    two = await for_you(client, token, first=2, after=page["pageInfo"]["endCursor"])
    assert [n["target"]["id"] for n in nodes(two)] == [n["target"]["id"] for n in shown[2:4]]


async def test_once_the_consent_is_withdrawn_the_popular_list_is_shown(
    client: httpx.AsyncClient, viewer: tuple[uuid.UUID, str, World]
) -> None:
    _, token, w = viewer
    personal = nodes(await for_you(client, token))
    assert personal[0]["reason"].startswith("Members who")
    await set_consent(client, token, False)
    popular = nodes(await for_you(client, token))
    assert popular
    assert {node["reason"] for node in popular} == {"Popular with 新客 members"}
    assert not {node["target"]["id"] for node in popular} & (w.never_shown() | {str(w.hermes_club)})


async def test_a_newcomer_gets_the_popular_list_of_their_tier(
    client: httpx.AsyncClient, viewer: tuple[uuid.UUID, str, World]
) -> None:
    _, _, w = viewer
    _, token = await new_member(client, "13900000002")
    await set_consent(client, token, True)
    shown = nodes(await for_you(client, token))
    assert shown
    assert {node["reason"] for node in shown} == {"Popular with 新客 members"}
    ids = [node["target"]["id"] for node in shown]
    # The clubs most members joined come first; nothing above the tier, sold out or past.
    assert set(ids[:2]) == {str(w.hermes_club), str(w.watch_club)}
    assert not set(ids) & w.never_shown()


@pytest.mark.parametrize("first", [-1, 101])
async def test_first_out_of_range_is_refused(
    client: httpx.AsyncClient, services: Services, first: int
) -> None:
    _, token = await new_member(client, "13900000003")
    body = await for_you(client, token, first=first)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT", body


async def test_a_cursor_not_given_out_is_refused(
    client: httpx.AsyncClient, services: Services
) -> None:
    _, token = await new_member(client, "13900000004")
    body = await for_you(client, token, after="bm90IG91cnM=")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_CURSOR", body


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """One report sends a post to review (hidden from everyone else)."""
    rules = dataclasses.replace(settings.community_rules, report_threshold=1)
    return dataclasses.replace(settings, community_rules=rules)


async def test_a_post_hidden_by_reports_leaves_the_stored_answers_at_once(
    client: httpx.AsyncClient, viewer: tuple[uuid.UUID, str, World]
) -> None:
    _, token, w = viewer
    before = nodes(await for_you(client, token))
    assert str(w.post) in {node["target"]["id"] for node in before}
    assert nodes(await for_you(client, token)) == before  # the stored answer
    _, reporter = await new_member(client, "13900000009")
    body = await gql(
        client,
        op("ReportPost"),
        {"input": {"postId": str(w.post), "reason": "spam"}},
        token=reporter,
    )
    assert body["data"]["reportPost"]["__typename"] == "PostReported", body
    after = nodes(await for_you(client, token))
    assert str(w.post) not in {node["target"]["id"] for node in after}


VIEW_360 = """
query ($id: ID!) {
  member360(memberId: $id) {
    displayName
    recommendations { rank targetKind targetId targetName score reason day }
  }
}
"""


async def test_the_member_360_shows_the_stored_recommendations_to_care_roles(
    client: httpx.AsyncClient,
    services: Services,
    clock: FrozenClock,
    viewer: tuple[uuid.UUID, str, World],
) -> None:
    viewer_id, _, w = viewer
    for role in ("operator", "advisor"):
        token = await staff_token(client, services, f"recs-{role}", [role])
        body = await gql(client, VIEW_360, {"id": str(viewer_id)}, token=token, path=ADMIN)
        assert "errors" not in body, body
        listed = body["data"]["member360"]["recommendations"]
        assert listed[0] == {
            "rank": 1,
            "targetKind": "GROUP",
            "targetId": str(w.watch_club),
            "targetName": "腕表俱乐部",
            "score": 0.7,
            "reason": "Members who joined 爱马仕俱乐部 also joined 腕表俱乐部",
            "day": business_today(clock).isoformat(),
        }
        assert [r["rank"] for r in listed] == list(range(1, len(listed) + 1))
    moderator = await staff_token(client, services, "recs-mod", ["moderator"])
    refused = await gql(client, VIEW_360, {"id": str(viewer_id)}, token=moderator, path=ADMIN)
    assert refused["data"]["member360"]["recommendations"] is None
    assert {e["extensions"]["code"] for e in refused["errors"]} == {"FORBIDDEN"}


async def test_a_gold_newcomer_gets_the_gold_list_with_what_gold_may_use(
    client: httpx.AsyncClient, viewer: tuple[uuid.UUID, str, World]
) -> None:
    _, _, w = viewer
    member_id, token = await new_member(client, "13900000005")
    await Member.filter(id=member_id).update(tier="GOLD")
    shown = nodes(await for_you(client, token))
    assert {node["reason"] for node in shown} == {"Popular with 金卡 members"}
    ids = {node["target"]["id"] for node in shown}
    assert str(w.gold_reward) in ids  # the gated reward is open to GOLD
    assert not ids & {str(w.sold_out), str(w.past_event), str(w.full_event)}
