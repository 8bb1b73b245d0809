"""Tasks over HTTP: progress from what the member did, each reward once, the new-member week."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
from tortoise.transactions import in_transaction

from member_api.clock import FrozenClock
from member_api.events import service as events
from member_api.points.models import LedgerEntry
from member_api.tasks import service as tasks_service
from member_api.tasks.domain import Action
from member_api.tasks.models import Coupon, MemberAction, TaskCompletion
from tests.commerce_support import new_member, send_event
from tests.support import gql, login, op

TASKS = """
{ me {
    tasks { code pointsReward couponReward progress target completed completedAt availableUntil }
    coupons { kind code expiresAt usedAt }
    points { balance }
} }
"""
SHARE = """
mutation($item: ID!) {
  shareAuthentication(input: {itemPublicId: $item}) {
    __typename
    ... on AuthenticationShared { url tasksCompleted }
    ... on Error { code }
  }
}
"""
PROFILE = {"input": {"avatarUrl": "https://img.example.com/a.png"}}


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


def authentication(member_id: str, n: int, clock: FrozenClock) -> dict[str, object]:
    return {
        "eventId": f"evt-auth-{member_id[:8]}-{n}",
        "type": "authentication.completed",
        "occurredAt": clock.now().isoformat(),
        "memberId": member_id,
        "itemPublicId": f"item-{member_id[:8]}-{n}",
    }


# Every member has the new-member coupon pack from registration (tests/api/test_new_member_pack.py).
NEW_MEMBER_PACK = Counter({"FREE_SHIPPING": 1, "NEW_MEMBER_DISCOUNT": 1})


def coupon_kinds(state: dict[str, Any]) -> Counter[str]:
    return Counter(coupon["kind"] for coupon in state["coupons"])


async def week_coupons(member_id: str) -> int:
    return await Coupon.filter(member_id=member_id, source="task:NEW_MEMBER_WEEK").count()


async def tasks(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    me = (await gql(client, TASKS, token=token))["data"]["me"]
    me["by_code"] = {task["code"]: task for task in me["tasks"]}
    return dict(me)


async def test_a_new_member_sees_the_catalogue_with_nothing_done(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _, token = await new_member(client, "13900000001")
    body = await gql(client, op("Tasks"), token=token)
    assert "errors" not in body
    codes = [task["code"] for task in body["data"]["me"]["tasks"]]
    assert codes == [
        "COMPLETE_PROFILE",
        "FIRST_AUTHENTICATION",
        "JOIN_GROUP",
        "FIRST_POST",
        "SHARE_AUTHENTICATION",
        "NEW_MEMBER_WEEK",
    ]
    assert not any(task["completed"] for task in body["data"]["me"]["tasks"])
    week = (await tasks(client, token))["by_code"]["NEW_MEMBER_WEEK"]
    assert (week["progress"], week["target"], week["couponReward"]) == (0, 3, "FREE_SHIPPING")
    assert week["availableUntil"] == (clock.now() + timedelta(days=7)).isoformat()


async def test_a_replayed_authentication_completes_its_task_once(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, _token = await new_member(client, "13900000001")
    first = authentication(member_id, 1, clock)
    assert (await send_event(client, clock, first)).status_code == 200
    replay = await send_event(client, clock, first)
    assert replay.status_code == 200
    assert replay.json()["status"] == "duplicate"
    clock.advance(timedelta(hours=1))
    await send_event(client, clock, authentication(member_id, 2, clock))  # a second item
    state = await tasks(client, (await login(client))["accessToken"])
    task = state["by_code"]["FIRST_AUTHENTICATION"]
    assert task["completed"]
    assert task["progress"] == 1
    assert task["completedAt"] == (clock.now() - timedelta(hours=1)).isoformat()
    assert state["points"]["balance"] == 50
    assert await TaskCompletion.filter(code="FIRST_AUTHENTICATION").count() == 1
    assert (
        await LedgerEntry.filter(reason="TASK", reference="task:FIRST_AUTHENTICATION").count() == 1
    )


async def test_profile_and_first_authentication_in_the_window_earn_the_welcome_gift_once(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await gql(client, op("UpdateProfile"), {"input": {"displayName": "Lin"}}, token=token)
    assert not (await tasks(client, token))["by_code"]["COMPLETE_PROFILE"]["completed"]
    await gql(client, op("UpdateProfile"), PROFILE, token=token)
    await gql(client, op("UpdateProfile"), PROFILE, token=token)  # again: nothing more
    state = await tasks(client, token)
    assert state["by_code"]["COMPLETE_PROFILE"]["completed"]
    assert state["points"]["balance"] == 20
    clock.advance(timedelta(days=29))
    token = (await login(client))["accessToken"]
    await send_event(client, clock, authentication(member_id, 1, clock))
    assert (await tasks(client, token))["points"]["balance"] == 20 + 50 + 100
    await send_event(client, clock, authentication(member_id, 2, clock))
    assert await LedgerEntry.filter(reference="welcome").count() == 1


async def test_onboarding_after_the_observation_window_earns_no_welcome_gift(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await gql(client, op("UpdateProfile"), PROFILE, token=token)
    clock.advance(timedelta(days=30))
    await send_event(client, clock, authentication(member_id, 1, clock))
    token = (await login(client))["accessToken"]
    assert (await tasks(client, token))["points"]["balance"] == 20 + 50
    assert not await LedgerEntry.filter(reference="welcome").exists()


async def test_sharing_needs_an_authentication_of_ones_own(
    client: httpx.AsyncClient, clock: FrozenClock, settings: Any
) -> None:
    member_id, token = await new_member(client, "13900000001")
    other_id, _ = await new_member(client, "13900000002")
    await send_event(client, clock, authentication(other_id, 1, clock))
    refused = await gql(
        client, SHARE, {"item": authentication(other_id, 1, clock)["itemPublicId"]}, token=token
    )
    assert refused["data"]["shareAuthentication"] == {
        "__typename": "NotFoundError",
        "code": "UNKNOWN_AUTHENTICATION",
    }
    assert not await MemberAction.filter(action="SHARE_AUTHENTICATION").exists()
    event = authentication(member_id, 1, clock)
    await send_event(client, clock, event)
    shared = (await gql(client, SHARE, {"item": event["itemPublicId"]}, token=token))["data"]
    assert shared["shareAuthentication"] == {
        "__typename": "AuthenticationShared",
        "url": f"{settings.public_base_url}/p/{event['itemPublicId']}",
        "tasksCompleted": ["SHARE_AUTHENTICATION"],
    }
    again = (await gql(client, SHARE, {"item": event["itemPublicId"]}, token=token))["data"]
    assert again["shareAuthentication"]["tasksCompleted"] == []
    assert (await tasks(client, token))["points"]["balance"] == 50 + 10


async def _sign_up_for_a_new_event(client: httpx.AsyncClient, app: Any, token: str) -> None:
    services = app.state.services
    event = await events.create_event(
        services,
        title="Salon",
        city="Shanghai",
        starts_at=services.clock.now() + timedelta(days=3),
        seats=5,
        min_tier=None,
    )
    body = await gql(
        client, op("SignUpForEvent"), {"input": {"eventId": str(event.id)}}, token=token
    )
    assert body["data"]["signUpForEvent"]["__typename"] == "EventSignup"


async def test_three_interactions_in_the_first_week_earn_one_free_shipping_coupon(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await gql(client, op("CheckIn"), token=token)
    clock.advance(timedelta(days=1))
    token = (await login(client))["accessToken"]
    await gql(client, op("CheckIn"), token=token)
    state = await tasks(client, token)
    assert state["by_code"]["NEW_MEMBER_WEEK"]["progress"] == 2
    assert coupon_kinds(state) == NEW_MEMBER_PACK  # the pack from registration, no more
    await _sign_up_for_a_new_event(client, app, token)
    state = await tasks(client, token)
    week = state["by_code"]["NEW_MEMBER_WEEK"]
    assert (week["completed"], week["progress"]) == (True, 3)
    assert coupon_kinds(state) == NEW_MEMBER_PACK + Counter({"FREE_SHIPPING": 1})
    clock.advance(timedelta(days=1))
    token = (await login(client))["accessToken"]
    await gql(client, op("CheckIn"), token=token)  # a fourth: no second coupon
    assert len((await tasks(client, token))["coupons"]) == 3
    assert await week_coupons(member_id) == 1


async def test_interactions_after_the_first_week_do_not_count(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    _, token = await new_member(client, "13900000001")
    await gql(client, op("CheckIn"), token=token)
    clock.advance(timedelta(days=7))  # the window closed at exactly seven days
    token = (await login(client))["accessToken"]
    await gql(client, op("CheckIn"), token=token)
    await _sign_up_for_a_new_event(client, app, token)
    state = await tasks(client, token)
    week = state["by_code"]["NEW_MEMBER_WEEK"]
    assert (week["completed"], week["progress"]) == (False, 1)
    assert coupon_kinds(state) == NEW_MEMBER_PACK


async def _until_waiting_on_locks(database_url: str, waiting: int) -> None:
    """Until PostgreSQL shows `waiting` backends of this database blocked on a lock."""
    conn = await asyncpg.connect(database_url)
    try:
        async with asyncio.timeout(15):
            while True:
                blocked = await conn.fetchval(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
                if blocked >= waiting:
                    return
                await asyncio.sleep(0.01)
    except TimeoutError:
        raise AssertionError(f"{waiting} transactions never waited on the member lock") from None
    finally:
        await conn.close()


@pytest.mark.parametrize("backend", ["postgres"])
async def test_concurrent_interactions_complete_the_week_exactly_once(
    client: httpx.AsyncClient, app: Any, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three interactions in three transactions at once: each must count the others.

    The three transactions are all open before any records its action, and the first to
    count holds on until PostgreSQL shows the other two blocked on the member lock: the
    three certainly overlap. Without the lock the other two would be counting instead,
    and the wait fails rather than passes.
    """
    services = app.state.services
    member_id, _ = await new_member(client, "13900000001")
    all_open = asyncio.Barrier(3)
    real_count = tasks_service._count
    counted: list[Any] = []

    async def count_once_the_others_wait(member: Any, task: Any) -> int:
        if not counted:
            counted.append(task)
            await _until_waiting_on_locks(database_url, 2)
        return await real_count(member, task)

    monkeypatch.setattr(tasks_service, "_count", count_once_the_others_wait)

    async def interact(action: Action) -> list[Any]:
        async with in_transaction():
            async with asyncio.timeout(15):
                await all_open.wait()
            return await tasks_service.record(
                services, member_id=uuid.UUID(member_id), action=action, reference="r"
            )

    done = await asyncio.gather(
        interact(Action.CHECK_IN), interact(Action.LIKE), interact(Action.COMMENT)
    )
    assert counted
    assert sorted(code for codes in done for code in codes) == ["NEW_MEMBER_WEEK"]
    assert await week_coupons(member_id) == 1
