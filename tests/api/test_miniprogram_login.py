"""Mini-program sign-in against a local stub of the platform's code2session API."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from member_api.members.models import Member
from member_api.settings import Settings
from tests.stubs import PlatformStub
from tests.support import ME, gql, op


@pytest.fixture
def settings(settings: Settings, platform: PlatformStub) -> Settings:
    return dataclasses.replace(
        settings,
        miniprogram_base_url=platform.base_url,
        miniprogram_app_id="wx-test-app",
        miniprogram_app_secret="wx-test-secret",
        miniprogram_timeout_seconds=0.5,
    )


async def mini_login(client: httpx.AsyncClient, code: str) -> dict[str, str]:
    body = await gql(client, op("LoginWithMiniProgram"), {"input": {"code": code}})
    result: dict[str, str] = body["data"]["loginWithMiniProgram"]
    return result


async def test_first_login_creates_a_member_bound_to_openid(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    platform.sessions["code-1"] = {"openid": "o-abc", "unionid": "u-xyz", "session_key": "k"}
    result = await mini_login(client, "code-1")
    assert result["__typename"] == "AuthTokens"
    me = (await gql(client, ME, token=result["accessToken"]))["data"]["me"]
    assert me["phoneMasked"] is None
    member = await Member.get(id=me["id"])
    assert (member.miniprogram_openid, member.miniprogram_unionid) == ("o-abc", "u-xyz")
    sent = platform.requests[0]
    assert sent["appid"] == ["wx-test-app"]
    assert sent["secret"] == ["wx-test-secret"]
    assert sent["grant_type"] == ["authorization_code"]


async def test_returning_member_gets_the_same_account(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    platform.sessions["code-1"] = {"openid": "o-abc", "session_key": "k"}
    platform.sessions["code-2"] = {"openid": "o-abc", "session_key": "k2"}
    first = await mini_login(client, "code-1")
    second = await mini_login(client, "code-2")
    me1 = (await gql(client, ME, token=first["accessToken"]))["data"]["me"]
    me2 = (await gql(client, ME, token=second["accessToken"]))["data"]["me"]
    assert me1["id"] == me2["id"]
    assert await Member.all().count() == 1


async def test_platform_refusal_is_a_typed_error(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    result = await mini_login(client, "expired-code")
    assert result["__typename"] == "ValidationError"
    assert result["code"] == "MINIPROGRAM_CODE_REJECTED"
    assert await Member.all().count() == 0


async def test_platform_server_error_is_an_upstream_error(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    platform.status = 502
    result = await mini_login(client, "code-1")
    assert (result["__typename"], result["code"]) == ("UpstreamError", "MINIPROGRAM_UNAVAILABLE")


async def test_platform_timeout_is_an_upstream_error(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    platform.sessions["slow"] = {"openid": "o-slow"}
    platform.delay_seconds = 1.0
    result = await mini_login(client, "slow")
    assert (result["__typename"], result["code"]) == ("UpstreamError", "MINIPROGRAM_UNAVAILABLE")
    assert await Member.all().count() == 0


async def test_platform_unreachable_is_an_upstream_error(
    client: httpx.AsyncClient, platform: PlatformStub, app: object
) -> None:
    platform.sessions["code-1"] = {"openid": "o-abc"}
    services = app.state.services  # type: ignore[attr-defined]
    services.miniprogram._http.base_url = "http://127.0.0.1:9"  # nothing listens there
    result = await mini_login(client, "code-1")
    assert result["code"] == "MINIPROGRAM_UNAVAILABLE"


async def test_empty_code_is_refused_without_calling_the_platform(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    result = await mini_login(client, "  ")
    assert (result["__typename"], result["code"]) == ("ValidationError", "INVALID_CODE")
    assert platform.requests == []


async def test_a_closed_account_cannot_sign_in_from_the_mini_program(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    platform.sessions["code-1"] = {"openid": "o-abc", "session_key": "k"}
    platform.sessions["code-2"] = {"openid": "o-abc", "session_key": "k2"}
    first = await mini_login(client, "code-1")
    closed = await gql(
        client,
        op("RequestAccountDeletion"),
        {"input": {"reason": "no longer needed"}},
        token=first["accessToken"],
    )
    assert closed["data"]["requestAccountDeletion"]["status"] == "PENDING"
    again = await mini_login(client, "code-2")
    assert again["__typename"] == "AccountDeletionPendingError"
    assert again["code"] == "ACCOUNT_DELETION_PENDING"
    assert await Member.all().count() == 1  # not a new account either
