"""Business numbers come from the rules data (RULES_FILE), end to end: each test sets a
value other than DOMAIN.md's default and sees the member-facing behaviour follow it."""

from __future__ import annotations

import dataclasses
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.community import quiz as community
from member_api.community.domain import QuizVerdict
from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.points.models import LedgerEntry
from member_api.services import Services
from member_api.settings import Settings, read_rules
from tests.commerce_support import days_ago, new_member, paid, send_event
from tests.community_support import group_with_members, post
from tests.support import gql, login, op, staff_token

ADMIN = "/admin/graphql"


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


async def balance(member_id: str) -> int:
    return (await ledger.balance(uuid.UUID(member_id)))[0]


async def credits(member_id: str, reason: Reason) -> list[int]:
    rows = await LedgerEntry.filter(account__member_id=member_id, reason=reason.value).order_by(
        "id"
    )
    return [row.delta for row in rows]


def authentication(member_id: str, n: int, clock: FrozenClock) -> dict[str, object]:
    return {
        "eventId": f"evt-auth-{member_id[:8]}-{n}",
        "type": "authentication.completed",
        "occurredAt": clock.now().isoformat(),
        "memberId": member_id,
        "itemPublicId": f"item-{member_id[:8]}-{n}",
    }


# --- Tiers: consignment commission --------------------------------------------------------

TIER = "{ me { tier { code consignmentCommissionRate } } }"


@pytest.mark.parametrize("rules", [{"tiers": {"commission_percent": {"GOLD": 12}}}])
async def test_a_configured_gold_commission_shows_in_the_members_tier(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    assert (await gql(client, TIER, token=token))["data"]["me"]["tier"] == {
        "code": "NEW",
        "consignmentCommissionRate": 0.15,  # the default where nothing was configured
    }
    code = (await gql(client, "{ me { referralCode } }", token=token))["data"]["me"]
    for _ in range(2):
        await send_event(client, clock, paid(member_id, 10_000, at=days_ago(clock, 200)))
    referee_id, _ = await new_member(client, "13900000002", referralCode=code["referralCode"])
    await send_event(client, clock, paid(referee_id, 10, at=days_ago(clock, 0)))
    assert (await gql(client, TIER, token=token))["data"]["me"]["tier"] == {
        "code": "GOLD",
        "consignmentCommissionRate": 0.12,
    }


# --- Badges ---------------------------------------------------------------------------------

BADGES = "{ me { badges { code name } } }"


@pytest.mark.parametrize(
    "rules",
    [{"badges": {"catalogue": {"STREAK_7": {"threshold": 3, "name": "连签3天 3-day streak"}}}}],
)
async def test_a_streak_badge_with_threshold_three_is_earned_on_the_third_day(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    await new_member(client, "13900000001")
    for day in range(1, 4):
        token = (await login(client))["accessToken"]
        assert (await gql(client, op("CheckIn"), token=token))["data"]["checkIn"]["streak"] == day
        badges = (await gql(client, BADGES, token=token))["data"]["me"]["badges"]
        expected = [{"code": "STREAK_7", "name": "连签3天 3-day streak"}] if day == 3 else []
        assert badges == expected
        clock.advance(timedelta(days=1))


# --- Points ---------------------------------------------------------------------------------


@pytest.mark.parametrize("rules", [{"points": {"check_in_points": 7}}])
async def test_check_in_points_of_seven_credit_seven(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    result = (await gql(client, op("CheckIn"), token=token))["data"]["checkIn"]
    assert (result["pointsAwarded"], result["streak"]) == (7, 1)
    assert await credits(member_id, Reason.CHECK_IN) == [7]
    assert await balance(member_id) == 7


@pytest.mark.parametrize("rules", [{"points": {"points_per_yuan": 2, "referral_percent": 20}}])
async def test_earning_per_yuan_and_the_referral_percent_follow_the_rules(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    referrer_id, token = await new_member(client, "13900000001")
    code = (await gql(client, "{ me { referralCode } }", token=token))["data"]["me"]
    referee_id, _ = await new_member(client, "13900000002", referralCode=code["referralCode"])
    await send_event(client, clock, paid(referee_id, 1_000, at=days_ago(clock, 0)))
    assert await credits(referee_id, Reason.SPEND) == [2_000]
    assert await credits(referrer_id, Reason.REFERRAL) == [400]  # 20% of 2,000


ATTEND = """
mutation($e: ID!, $m: ID!) {
  recordEventAttendance(input: {eventId: $e, memberId: $m}) {
    __typename ... on AttendanceRecorded { recorded } ... on Error { code }
  }
}
"""
CREATE_EVENT = """
mutation($input: CreateEventInput!) {
  createEvent(input: $input) { __typename ... on Event { id } ... on Error { code } }
}
"""


@pytest.mark.parametrize("rules", [{"points": {"event_attendance_points": 60}}])
async def test_attending_an_event_earns_the_configured_points(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    staff = await staff_token(client, app.state.services, "events-op", ["operator"])
    values = {
        "title": "Salon",
        "city": "Shanghai",
        "startsAt": (clock.now() + timedelta(days=7)).isoformat(),
        "seats": 10,
    }
    created = await gql(client, CREATE_EVENT, {"input": values}, token=staff, path=ADMIN)
    event_id = created["data"]["createEvent"]["id"]
    member_id, token = await new_member(client, "13900000001")
    await gql(client, op("SignUpForEvent"), {"input": {"eventId": event_id}}, token=token)
    body = await gql(client, ATTEND, {"e": event_id, "m": member_id}, token=staff, path=ADMIN)
    assert body["data"]["recordEventAttendance"]["recorded"] is True
    assert await credits(member_id, Reason.EVENT) == [60]


# --- Community ------------------------------------------------------------------------------


@pytest.mark.parametrize("rules", [{"community": {"post_points": 4, "quiz_points": 9}}])
async def test_post_and_quiz_points_follow_the_rules(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any
) -> None:
    services: Services = app.state.services
    group_id, members = await group_with_members(client, app, 2)
    (owner_id, owner_token), (member_id, _) = members
    assert (await post(client, owner_token, group_id))["__typename"] == "Post"
    assert await credits(owner_id, Reason.POST) == [4]
    quiz = await community.create_quiz(
        services,
        member_id=uuid.UUID(owner_id),
        group_id=uuid.UUID(group_id),
        body="Genuine or not?",
        question="Genuine?",
        image_urls=[],
    )
    verdict = QuizVerdict.GENUINE
    await community.answer_quiz(
        services, member_id=uuid.UUID(member_id), post_id=quiz.id, verdict=verdict
    )
    await community.reveal_quiz(
        services, member_id=uuid.UUID(owner_id), post_id=quiz.id, verdict=verdict
    )
    assert await credits(member_id, Reason.QUIZ) == [9]


# --- Tasks and the observation window -------------------------------------------------------

PROFILE = {"input": {"avatarUrl": "https://img.example.com/a.png"}}
TASK_RULES = {"points": {"COMPLETE_PROFILE": 3, "FIRST_AUTHENTICATION": 4}, "welcome_points": 5}


@pytest.mark.parametrize(
    ("rules", "onboarded_on_day", "welcome"),
    [
        # Later than DOMAIN.md's 30 days, but inside a 40-day window: welcomed.
        ({"tasks": TASK_RULES, "tiers": {"observation_days": 40}}, 35, [5]),
        # Earlier than 30 days, but after a 10-day window: not welcomed.
        ({"tasks": TASK_RULES, "tiers": {"observation_days": 10}}, 15, []),
    ],
)
async def test_task_and_welcome_points_follow_the_rules_within_the_tier_observation_window(
    client: httpx.AsyncClient, clock: FrozenClock, onboarded_on_day: int, welcome: list[int]
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await gql(client, op("UpdateProfile"), PROFILE, token=token)
    clock.advance(timedelta(days=onboarded_on_day))
    await send_event(client, clock, authentication(member_id, 1, clock))
    tasks = await LedgerEntry.filter(
        account__member_id=member_id, reason=Reason.TASK.value
    ).values_list("reference", "delta")
    assert sorted(tasks) == sorted(
        [("task:COMPLETE_PROFILE", 3), ("task:FIRST_AUTHENTICATION", 4)]
        + [("welcome", points) for points in welcome]
    )


# --- Rights ---------------------------------------------------------------------------------

RIGHTS = "{ me { rights { code name minTier { code } usage { used limit } } } }"
CONCIERGE = {
    "name": "礼宾服务",
    "description": "A concierge on call.",
    "min_tier": "NEW",
    "limit": 2,
    "period": "MONTH",
}


@pytest.mark.parametrize(
    "rules",
    [
        {
            "rights": {
                "catalogue": {
                    "FREE_PACKAGING": None,
                    "NO_REASON_RETURN_7D": {"min_tier": "SILVER"},
                    "CONCIERGE": CONCIERGE,
                }
            }
        }
    ],
)
async def test_rights_removed_moved_or_added_show_in_the_members_rights(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    _, token = await new_member(client, "13900000001")
    rights = (await gql(client, RIGHTS, token=token))["data"]["me"]["rights"]
    assert rights == [
        {
            "code": "AUTHENTICITY_GUARANTEE",
            "name": "正品保障",
            "minTier": {"code": "NEW"},
            "usage": None,
        },
        {
            "code": "FIRST_AUTHENTICATION_FREE",
            "name": "首次鉴定免费",
            "minTier": {"code": "NEW"},
            "usage": {"used": 0, "limit": 1},
        },
        {
            "code": "CONCIERGE",
            "name": "礼宾服务",
            "minTier": {"code": "NEW"},
            "usage": {"used": 0, "limit": 2},
        },
    ]
