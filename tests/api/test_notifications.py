"""The inbox: newest first, keyset pages that neither skip nor repeat while mail arrives."""

from __future__ import annotations

import uuid
from datetime import timedelta

import httpx

from member_api.clock import FrozenClock
from member_api.notifications.service import notify
from tests.commerce_support import new_member
from tests.support import gql, op


async def page(client: httpx.AsyncClient, token: str, first: int, after: str | None) -> dict:
    body = await gql(client, op("Notifications"), {"first": first, "after": after}, token=token)
    assert "errors" not in body, body
    return dict(body["data"]["me"]["notifications"])


async def test_pages_have_no_gaps_or_repeats_while_new_ones_arrive(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    member = uuid.UUID(member_id)
    for n in range(7):  # two share a timestamp, to exercise the id tie-break
        at = clock.now() - timedelta(minutes=10 - (n if n != 6 else 5))
        await notify(member_id=member, kind="TEST", title=f"old {n}", body="", at=at)
    seen: list[str] = []
    after = None
    for round_ in range(10):
        result = await page(client, token, 3, after)
        seen += [edge["node"]["title"] for edge in result["edges"]]
        await notify(member_id=member, kind="TEST", title=f"new {round_}", body="", at=clock.now())
        clock.advance(timedelta(seconds=1))
        if not result["pageInfo"]["hasNextPage"]:
            break
        after = result["pageInfo"]["endCursor"]
    assert sorted(seen) == sorted(f"old {n}" for n in range(7))
    assert len(seen) == len(set(seen))


async def test_bad_arguments_are_client_errors(client: httpx.AsyncClient) -> None:
    _, token = await new_member(client, "13900000001")
    too_many = await gql(client, op("Notifications"), {"first": 101}, token=token)
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"
    bogus = await gql(client, op("Notifications"), {"first": 5, "after": "bm9wZQ"}, token=token)
    assert bogus["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"
    forged = await gql(
        client, op("Notifications"), {"first": 5, "after": "WyJ4IiwgMV0="}, token=token
    )
    assert forged["errors"][0]["extensions"]["code"] == "INVALID_CURSOR"


async def test_a_notification_is_marked_read_once_and_only_by_its_member(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000011")
    _, other = await new_member(client, "13900000012")
    await notify(member_id=uuid.UUID(member_id), kind="TEST", title="hi", body="", at=clock.now())
    (edge,) = (await page(client, token, 5, None))["edges"]
    assert edge["node"]["readAt"] is None
    notification_id = edge["node"]["id"]

    async def mark(who: str, target: str) -> dict:
        body = await gql(client, op("MarkNotificationRead"), {"input": {"id": target}}, token=who)
        return dict(body["data"]["markNotificationRead"])

    clock.advance(timedelta(minutes=1))
    read = await mark(token, notification_id)
    assert (read["__typename"], read["id"]) == ("Notification", notification_id)
    first_read = read["readAt"]
    assert first_read is not None
    clock.advance(timedelta(minutes=1))
    assert (await mark(token, notification_id))["readAt"] == first_read  # once
    for who, target in ((other, notification_id), (token, "nope"), (token, str(uuid.uuid4()))):
        refused = await mark(who, target)
        assert refused["code"] == "UNKNOWN_NOTIFICATION"
    (edge,) = (await page(client, token, 5, None))["edges"]
    assert edge["node"]["readAt"] == first_read
    anonymous = await gql(client, op("MarkNotificationRead"), {"input": {"id": notification_id}})
    assert anonymous["data"]["markNotificationRead"]["code"] == "UNAUTHENTICATED"
