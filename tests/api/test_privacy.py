"""Data-subject rights over HTTP: consents, the birthday, data exports, account deletion."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.members.models import Member
from member_api.privacy.erasure import purge_expired_exports
from member_api.privacy.models import AccountDeletion, ConsentRecord, DataExport
from tests.commerce_support import new_member
from tests.community_support import group_with_members, post
from tests.support import ME, gql, login, op, register, staff_token

ADMIN = "/admin/graphql"


@pytest.fixture
def clock() -> FrozenClock:
    # 12:00 on 18 November 2026 in Shanghai.
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


async def consents(client: httpx.AsyncClient, token: str) -> dict[str, dict[str, Any]]:
    body = await gql(client, op("MyConsents"), token=token)
    return {c["purpose"]: c for c in body["data"]["me"]["consents"]}


async def set_consent(client: httpx.AsyncClient, token: str, **values: Any) -> dict[str, Any]:
    body = await gql(client, op("SetConsent"), {"input": values}, token=token)
    return dict(body["data"]["setConsent"])


# --- consents ---


async def test_every_purpose_is_listed_and_not_granted_until_set(
    client: httpx.AsyncClient,
) -> None:
    _, token = await new_member(client, "13900000001")
    assert await consents(client, token) == {
        purpose: {"purpose": purpose, "granted": False, "policyVersion": None, "changedAt": None}
        for purpose in ("MARKETING", "PERSONALISATION", "PUBLIC_PROFILE")
    }


async def test_consents_are_granted_withdrawn_and_their_history_kept(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    granted = await set_consent(
        client, token, purpose="MARKETING", granted=True, policyVersion="2026-01"
    )
    assert granted == {
        "__typename": "Consent",
        "purpose": "MARKETING",
        "granted": True,
        "policyVersion": "2026-01",
        "changedAt": clock.now().isoformat(),
    }
    clock.advance(timedelta(minutes=1))
    await set_consent(client, token, purpose="MARKETING", granted=False)
    await set_consent(client, token, purpose="PERSONALISATION", granted=True)
    now = await consents(client, token)
    assert now["MARKETING"]["granted"] is False
    assert now["MARKETING"]["changedAt"] == clock.now().isoformat()
    assert now["PERSONALISATION"]["granted"] is True
    assert now["PUBLIC_PROFILE"]["granted"] is False
    history = await ConsentRecord.filter(member_id=member_id, purpose="MARKETING").order_by("id")
    assert [row.granted for row in history] == [True, False]


async def test_an_outdated_policy_version_is_refused_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    member_id, token = await new_member(client, "13900000001")
    refused = await set_consent(
        client, token, purpose="MARKETING", granted=True, policyVersion="2025-06"
    )
    assert refused["code"] == "POLICY_VERSION_OUTDATED"
    assert await ConsentRecord.filter(member_id=member_id).count() == 0
    bad_enum = await gql(
        client, op("SetConsent"), {"input": {"purpose": "SPAM", "granted": True}}, token=token
    )
    assert bad_enum["errors"]
    assert await ConsentRecord.filter(member_id=member_id).count() == 0
    unsigned = await gql(
        client, op("SetConsent"), {"input": {"purpose": "MARKETING", "granted": True}}
    )
    assert unsigned["data"]["setConsent"]["code"] == "UNAUTHENTICATED"


async def test_a_grant_under_an_older_policy_no_longer_counts(
    client: httpx.AsyncClient, services: Any
) -> None:
    _, token = await new_member(client, "13900000001")
    await set_consent(client, token, purpose="MARKETING", granted=True)
    services.settings = dataclasses.replace(services.settings, privacy_policy_version="2027-01")
    marketing = (await consents(client, token))["MARKETING"]
    assert marketing["granted"] is False
    assert marketing["policyVersion"] == "2026-01"


# --- birthday ---


async def set_birthday(client: httpx.AsyncClient, token: str, month: int, day: int) -> Any:
    body = await gql(
        client, op("SetBirthday"), {"input": {"month": month, "day": day}}, token=token
    )
    return body["data"]["setBirthday"]


CORRECT = """
mutation($input: CorrectMemberBirthdayInput!) {
  correctMemberBirthday(input: $input) {
    __typename
    ... on MemberBirthday { memberId month day }
    ... on Error { code message }
  }
}
"""


async def test_the_birthday_is_set_once_then_corrected_by_staff(
    client: httpx.AsyncClient, services: Any
) -> None:
    member_id, token = await new_member(client, "13900000001")
    for month, day in ((2, 30), (13, 1), (0, 5), (4, 31), (6, 0)):
        refused = await set_birthday(client, token, month, day)
        assert refused["code"] == "INVALID_BIRTHDAY", (month, day)
    assert (await Member.get(id=member_id)).birthday_month is None
    leap = await set_birthday(client, token, 2, 29)
    assert leap == {
        "__typename": "Member",
        "id": member_id,
        "birthday": {"month": 2, "day": 29},
    }
    again = await set_birthday(client, token, 3, 1)
    assert again["code"] == "BIRTHDAY_ALREADY_SET"
    member = await Member.get(id=member_id)
    assert (member.birthday_month, member.birthday_day) == (2, 29)

    moderator = await staff_token(client, services, "mod", ["moderator"])
    values = {"memberId": member_id, "month": 3, "day": 1, "note": "member called"}
    forbidden = await gql(client, CORRECT, {"input": values}, token=moderator, path=ADMIN)
    assert forbidden["data"]["correctMemberBirthday"]["code"] == "FORBIDDEN"
    advisor = await staff_token(client, services, "care", ["advisor"])
    for bad, code in (
        ({**values, "day": 30, "month": 2}, "INVALID_BIRTHDAY"),
        ({**values, "note": "  "}, "NOTE_REQUIRED"),
        ({**values, "memberId": "nobody"}, "UNKNOWN_MEMBER"),
    ):
        body = await gql(client, CORRECT, {"input": bad}, token=advisor, path=ADMIN)
        assert body["data"]["correctMemberBirthday"]["code"] == code
    assert (await Member.get(id=member_id)).birthday_month == 2
    done = await gql(client, CORRECT, {"input": values}, token=advisor, path=ADMIN)
    assert done["data"]["correctMemberBirthday"] == {
        "__typename": "MemberBirthday",
        "memberId": member_id,
        "month": 3,
        "day": 1,
    }
    me = await gql(client, "{ me { birthday { month day } } }", token=token)
    assert me["data"]["me"]["birthday"] == {"month": 3, "day": 1}


USE = """
mutation($id: ID!) {
  recordRightUse(input: {memberId: $id, rightCode: "BIRTHDAY_DISCOUNT", note: "till 3"}) {
    __typename
    ... on RightUsage { used limit }
    ... on Error { code message }
  }
}
"""


async def test_the_birthday_discount_is_used_in_the_birthday_month_only(
    client: httpx.AsyncClient, services: Any, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await Member.filter(id=member_id).update(tier="SILVER")  # tier rules are tested elsewhere
    operator = await staff_token(client, services, "till", ["operator"])

    async def use(operator: str) -> dict[str, Any]:
        body = await gql(client, USE, {"id": member_id}, token=operator, path=ADMIN)
        return dict(body["data"]["recordRightUse"])

    assert (await use(operator))["code"] == "BIRTHDAY_NOT_SET"
    await set_birthday(client, token, 12, 3)
    assert (await use(operator))["code"] == "NOT_BIRTHDAY_MONTH"  # it is November
    clock.set(datetime(2026, 12, 20, 4, 0, tzinfo=UTC))
    operator = await staff_token(client, services, "december-till", ["operator"])
    assert await use(operator) == {"__typename": "RightUsage", "used": 1, "limit": 1}
    assert (await use(operator))["code"] == "RIGHT_LIMIT_REACHED"


# --- data export ---


async def ready_export(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    for _ in range(200):
        body = await gql(client, op("MyDataExports"), token=token)
        exports = body["data"]["me"]["dataExports"]
        if exports and exports[0]["status"] != "PENDING":
            return dict(exports[0])
        await asyncio.sleep(0.05)
    raise AssertionError("the export was not built")


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_a_data_export_holds_everything_and_downloads_once(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    group_id, members = await group_with_members(client, app, 2)
    member_id, token = members[1]
    await post(client, token, group_id, "My first bag")
    await set_birthday(client, token, 5, 6)
    await set_consent(client, token, purpose="PUBLIC_PROFILE", granted=True)
    requested = (await gql(client, op("RequestDataExport"), token=token))["data"]
    assert requested["requestDataExport"]["__typename"] == "DataExport"
    assert requested["requestDataExport"]["requestedAt"] == clock.now().isoformat()
    export = await ready_export(client, token)
    assert export["status"] == "READY"
    assert export["expiresAt"] == (clock.now() + timedelta(hours=24)).isoformat()
    url = local(export["downloadUrl"])

    forged = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert (await client.get(forged)).status_code == 403
    response = await client.get(url)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    document = json.loads(response.content)
    assert document["profile"]["id"] == member_id
    assert document["profile"]["phone"] == "13900000001"
    assert document["profile"]["birthday"] == {"month": 5, "day": 6}
    records = document["records"]
    assert [p["body"] for p in records["post"]] == ["My first bag"]
    assert [c["purpose"] for c in records["consent_record"]] == ["PUBLIC_PROFILE"]
    assert records["tier_change"]
    assert records["group_membership"]
    sessions = records["refresh_token"]
    assert sessions[0]["device"].startswith("python-httpx/")
    assert sessions[0]["issued_at"]
    assert records["ledger_entry"] is not None
    assert "password_hash" not in json.dumps(document)

    again = await client.get(url)
    assert again.status_code == 410
    assert again.json()["error"]["code"] == "EXPORT_ALREADY_DOWNLOADED"
    listed = (await gql(client, op("MyDataExports"), token=token))["data"]["me"]["dataExports"]
    assert listed[0]["status"] == "DOWNLOADED"
    assert listed[0]["downloadUrl"] is None
    assert (await DataExport.get(id=listed[0]["id"])).content is None


async def test_an_export_link_expires_after_a_day(
    client: httpx.AsyncClient, clock: FrozenClock, services: Any
) -> None:
    member_id, token = await new_member(client, "13900000001")
    await gql(client, op("RequestDataExport"), token=token)
    url = local((await ready_export(client, token))["downloadUrl"])
    clock.advance(timedelta(hours=24, seconds=1))
    export_row = await DataExport.get(member_id=member_id)
    assert export_row.content is not None
    await purge_expired_exports(services)  # the daily job empties files nobody fetched
    assert (await DataExport.get(id=export_row.id)).content is None
    expired = await client.get(url)
    assert expired.status_code == 410
    assert expired.json()["error"]["code"] == "EXPORT_LINK_EXPIRED"
    token = (await login(client, "13900000001"))["accessToken"]
    listed = (await gql(client, op("MyDataExports"), token=token))["data"]["me"]["dataExports"]
    assert listed[0]["status"] == "EXPIRED"
    assert listed[0]["downloadUrl"] is None
    unknown = await client.get("/privacy/exports/nothing?expires=1&signature=x")
    assert unknown.status_code == 403
    # A superscript two is a digit to str.isdigit, not to int: still just a forged link.
    odd = await client.get(f"/privacy/exports/{export_row.id}?expires=%C2%B2&signature=x")
    assert odd.status_code == 403


async def test_only_one_export_is_prepared_at_a_time(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    member_id, token = await new_member(client, "13900000001")
    lost = await DataExport.create(member_id=member_id, requested_at=clock.now())  # in progress
    refused = await gql(client, op("RequestDataExport"), token=token)
    assert refused["data"]["requestDataExport"]["code"] == "EXPORT_IN_PROGRESS"
    assert await DataExport.filter(member_id=member_id).count() == 1
    # One pending for over an hour was lost on the way: it blocks nothing.
    await DataExport.filter(id=lost.id).update(requested_at=clock.now() - timedelta(hours=2))
    accepted = await gql(client, op("RequestDataExport"), token=token)
    assert accepted["data"]["requestDataExport"]["status"] == "PENDING"
    assert await DataExport.filter(member_id=member_id).count() == 2
    unsigned = await gql(client, op("RequestDataExport"))
    assert unsigned["data"]["requestDataExport"]["code"] == "UNAUTHENTICATED"


# --- account deletion ---


async def request_deletion(client: httpx.AsyncClient, token: str, reason: str) -> dict[str, Any]:
    body = await gql(
        client, op("RequestAccountDeletion"), {"input": {"reason": reason}}, token=token
    )
    return dict(body["data"]["requestAccountDeletion"])


async def test_deletion_ends_sessions_freezes_sign_in_and_can_be_cancelled(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tokens = await register(client, phone="13900000001")
    token, refresh = tokens["accessToken"], tokens["refreshToken"]
    for reason in ("", "   ", "x" * 501):
        refused = await request_deletion(client, token, reason)
        assert refused["code"] == "INVALID_REASON"
    assert (await gql(client, ME, token=token))["data"]["me"] is not None
    assert await AccountDeletion.all().count() == 0

    requested = await request_deletion(client, token, "moving abroad")
    erases_at = (clock.now() + timedelta(days=15)).isoformat()
    assert requested == {
        "__typename": "AccountDeletion",
        "status": "PENDING",
        "requestedAt": clock.now().isoformat(),
        "erasesAt": erases_at,
    }
    # The access token stops working at once, the refresh token too.
    frozen = await gql(client, ME, token=token)
    assert frozen["errors"][0]["extensions"]["code"] == "ACCOUNT_FROZEN"
    again = await request_deletion(client, token, "moving abroad")
    assert again["code"] == "ACCOUNT_FROZEN"
    renewed = await gql(client, op("RefreshTokens"), {"input": {"refreshToken": refresh}})
    assert renewed["data"]["refreshTokens"]["code"] == "REFRESH_TOKEN_REVOKED"
    # Sign-in is refused, saying when the erasure happens and how to cancel it.
    credentials = {"input": {"phone": "13900000001", "password": "secret-pass-1"}}
    login = (await gql(client, op("Login"), credentials))["data"]["login"]
    assert login["__typename"] == "AccountDeletionPendingError"
    assert login["code"] == "ACCOUNT_DELETION_PENDING"
    assert "2026-12-03" in login["message"]
    assert "cancel" in login["message"]
    pending = await gql(
        client,
        "mutation($i: LoginInput!) { login(input: $i) { "
        "... on AccountDeletionPendingError { erasesAt cancelToken } } }",
        {"i": credentials["input"]},
    )
    cancel_token = pending["data"]["login"]["cancelToken"]
    assert pending["data"]["login"]["erasesAt"] == erases_at
    # That token cancels the deletion and does nothing else.
    only_cancel = await gql(client, ME, token=cancel_token)
    assert only_cancel["errors"][0]["extensions"]["code"] == "ACCOUNT_DELETION_PENDING"
    consent = await set_consent(client, cancel_token, purpose="MARKETING", granted=True)
    assert consent["code"] == "ACCOUNT_DELETION_PENDING"
    export = await gql(client, op("RequestDataExport"), token=cancel_token)
    assert export["data"]["requestDataExport"]["code"] == "ACCOUNT_DELETION_PENDING"
    assert await ConsentRecord.all().count() == 0
    cancelled = (await gql(client, op("CancelAccountDeletion"), token=cancel_token))["data"]
    assert cancelled["cancelAccountDeletion"] == {
        "__typename": "AccountDeletion",
        "status": "CANCELLED",
        "requestedAt": clock.now().isoformat(),
        "erasesAt": None,
    }
    twice = (await gql(client, op("CancelAccountDeletion"), token=cancel_token))["data"]
    assert twice["cancelAccountDeletion"]["code"] == "NO_DELETION_REQUESTED"
    clock.advance(timedelta(seconds=1))
    back = (await gql(client, op("Login"), credentials))["data"]["login"]
    assert back["__typename"] == "AuthTokens"
    assert (await gql(client, ME, token=back["accessToken"]))["data"]["me"] is not None
    assert (await Member.get(phone_masked="139****0001")).erasure_due_at is None


async def test_cancelling_without_a_request_is_refused(client: httpx.AsyncClient) -> None:
    _, token = await new_member(client, "13900000001")
    body = await gql(client, op("CancelAccountDeletion"), token=token)
    assert body["data"]["cancelAccountDeletion"]["code"] == "NO_DELETION_REQUESTED"
    unsigned = await gql(client, op("CancelAccountDeletion"))
    assert unsigned["data"]["cancelAccountDeletion"]["code"] == "UNAUTHENTICATED"
