"""Staff see the outbox and replay dead letters (operators only)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.outbox.domain import OutboxStatus
from member_api.outbox.models import OutboxMessage
from member_api.outbox.service import deliver_due
from member_api.services import Services
from member_api.settings import Settings
from tests.outbox_support import queue, with_gateway
from tests.stubs import GatewayStub, gateway_stub
from tests.support import gql, staff_token

MESSAGES = """
query($status: OutboxMessageStatus, $channel: OutboxChannel, $first: Int!, $after: String) {
  outboxMessages(status: $status, channel: $channel, first: $first, after: $after) {
    edges { node { id channel recipient payload dedupeKey status attempts lastError sentAt } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
REPLAY = """
mutation($id: ID!) {
  replayOutboxMessage(input: {id: $id}) {
    __typename
    ... on OutboxMessage { id status attempts lastError }
    ... on Error { code message }
  }
}
"""


@pytest.fixture
def gateway() -> Iterator[GatewayStub]:
    with gateway_stub() as stub:
        yield stub


@pytest.fixture
def settings(settings: Settings, gateway: GatewayStub) -> Settings:
    return with_gateway(settings, gateway, outbox_max_attempts=2)


async def admin(
    client: httpx.AsyncClient, document: str, token: str, **variables: Any
) -> dict[str, Any]:
    body = await gql(client, document, variables, token=token, path="/admin/graphql")
    assert "errors" not in body, body
    data: dict[str, Any] = body["data"]
    return data


async def test_operators_list_dead_letters_and_replay_them(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock, gateway: GatewayStub
) -> None:
    services: Services = app.state.services
    operator = await staff_token(client, services, "outbox-op", ["operator"])
    gateway.default = (500, {"error": "down"})
    dead = await queue(clock.now(), recipient="member-1", payload={"title": "A"}, key="k:dead")
    for _ in range(2):
        assert await deliver_due(services, now=clock.now(), limit=10) == 1
        clock.set((await OutboxMessage.get(id=dead.id)).next_attempt_at)
    pending = await queue(clock.now(), key="k:pending")
    await OutboxMessage.filter(id=pending.id).update(next_attempt_at=clock.now().replace(year=2999))

    everything = await admin(client, MESSAGES, operator, first=10)
    ids = [edge["node"]["id"] for edge in everything["outboxMessages"]["edges"]]
    assert ids == [str(pending.id), str(dead.id)]  # newest first
    page = await admin(client, MESSAGES, operator, status="DEAD", channel="APP_PUSH", first=10)
    [edge] = page["outboxMessages"]["edges"]
    assert edge["node"] == {
        "id": str(dead.id),
        "channel": "APP_PUSH",
        "recipient": "member-1",
        "payload": {"title": "A"},
        "dedupeKey": "k:dead",
        "status": "DEAD",
        "attempts": 2,
        "lastError": 'HTTP 500: {"error": "down"}',
        "sentAt": None,
    }
    assert (await admin(client, MESSAGES, operator, channel="SMS", first=10))["outboxMessages"][
        "edges"
    ] == []
    first = await admin(client, MESSAGES, operator, first=1)
    cursor = first["outboxMessages"]["pageInfo"]["endCursor"]
    second = await admin(client, MESSAGES, operator, first=1, after=cursor)
    assert [e["node"]["id"] for e in second["outboxMessages"]["edges"]] == [str(dead.id)]

    replayed = (await admin(client, REPLAY, operator, id=str(dead.id)))["replayOutboxMessage"]
    assert replayed["__typename"] == "OutboxMessage"
    assert (replayed["status"], replayed["attempts"]) == ("PENDING", 0)
    again = (await admin(client, REPLAY, operator, id=str(dead.id)))["replayOutboxMessage"]
    assert (again["__typename"], again["code"]) == ("ConflictError", "NOT_DEAD")

    gateway.default = (200, {"ok": True})
    assert await deliver_due(services, now=clock.now(), limit=10) == 1
    assert (await OutboxMessage.get(id=dead.id)).status == OutboxStatus.SENT


async def test_replay_refuses_unknown_ids_and_other_roles(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    services: Services = app.state.services
    operator = await staff_token(client, services, "outbox-op", ["operator"])
    moderator = await staff_token(client, services, "outbox-mod", ["moderator"])
    for unknown in (str(uuid.uuid4()), "not-an-id"):
        result = (await admin(client, REPLAY, operator, id=unknown))["replayOutboxMessage"]
        assert (result["__typename"], result["code"]) == ("NotFoundError", "UNKNOWN_MESSAGE")
    message = await queue(clock.now())
    refused = (await admin(client, REPLAY, moderator, id=str(message.id)))["replayOutboxMessage"]
    assert (refused["__typename"], refused["code"]) == ("ForbiddenError", "FORBIDDEN")
    body = await gql(client, MESSAGES, {"first": 5}, token=moderator, path="/admin/graphql")
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert (await OutboxMessage.get(id=message.id)).status == OutboxStatus.PENDING
