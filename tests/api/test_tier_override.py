"""Staff set a tier by hand, with a reason the member sees in their tier history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.members.models import Member
from member_api.notifications.models import Notification
from member_api.tiers.models import TierChange
from tests.api.test_tiers import INVITE
from tests.commerce_support import days_ago, new_member, paid, send_event
from tests.support import gql, staff_token

ADMIN = "/admin/graphql"
OVERRIDE = """
mutation($id: ID!, $tier: TierCode!, $reason: String!) {
  overrideTier(input: {memberId: $id, tier: $tier, reason: $reason}) {
    __typename ... on MemberTier { memberId tier { code } } ... on Error { code message }
  }
}
"""
HISTORY = "{ me { tier { code } tierHistory { from { code } to { code } reason reference note } } }"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


@pytest.fixture
async def staff(client: httpx.AsyncClient, app: Any) -> str:
    return await staff_token(client, app.state.services, "tiers-op", ["operator"])


async def override(
    client: httpx.AsyncClient, staff: str, member_id: str, tier: str, reason: str
) -> dict[str, Any]:
    variables = {"id": member_id, "tier": tier, "reason": reason}
    body = await gql(client, OVERRIDE, variables, token=staff, path=ADMIN)
    return dict(body["data"]["overrideTier"])


async def test_black_diamond_is_revoked_with_a_reason_shown_in_the_history(
    client: httpx.AsyncClient, clock: FrozenClock, staff: str
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await send_event(client, clock, paid(member_id, 150_000, at=days_ago(clock, 10)))
    invited = await gql(client, INVITE, {"id": member_id}, token=staff, path=ADMIN)
    assert invited["data"]["inviteToBlackDiamond"]["tier"]["code"] == "BLACK_DIAMOND"

    reason = "Resold limited editions against the programme terms."
    done = await override(client, staff, member_id, "SILVER", f"  {reason}  ")
    assert done == {"__typename": "MemberTier", "memberId": member_id, "tier": {"code": "SILVER"}}
    me = (await gql(client, HISTORY, token=token))["data"]["me"]
    assert me["tier"]["code"] == "SILVER"
    assert me["tierHistory"][0] == {
        "from": {"code": "BLACK_DIAMOND"},
        "to": {"code": "SILVER"},
        "reason": "OVERRIDE",
        "reference": None,
        "note": reason,
    }
    assert me["tierHistory"][1]["reason"] == "INVITATION"
    assert me["tierHistory"][1]["note"] is None
    stored = await TierChange.filter(member_id=member_id, reason="OVERRIDE").get()
    assert stored.reference is not None
    assert stored.reference.startswith("staff:")
    assert await Notification.filter(member_id=member_id, kind="TIER_DOWNGRADE").exists()

    raised = await override(client, staff, member_id, "DIAMOND", "Goodwill after the appeal.")
    assert raised["tier"]["code"] == "DIAMOND"


async def test_bad_overrides_change_nothing(
    client: httpx.AsyncClient, clock: FrozenClock, staff: str
) -> None:
    member_id, _ = await new_member(client, "13900000001")
    before = await TierChange.filter(member_id=member_id).count()
    for tier, reason, code in (
        ("GOLD", "", "REASON_REQUIRED"),
        ("GOLD", "   ", "REASON_REQUIRED"),
        ("GOLD", "x" * 501, "REASON_REQUIRED"),
        ("BLACK_DIAMOND", "A friend of the house", "USE_INVITATION"),
        ("NEW", "No change", "TIER_UNCHANGED"),
    ):
        assert (await override(client, staff, member_id, tier, reason))["code"] == code
    unknown = await override(client, staff, str(uuid.uuid4()), "GOLD", "Why not")
    assert unknown["code"] == "UNKNOWN_MEMBER"
    assert (await override(client, staff, "nope", "GOLD", "Why not"))["code"] == "UNKNOWN_MEMBER"
    assert (await Member.get(id=member_id)).tier == "NEW"
    assert await TierChange.filter(member_id=member_id).count() == before


async def test_only_operators_override_tiers(client: httpx.AsyncClient, app: Any) -> None:
    member_id, _ = await new_member(client, "13900000001")
    for role in ("moderator", "authenticator", "advisor"):
        other = await staff_token(client, app.state.services, f"{role}-1", [role])
        assert (await override(client, other, member_id, "GOLD", "Try"))["code"] == "FORBIDDEN"
    assert (await Member.get(id=member_id)).tier == "NEW"
