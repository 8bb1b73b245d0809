"""The New tier's free first authentication: a once-ever right, used by the commerce
systems' first `authentication.completed` event, in that event's transaction, once."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from member_api.clock import FrozenClock
from member_api.commerce import service as commerce
from member_api.commerce.domain import parse_event
from member_api.commerce.models import CommerceEvent
from member_api.members.models import Member
from member_api.rights import service as rights
from member_api.rights.domain import FIRST_AUTHENTICATION_FREE
from member_api.rights.models import RightUsage
from member_api.settings import Settings, read_rules
from tests.commerce_support import new_member, send_event
from tests.support import gql, staff_token

ADMIN = "/admin/graphql"
RIGHTS = "{ me { rights { code name minTier { code } usage { used limit period periodEnd } } } }"
USE = """
mutation($id: ID!, $code: String!) {
  recordRightUse(input: {memberId: $id, rightCode: $code, note: "at the counter"}) {
    __typename
    ... on RightUsage { used limit period periodEnd }
    ... on Error { code message }
  }
}
"""
UNUSED = {"used": 0, "limit": 1, "period": "ONCE", "periodEnd": "9999-12-31"}
USED = {**UNUSED, "used": 1}


@pytest.fixture
def rules() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(settings: Settings, rules: dict[str, Any], tmp_path: Path) -> Settings:
    """The suite's settings with the business rules read from a RULES_FILE."""
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules), encoding="utf-8")
    return dataclasses.replace(settings, **read_rules({"RULES_FILE": str(path)}))


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


@pytest.fixture
async def operator_token(client: httpx.AsyncClient, app: Any) -> str:
    return await staff_token(client, app.state.services, "ops", ["operator"])


def authentication(member_id: str, n: int, clock: FrozenClock) -> dict[str, object]:
    return {
        "eventId": f"evt-auth-{member_id[:8]}-{n}",
        "type": "authentication.completed",
        "occurredAt": (clock.now() - timedelta(hours=n)).isoformat(),
        "memberId": member_id,
        "itemPublicId": f"item-{member_id[:8]}-{n}",
    }


async def first_authentication(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    body = await gql(client, RIGHTS, token=token)
    assert "errors" not in body, body
    (right,) = [r for r in body["data"]["me"]["rights"] if r["code"] == FIRST_AUTHENTICATION_FREE]
    return dict(right)


async def uses(member_id: str) -> list[tuple[Any, ...]]:
    rows = await RightUsage.filter(member_id=member_id, right_code=FIRST_AUTHENTICATION_FREE)
    return [(row.sequence, row.staff_id, row.note) for row in rows]


async def test_a_new_member_holds_it_unused(client: httpx.AsyncClient) -> None:
    _, token = await new_member(client, "13900000001")
    right = await first_authentication(client, token)
    assert right == {
        "code": FIRST_AUTHENTICATION_FREE,
        "name": "首次鉴定免费",
        "minTier": {"code": "NEW"},
        "usage": UNUSED,
    }


async def test_a_member_who_reached_gold_directly_holds_it_too(client: httpx.AsyncClient) -> None:
    member_id, token = await new_member(client, "13900000001")
    await Member.filter(id=member_id).update(tier="GOLD")  # set-up: tier rules tested elsewhere
    assert (await first_authentication(client, token))["usage"] == UNUSED


async def test_the_first_authentication_uses_it_and_nothing_after_uses_it_again(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    first = authentication(member_id, 1, clock)
    response = await send_event(client, clock, first)
    assert response.json() == {"status": "applied"}
    assert (await first_authentication(client, token))["usage"] == USED
    assert await uses(member_id) == [(1, None, f"event {first['eventId']}")]

    replayed = await send_event(client, clock, first)
    assert replayed.json() == {"status": "duplicate"}
    second = await send_event(client, clock, authentication(member_id, 2, clock))
    assert second.json() == {"status": "applied"}
    assert (await first_authentication(client, token))["usage"] == USED
    assert await uses(member_id) == [(1, None, f"event {first['eventId']}")]


async def test_staff_cannot_record_it_before_or_after_the_first_authentication(
    client: httpx.AsyncClient, clock: FrozenClock, operator_token: str
) -> None:
    member_id, token = await new_member(client, "13900000001")
    variables = {"id": member_id, "code": FIRST_AUTHENTICATION_FREE}
    early = await gql(client, USE, variables, token=operator_token, path=ADMIN)
    assert early["data"]["recordRightUse"]["__typename"] == "ValidationError"
    assert early["data"]["recordRightUse"]["code"] == "RIGHT_RECORDED_AUTOMATICALLY"
    assert await uses(member_id) == []
    assert (await first_authentication(client, token))["usage"] == UNUSED

    await send_event(client, clock, authentication(member_id, 1, clock))
    again = await gql(client, USE, variables, token=operator_token, path=ADMIN)
    assert again["data"]["recordRightUse"]["__typename"] == "ConflictError"
    assert again["data"]["recordRightUse"]["code"] == "RIGHT_LIMIT_REACHED"
    assert len(await uses(member_id)) == 1
    assert (await first_authentication(client, token))["usage"] == USED


async def test_its_use_commits_with_the_event_or_not_at_all(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = app.state.services
    member_id, token = await new_member(client, "13900000001")
    event = parse_event(authentication(member_id, 1, clock), now=clock.now())

    async def fail_late(*_: Any, **__: Any) -> None:
        raise RuntimeError("the event's transaction fails after the right was used")

    with monkeypatch.context() as patch:
        patch.setattr(commerce.tiers, "upgrade_if_earned", fail_late)
        with pytest.raises(RuntimeError):
            await commerce.apply_event(services, event, source="test")
    assert await CommerceEvent.filter(member_id=member_id).count() == 0
    assert await uses(member_id) == []
    assert (await first_authentication(client, token))["usage"] == UNUSED

    assert await commerce.apply_event(services, event, source="test") == "applied"
    assert (await first_authentication(client, token))["usage"] == USED


@pytest.mark.parametrize("rules", [{"rights": {"catalogue": {FIRST_AUTHENTICATION_FREE: None}}}])
async def test_operators_can_switch_it_off(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    member_id, token = await new_member(client, "13900000001")
    response = await send_event(client, clock, authentication(member_id, 1, clock))
    assert response.json() == {"status": "applied"}
    codes = {r["code"] for r in (await gql(client, RIGHTS, token=token))["data"]["me"]["rights"]}
    assert FIRST_AUTHENTICATION_FREE not in codes
    assert await uses(member_id) == []


@pytest.mark.parametrize("backend", ["postgres"])
async def test_authentications_arriving_together_use_it_once(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    events = [authentication(member_id, n, clock) for n in range(1, 6)]
    events += [events[0]] * 4  # and the first one replayed meanwhile
    responses = await asyncio.gather(*(send_event(client, clock, e) for e in events))
    assert [r.status_code for r in responses] == [200] * len(events), [r.text for r in responses]
    assert Counter(r.json()["status"] for r in responses) == {"applied": 5, "duplicate": 4}
    assert len(await uses(member_id)) == 1
    assert (await first_authentication(client, token))["usage"] == USED


@pytest.mark.parametrize("backend", ["postgres"])
async def test_the_unique_key_alone_keeps_two_uses_out(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    """Without the member lock the events take, two transactions that both try to use the
    right at once: the database's unique key lets exactly one of them."""
    services = app.state.services
    member_id, _ = await new_member(client, "13900000001")
    member = await Member.get(id=member_id)
    both_open = asyncio.Barrier(2)

    async def use(reference: str) -> bool:
        async with in_transaction():
            await RightUsage.filter(member_id=member.id).count()  # each has begun
            async with asyncio.timeout(15):
                await both_open.wait()
            return await rights.use_on_event(
                services,
                member,
                right_code=FIRST_AUTHENTICATION_FREE,
                at=clock.now(),
                reference=reference,
            )

    taken = await asyncio.gather(use(f"a-{uuid.uuid4()}"), use(f"b-{uuid.uuid4()}"))
    assert sorted(taken) == [False, True]
    assert len(await uses(member_id)) == 1
