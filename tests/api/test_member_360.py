"""The member 360 on the staff API: every part of a member's record, made through the
services, shown to the roles that may see it; care notes written by advisors."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.care.models import CareNote
from member_api.clock import FrozenClock
from member_api.services import Services
from tests.commerce_support import days_ago, new_member, paid, refunded, send_event
from tests.community_support import create_group, post
from tests.provenance_support import DIGEST, record, register_item
from tests.rewards_support import create_reward, redeem
from tests.support import gql, op, sql_statements, staff_token

ADMIN = "/admin/graphql"
ADJUST = """
mutation($id: ID!, $delta: PointCount!, $note: String!) {
  adjustPoints(input: {memberId: $id, delta: $delta, note: $note}) {
    __typename ... on Error { code }
  }
}
"""
HIDE = """
mutation($id: ID!, $r: String!) {
  hidePost(input: {postId: $id, reason: $r}) { __typename ... on Error { code } }
}
"""
ADD_NOTE = """
mutation($id: ID!, $text: String!) {
  addCareNote(input: {memberId: $id, text: $text}) {
    __typename
    ... on CareNote { id memberId text createdAt author { username } }
    ... on Error { code message }
    ... on ValidationError { field }
  }
}
"""
FULL = """
query($id: ID!) {
  member360(memberId: $id) {
    id displayName phoneMasked referralCode joinedAt miniProgramLinked
    tier { code }
    tierHistory { to { code } reason }
    tierProgress { nextTier { code } missingSummary }
    rights { code usage { used limit } }
    rightUses { rightCode usedAt note staff { username } }
    points { balance debt }
    ledger(first: 50) {
      edges { node { delta reason reference note occurredAt staff { username roles } } }
    }
    commerceEvents { edges { node { type orderId amountFen } } }
    orders { edges { node { orderId paidFen refundedFen } } }
    redemptions { edges { node { status voucherCode pointsSpent reward { name } } } }
    coupons { kind }
    badges { code }
    checkIn { checkedInToday streak }
    checkInCalendar(month: "2026-11")
    posts { edges { node { body state hiddenReason } } }
    comments { edges { node { body } } }
    moderationHistory { edges { node { action reason targetKind staffId } } }
    items { item { publicId brand } events { kind summary } }
    amlFlags { edges { node { kind amountFen } } }
    notifications { edges { node { kind title } } }
    careNotes { edges { node { text createdAt author { username } } } }
  }
}
"""


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


@dataclass
class Staff:
    operator: str
    advisor: str
    moderator: str
    authenticator: str


@pytest.fixture
async def staff(client: httpx.AsyncClient, services: Services) -> Staff:
    return Staff(
        operator=await staff_token(client, services, "care-ops", ["operator"]),
        advisor=await staff_token(client, services, "care-advisor", ["advisor"]),
        moderator=await staff_token(client, services, "care-mod", ["moderator"]),
        authenticator=await staff_token(client, services, "care-auth", ["authenticator"]),
    )


async def adjust(
    client: httpx.AsyncClient, token: str, member_id: str, delta: int, note: str
) -> None:
    variables = {"id": member_id, "delta": delta, "note": note}
    body = await gql(client, ADJUST, variables, token=token, path=ADMIN)
    assert body["data"]["adjustPoints"]["__typename"] == "PointsAdjusted", body


async def add_note(
    client: httpx.AsyncClient, token: str, member_id: str, text: str
) -> dict[str, Any]:
    body = await gql(client, ADD_NOTE, {"id": member_id, "text": text}, token=token, path=ADMIN)
    return dict(body["data"]["addCareNote"])


async def member360(
    client: httpx.AsyncClient, token: str, member_id: str, query: str = FULL
) -> dict[str, Any]:
    return await gql(client, query, {"id": member_id}, token=token, path=ADMIN)


def nodes(connection: dict[str, Any]) -> list[dict[str, Any]]:
    return [edge["node"] for edge in connection["edges"]]


async def a_member_with_a_history(
    client: httpx.AsyncClient, clock: FrozenClock, staff: Staff
) -> str:
    """A member who had an item authenticated, paid a large order and got part of it
    refunded, was given points by hand, redeemed a reward, posted (and was moderated),
    commented, checked in, owns an item, and has a care note. Another member's record
    sits beside it and must not show."""
    member_id, token = await new_member(client, "13900000021")
    other_id, other_token = await new_member(client, "13900000022")
    authentication = {
        "eventId": "evt-auth-1",
        "type": "authentication.completed",
        "occurredAt": days_ago(clock, 2).isoformat(),
        "memberId": member_id,
        "itemPublicId": "item-authenticated-1",
    }
    assert (await send_event(client, clock, authentication)).status_code == 200
    await send_event(client, clock, paid(member_id, 60_000, at=days_ago(clock, 1), order_id="o-1"))
    await send_event(client, clock, refunded(member_id, "o-1", 100_000, at=days_ago(clock, 1)))
    await send_event(client, clock, paid(other_id, 70_000, at=days_ago(clock, 1), order_id="o-2"))
    await adjust(client, staff.operator, member_id, 250, "goodwill for a late delivery")
    await adjust(client, staff.operator, other_id, 99, "not this member")
    reward = await create_reward(client, staff.operator, name="Leather care kit")
    assert (await redeem(client, token, reward["id"]))["data"]["redeemReward"]["voucherCode"]
    group_id = await create_group(client, staff.operator, member_id)
    written = await post(client, token, group_id, "My first Kelly")
    await post(client, other_token, group_id, "Not this member's post")
    comment = {"input": {"postId": written["id"], "body": "Bought in Paris"}}
    assert (await gql(client, op("CommentOnPost"), comment, token=token))["data"]
    hidden = {"id": written["id"], "r": "spam link"}
    await gql(client, HIDE, hidden, token=staff.moderator, path=ADMIN)
    assert (await gql(client, op("CheckIn"), token=token))["data"]["checkIn"]["streak"] == 1
    item = await register_item(client, staff.operator, ownerId=member_id)
    verdict = {"verdict": "GENUINE", "reportDigest": DIGEST}
    await record(
        client, staff.authenticator, item["publicId"], "AUTHENTICATION", clock, details=verdict
    )
    await register_item(client, staff.operator, model="Kelly 25", ownerId=other_id)
    note = await add_note(client, staff.advisor, member_id, "Asked about VIP events.\nCall back.")
    assert note["__typename"] == "CareNote", note
    return member_id


async def test_the_360_shows_every_part_with_its_real_data(
    client: httpx.AsyncClient, clock: FrozenClock, staff: Staff
) -> None:
    member_id = await a_member_with_a_history(client, clock, staff)
    body = await member360(client, staff.advisor, member_id)
    assert "errors" not in body, body
    view = body["data"]["member360"]
    assert view["id"] == member_id
    assert view["phoneMasked"] == "139****0021"
    assert "13900000021" not in str(body)
    assert view["miniProgramLinked"] is False
    assert view["tierHistory"][-1] == {"to": {"code": "NEW"}, "reason": "REGISTRATION"}
    assert view["tierProgress"] is not None
    # The free first authentication was used by the commerce event.
    assert {"rightCode": "FIRST_AUTHENTICATION_FREE", "staff": None} in [
        {"rightCode": u["rightCode"], "staff": u["staff"]} for u in view["rightUses"]
    ]
    ledger = nodes(view["ledger"])
    by_reason = {entry["reason"]: entry for entry in ledger}
    assert by_reason["SPEND"]["delta"] == 60_000
    assert by_reason["SPEND"]["staff"] is None
    assert by_reason["REFUND_REVERSAL"]["delta"] == -1_000
    assert by_reason["REDEMPTION"]["delta"] == -10
    assert by_reason["CHECK_IN"]["delta"] > 0
    manual = by_reason["ADJUSTMENT"]
    assert manual["delta"] == 250
    assert manual["note"] == "goodwill for a late delivery"
    assert manual["staff"] == {"username": "care-ops", "roles": ["operator"]}
    assert sum(e["delta"] for e in ledger) == view["points"]["balance"]
    events = nodes(view["commerceEvents"])
    assert sorted(e["type"] for e in events) == [
        "authentication.completed",
        "order.paid",
        "order.refunded",
    ]
    assert nodes(view["orders"]) == [
        {"orderId": "o-1", "paidFen": 6_000_000, "refundedFen": 100_000}
    ]
    (redemption,) = nodes(view["redemptions"])
    assert redemption["reward"] == {"name": "Leather care kit"}
    assert redemption["status"] == "ACTIVE"
    assert {"kind": "NEW_MEMBER_DISCOUNT"} in view["coupons"]
    assert view["badges"] == [{"code": "FIRST_AUTHENTICATION"}]
    assert view["checkIn"] == {"checkedInToday": True, "streak": 1}
    assert view["checkInCalendar"] == ["2026-11-18"]
    assert nodes(view["posts"]) == [
        {"body": "My first Kelly", "state": "HIDDEN", "hiddenReason": "spam link"}
    ]
    assert nodes(view["comments"]) == [{"body": "Bought in Paris"}]
    (moderation,) = nodes(view["moderationHistory"])
    assert moderation["action"] == "HIDE"
    assert moderation["reason"] == "spam link"
    assert moderation["staffId"] is not None
    (owned,) = view["items"]
    assert owned["item"]["brand"] == "Hermès"
    (event,) = owned["events"]
    assert event["kind"] == "AUTHENTICATION"
    assert event["summary"] == "Authenticated: genuine"
    assert nodes(view["amlFlags"]) == [{"kind": "SINGLE_ORDER", "amountFen": 6_000_000}]
    assert "New badge" in " ".join(n["title"] for n in nodes(view["notifications"]))
    (note,) = nodes(view["careNotes"])
    assert note["text"] == "Asked about VIP events.\nCall back."
    assert note["author"] == {"username": "care-advisor"}
    assert note["createdAt"].startswith("2026-11-18")


async def test_no_member_is_null(client: httpx.AsyncClient, staff: Staff) -> None:
    for unknown in (str(uuid.uuid4()), "not-an-id"):
        body = await member360(client, staff.advisor, unknown)
        assert body["data"] == {"member360": None}
        assert "errors" not in body


PARTS = """
query($id: ID!) {
  member360(memberId: $id) {
    displayName
    items { item { brand } }
    points { balance }
    ledger { edges { node { delta } } }
    posts { edges { node { body } } }
    moderationHistory { edges { node { action } } }
    careNotes { edges { node { text } } }
  }
}
"""


def forbidden_parts(body: dict[str, Any]) -> set[str]:
    parts = set()
    for error in body.get("errors", []):
        assert error["extensions"]["code"] == "FORBIDDEN", error
        assert error["path"][0] == "member360"
        parts.add(error["path"][1])
    return parts


async def test_roles_decide_which_parts_answer(
    client: httpx.AsyncClient, clock: FrozenClock, staff: Staff, services: Services
) -> None:
    member_id = await a_member_with_a_history(client, clock, staff)
    seen = await member360(client, staff.authenticator, member_id, PARTS)
    view = seen["data"]["member360"]
    assert view["displayName"]
    assert view["items"][0]["item"]["brand"] == "Hermès"
    assert view["points"] is None
    assert view["ledger"] is None
    assert forbidden_parts(seen) == {"points", "ledger", "posts", "moderationHistory", "careNotes"}

    seen = await member360(client, staff.moderator, member_id, PARTS)
    view = seen["data"]["member360"]
    assert nodes(view["posts"]) == [{"body": "My first Kelly"}]
    assert nodes(view["moderationHistory"]) == [{"action": "HIDE"}]
    assert forbidden_parts(seen) == {"items", "points", "ledger", "careNotes"}

    for token in (staff.operator, staff.advisor):
        seen = await member360(client, token, member_id, PARTS)
        assert "errors" not in seen, seen
        assert seen["data"]["member360"]["points"]["balance"] > 0

    marketer = await staff_token(client, services, "care-marketer", ["marketer"])
    _, member_token = await new_member(client, "13900000029")
    for token, code in ((marketer, "FORBIDDEN"), (member_token, "WRONG_AUDIENCE")):
        refused = await member360(client, token, member_id, PARTS)
        assert refused["data"] == {"member360": None}
        assert refused["errors"][0]["extensions"]["code"] == code


LEDGER = """
query($id: ID!) {
  member360(memberId: $id) {
    ledger(first: 100) { edges { node { delta reason staff { username } } } }
    redemptions { edges { node { reward { name } } } }
    careNotes { edges { node { author { username } } } }
  }
}
"""


async def test_a_page_of_entries_costs_the_same_queries_at_any_size(
    client: httpx.AsyncClient, services: Services, staff: Staff
) -> None:
    member_id, token = await new_member(client, "13900000031")
    second = await staff_token(client, services, "care-ops-2", ["operator"])

    async def statements() -> list[str]:
        """The statements of one read, staff look-ups apart: the ledger and the notes
        each name staff, and their look-ups meet in one query or two, as they happen
        to arrive; never one a row."""
        with sql_statements() as sql:
            body = await member360(client, staff.advisor, member_id, LEDGER)
        assert "errors" not in body, body
        staff_reads = [s for s in sql if 'FROM "staff_user"' in s]
        # The caller's own account is checked once a request (deactivated, roles now).
        checks = [s for s in staff_reads if '"is_active"' in s.split(" WHERE ", 1)[-1]]
        assert len(checks) == 1
        assert 1 <= len(staff_reads) - len(checks) <= 2
        assert len([s for s in sql if 'FROM "reward"' in s]) == 1
        audit_rows = [s for s in sql if s.startswith('INSERT INTO "audit_entry"')]
        assert len(audit_rows) == 1  # the read's one audit row
        skipped = staff_reads + audit_rows
        # The parts resolve side by side: which table is read first varies, not how often.
        return sorted(s.split(" FROM ")[1].split()[0] for s in sql if s not in skipped)

    reward = await create_reward(client, staff.operator, pointsPrice=5)

    async def one_of_each() -> None:
        for by in (staff.operator, second):
            await adjust(client, by, member_id, 10, "welcome back")
            await add_note(client, by, member_id, "a call")
            assert (await redeem(client, token, reward["id"]))["data"]["redeemReward"]
        await add_note(client, staff.advisor, member_id, "another call")

    await one_of_each()
    few = await statements()
    for _ in range(3):
        await one_of_each()
    assert await statements() == few
    body = await member360(client, staff.advisor, member_id, LEDGER)
    entries = nodes(body["data"]["member360"]["ledger"])
    assert len(entries) == 16
    staff_of = {(e["reason"], (e["staff"] or {}).get("username")) for e in entries}
    assert staff_of == {
        ("ADJUSTMENT", "care-ops"),
        ("ADJUSTMENT", "care-ops-2"),
        ("REDEMPTION", None),
    }


@pytest.mark.parametrize(
    ("text", "code", "field"),
    [
        ("   ", "NOTE_EMPTY", "text"),
        ("x" * 2001, "NOTE_TOO_LONG", "text"),
        ("bell \x07", "INVALID_CHARACTERS", "text"),
    ],
)
async def test_a_bad_care_note_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, staff: Staff, text: str, code: str, field: str
) -> None:
    member_id, _ = await new_member(client, "13900000041")
    result = await add_note(client, staff.advisor, member_id, text)
    assert (result["__typename"], result["code"], result["field"]) == (
        "ValidationError",
        code,
        field,
    )
    assert await CareNote.all().count() == 0


async def test_care_notes_need_a_member_and_a_care_role(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    member_id, member_token = await new_member(client, "13900000051")
    for unknown in (str(uuid.uuid4()), "nope"):
        result = await add_note(client, staff.advisor, unknown, "hello")
        assert (result["__typename"], result["code"]) == ("NotFoundError", "UNKNOWN_MEMBER")
    for token in (staff.moderator, staff.authenticator):
        result = await add_note(client, token, member_id, "hello")
        assert result["code"] == "FORBIDDEN"
    body = await gql(
        client, ADD_NOTE, {"id": member_id, "text": "hi"}, token=member_token, path=ADMIN
    )
    assert body["data"]["addCareNote"]["__typename"] == "AuthenticationError"
    assert await CareNote.all().count() == 0
    written = await add_note(client, staff.operator, member_id, "  Prefers WeChat.  ")
    assert written["text"] == "Prefers WeChat."
    assert written["author"] == {"username": "care-ops"}
    assert datetime.fromisoformat(written["createdAt"]) - datetime(
        2026, 11, 18, 4, 0, tzinfo=UTC
    ) < timedelta(seconds=1)


async def test_each_staff_read_of_a_member_passes_through_one_place(
    client: httpx.AsyncClient, staff: Staff, caplog: pytest.LogCaptureFixture
) -> None:
    member_id, _ = await new_member(client, "13900000061")
    await new_member(client, "13900000062")
    caplog.set_level(logging.INFO, logger="member_api.care.admin_gql")
    search = "query($v: String!) { searchMembers(by: PHONE, value: $v) { edges { cursor } } }"
    await gql(client, search, {"v": "13900000061"}, token=staff.advisor, path=ADMIN)
    await member360(client, staff.moderator, member_id, PARTS)
    await member360(client, staff.moderator, str(uuid.uuid4()), PARTS)
    reads = [r.getMessage() for r in caplog.records if r.getMessage().startswith("staff read")]
    assert len(reads) == 2
    assert reads[0].startswith(f"staff read: member.search of member {member_id} by staff ")
    assert "(advisor)" in reads[0]
    assert reads[1].startswith(f"staff read: member.view of member {member_id} by staff ")
    assert "(moderator)" in reads[1]


PRIVACY = """
query($id: ID!) {
  member360(memberId: $id) {
    birthday { month day }
    consents { purpose granted policyVersion }
    accountDeletion { status erasesAt }
  }
}
"""


async def test_the_360_shows_consents_birthday_and_a_pending_deletion(
    client: httpx.AsyncClient, staff: Staff
) -> None:
    member_id, token = await new_member(client, "13900000041")
    empty = (await member360(client, staff.advisor, member_id, PRIVACY))["data"]["member360"]
    assert (empty["birthday"], empty["accountDeletion"]) == (None, None)
    assert {c["purpose"]: c["granted"] for c in empty["consents"]} == {
        "MARKETING": False,
        "PERSONALISATION": False,
        "PUBLIC_PROFILE": False,
    }
    consent = {"input": {"purpose": "MARKETING", "granted": True}}
    assert (await gql(client, op("SetConsent"), consent, token=token))["data"]
    birthday = {"input": {"month": 2, "day": 29}}
    assert (await gql(client, op("SetBirthday"), birthday, token=token))["data"]
    leaving = {"input": {"reason": "moving abroad"}}
    assert (await gql(client, op("RequestAccountDeletion"), leaving, token=token))["data"]
    body = await member360(client, staff.operator, member_id, PRIVACY)
    view = body["data"]["member360"]
    assert view["birthday"] == {"month": 2, "day": 29}
    granted = {c["purpose"] for c in view["consents"] if c["granted"]}
    assert granted == {"MARKETING"}
    assert view["accountDeletion"]["status"] == "PENDING"
    assert view["accountDeletion"]["erasesAt"]
    refused = await member360(client, staff.authenticator, member_id, PRIVACY)
    assert forbidden_parts(refused) == {"birthday", "consents", "accountDeletion"}
