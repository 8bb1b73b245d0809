"""Stored answers to the clients' registered reads: served without running anything,
never after a write to what they show, and still held to tokens and budgets."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest

from member_api import freshness
from member_api.auth.revocation import end_member_sessions
from member_api.clock import FrozenClock
from member_api.graphql.persisted import sha256_hex
from member_api.provenance.models import Scan
from member_api.settings import Settings
from tests.commerce_support import new_member, paid, send_event
from tests.community_support import group_with_members, post
from tests.provenance_support import register_item, staff_pair
from tests.rewards_support import create_reward, operator_token, redeem
from tests.support import gql, op, sql_statements

ADMIN = "/admin/graphql"
ADJUST = """
mutation($input: AdjustPointsInput!) {
  adjustPoints(input: $input) { __typename }
}
"""


async def centre(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    body = await gql(client, op("MemberCentre"), token=token)
    assert "errors" not in body, body
    return dict(body["data"]["me"])


def hits(app: Any, name: str) -> float:
    counter = app.state.services.metrics.responses.labels(name, "hit")
    return float(counter._value.get())


async def test_a_repeated_read_is_answered_from_the_store_without_sql(
    client: httpx.AsyncClient, app: Any
) -> None:
    _, token = await new_member(client, "13900000001")
    first = await client.post(
        "/graphql",
        json={"query": op("MemberCentre")},
        headers={"authorization": f"Bearer {token}"},
    )
    assert first.status_code == 200
    with sql_statements() as statements:
        second = await client.post(
            "/graphql",
            json={"query": op("MemberCentre")},
            headers={"authorization": f"Bearer {token}"},
        )
    assert statements == []
    assert second.content == first.content
    assert second.json()["extensions"]["cost"]["requestedQueryCost"] > 0
    assert hits(app, "MemberCentre") == 1


async def test_the_persisted_hash_alone_is_served_from_the_store(
    client: httpx.AsyncClient, app: Any
) -> None:
    _, token = await new_member(client, "13900000001")
    digest = sha256_hex(app.state.services.persisted.registered_text("MemberCentre"))
    body = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}
    headers = {"authorization": f"Bearer {token}"}
    first = await client.post("/graphql", json=body, headers=headers)
    second = await client.post("/graphql", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert second.content == first.content
    assert hits(app, "MemberCentre") == 1


async def test_every_kind_of_write_is_seen_by_the_next_read(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    before = await centre(client, token)
    assert await centre(client, token) == before  # stored now

    # The member's own mutation.
    checked = await gql(client, op("CheckIn"), token=token)
    assert "errors" not in checked, checked
    after_check_in = await centre(client, token)
    assert after_check_in["checkIn"]["checkedInToday"] is True
    assert after_check_in["points"]["balance"] > before["points"]["balance"]

    # The commerce systems' webhook.
    response = await send_event(client, clock, paid(member_id, 500, at=clock.now()))
    assert response.status_code == 200, response.text
    after_order = await centre(client, token)
    assert after_order["points"]["balance"] == after_check_in["points"]["balance"] + 500

    # A staff member.
    staff = await operator_token(client, app.state.services)
    adjust = {"input": {"memberId": member_id, "delta": 7, "note": "goodwill"}}
    adjusted = await gql(client, ADJUST, adjust, token=staff, path=ADMIN)
    assert adjusted["data"]["adjustPoints"]["__typename"] == "PointsAdjusted", adjusted
    after_staff = await centre(client, token)
    assert after_staff["points"]["balance"] == after_order["points"]["balance"] + 7


async def test_another_members_like_and_new_name_reach_the_feed(
    client: httpx.AsyncClient, app: Any
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    (_, owner), (_, other) = members
    created = await post(client, owner, group_id, "My new bag")
    variables = {"groupId": group_id, "first": 20}

    async def feed() -> dict[str, Any]:
        body = await gql(client, op("GroupFeed"), variables, token=owner)
        assert "errors" not in body, body
        return dict(body["data"]["communityGroup"]["posts"]["edges"][0]["node"])

    assert (await feed())["likeCount"] == 0
    assert (await feed())["likeCount"] == 0  # from the store
    liked = await gql(client, op("LikePost"), {"input": {"postId": created["id"]}}, token=other)
    assert "errors" not in liked, liked
    assert (await feed())["likeCount"] == 1
    renamed = await gql(
        client, op("UpdateProfile"), {"input": {"displayName": "Renamed"}}, token=owner
    )
    assert "errors" not in renamed, renamed
    assert (await feed())["author"]["displayName"] == "Renamed"


async def test_another_members_redemption_moves_the_stock_shown(
    client: httpx.AsyncClient, app: Any
) -> None:
    staff = await operator_token(client, app.state.services)
    reward = await create_reward(client, staff, pointsPrice=1, stock=5)
    buyer_id, buyer = await new_member(client, "13900000002")
    _, viewer = await new_member(client, "13900000003")
    adjust = {"input": {"memberId": buyer_id, "delta": 10, "note": "set-up"}}
    await gql(client, ADJUST, adjust, token=staff, path=ADMIN)
    variables = {"first": 20}

    async def stock() -> int:
        body = await gql(client, op("RewardCatalogue"), variables, token=viewer)
        edges = body["data"]["rewards"]["edges"]
        return int(next(e["node"]["stock"] for e in edges if e["node"]["id"] == reward["id"]))

    assert await stock() == 5
    assert await stock() == 5
    assert hits(app, "RewardCatalogue") >= 1
    redeemed = await redeem(client, buyer, reward["id"])
    assert redeemed["data"]["redeemReward"]["__typename"] == "Redemption", redeemed
    assert await stock() == 4


async def test_a_stored_answer_still_refuses_an_expired_token(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    _, token = await new_member(client, "13900000001")
    await centre(client, token)
    await centre(client, token)
    assert hits(app, "MemberCentre") == 1
    clock.advance(timedelta(seconds=app.state.services.settings.access_token_ttl_seconds + 1))
    body = await gql(client, op("MemberCentre"), token=token)
    assert body.get("data") is None or body["data"]["me"] is None
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED", body
    assert hits(app, "MemberCentre") == 1


async def test_a_stored_answer_is_not_served_to_ended_sessions(
    client: httpx.AsyncClient, app: Any
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await centre(client, token)
    services = app.state.services
    await end_member_sessions(
        services.cache,
        services.clock,
        uuid.UUID(member_id),
        access_ttl_seconds=services.settings.access_token_ttl_seconds,
    )
    body = await gql(client, op("MemberCentre"), token=token)
    assert body["errors"][0]["extensions"]["code"] == "ACCOUNT_FROZEN", body


class TestBudget:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, requests_per_member=3, requests_per_address=100)

    async def test_stored_answers_count_against_the_request_budget(
        self, client: httpx.AsyncClient, app: Any
    ) -> None:
        # Signing up counts once; then a computed answer, a stored one, and refusals:
        # were stored answers not counted, every request after the first would pass.
        _, token = await new_member(client, "13900000001")
        headers = {"authorization": f"Bearer {token}"}
        statuses = []
        for _ in range(4):
            response = await client.post(
                "/graphql", json={"query": op("MemberCentre")}, headers=headers
            )
            statuses.append(response.status_code)
        assert statuses == [200, 200, 429, 429]
        assert hits(app, "MemberCentre") == 1
        refused = response.json()
        assert refused["errors"][0]["extensions"]["code"] == "RATE_LIMITED"
        assert int(response.headers["retry-after"]) >= 1


async def test_get_requests_carry_an_etag_and_get_304_when_unchanged(
    client: httpx.AsyncClient, app: Any
) -> None:
    _, token = await new_member(client, "13900000001")
    digest = sha256_hex(app.state.services.persisted.registered_text("MemberCentre"))
    params = {
        "operationName": "MemberCentre",
        "extensions": json.dumps({"persistedQuery": {"version": 1, "sha256Hash": digest}}),
    }
    headers = {"authorization": f"Bearer {token}", "accept": "application/json"}
    first = await client.get("/graphql", params=params, headers=headers)
    assert first.status_code == 200, first.text
    etag = first.headers["etag"]
    again = await client.get("/graphql", params=params, headers={**headers, "if-none-match": etag})
    assert again.status_code == 304
    assert again.content == b""
    await gql(client, op("UpdateProfile"), {"input": {"displayName": "New"}}, token=token)
    changed = await client.get(
        "/graphql", params=params, headers={**headers, "if-none-match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert changed.json()["data"]["me"]["displayName"] == "New"


async def test_nothing_is_stored_while_a_write_is_in_progress(
    client: httpx.AsyncClient, app: Any
) -> None:
    member_id, token = await new_member(client, "13900000001")
    services = app.state.services
    async with freshness.writing(services.cache) as writes:
        await writes.touch(freshness.member(member_id))
        await centre(client, token)
        await centre(client, token)
        assert hits(app, "MemberCentre") == 0
    await centre(client, token)
    await centre(client, token)
    assert hits(app, "MemberCentre") == 1


class TestSwitchedOff:
    @pytest.fixture
    def settings(self, settings: Settings) -> Settings:
        return dataclasses.replace(settings, response_cache_size=0)

    async def test_every_request_runs_when_the_cache_is_off(
        self, client: httpx.AsyncClient, app: Any
    ) -> None:
        _, token = await new_member(client, "13900000001")
        await centre(client, token)
        with sql_statements() as statements:
            await centre(client, token)
        assert statements
        assert hits(app, "MemberCentre") == 0


async def test_a_stored_item_page_still_records_each_scan(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    """An item's page is stored too, but every look-up is a scan: one from a place not
    seen in the last ten minutes is recorded, and the page is built again with it."""
    operator, _ = await staff_pair(client, app)
    public_id = str((await register_item(client, operator))["publicId"])

    async def look_up() -> dict[str, Any]:
        body = await gql(client, op("ScanItem"), {"code": public_id})
        assert "errors" not in body, body
        return dict(body["data"]["provenance"])

    first = await look_up()  # the first scan moves the item's version as it is recorded
    assert await look_up() == first
    assert await look_up() == first
    assert hits(app, "ScanItem") == 1
    assert await Scan.filter(item__public_id=public_id).count() == 1
    clock.advance(timedelta(minutes=11))
    await look_up()  # found stored, but a new scan: recorded, and the page built again
    assert await Scan.filter(item__public_id=public_id).count() == 2
    assert hits(app, "ScanItem") == 1
    await look_up()
    await look_up()
    assert hits(app, "ScanItem") == 2
    assert await Scan.filter(item__public_id=public_id).count() == 2


async def test_a_registered_operation_spaced_differently_is_served_from_the_store(
    client: httpx.AsyncClient, app: Any
) -> None:
    _, token = await new_member(client, "13900000001")
    squeezed = " ".join(op("MemberCentre").split())
    assert squeezed != op("MemberCentre")
    first = await gql(client, squeezed, token=token)
    assert await gql(client, op("MemberCentre"), token=token) == first
    assert hits(app, "MemberCentre") == 1


async def test_answers_are_stored_again_as_soon_as_a_write_has_ended(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    """Every write closes what it announced: none leaves answers uncacheable behind it."""
    member_id, token = await new_member(client, "13900000001")
    await gql(client, op("CheckIn"), token=token)  # the member's own mutation
    await send_event(client, clock, paid(member_id, 5, at=clock.now()))  # a commerce event
    staff = await operator_token(client, app.state.services)
    adjust = {"input": {"memberId": member_id, "delta": 1, "note": "goodwill"}}
    await gql(client, ADJUST, adjust, token=staff, path=ADMIN)  # a staff change
    await centre(client, token)
    await centre(client, token)
    assert hits(app, "MemberCentre") == 1


async def test_a_failing_store_never_fails_the_request(
    client: httpx.AsyncClient, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, token = await new_member(client, "13900000001")
    expected = await centre(client, token)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the store broke")

    monkeypatch.setattr(app.state.services.responses, "answer", broken)
    assert await centre(client, token) == expected
