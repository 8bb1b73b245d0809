"""Registration and password sign-in: every way they can go wrong, over HTTP."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import httpx
import pytest

from member_api.auth.models import RefreshToken
from member_api.clock import FrozenClock
from member_api.members.models import Member
from member_api.settings import Settings
from tests.support import ME, gql, login, op, register


async def test_wrong_password(client: httpx.AsyncClient) -> None:
    await register(client)
    result = await login(client, password="not-the-password")
    assert (result["__typename"], result["code"]) == ("AuthenticationError", "INVALID_CREDENTIALS")


async def test_unknown_phone_looks_like_a_wrong_password(client: httpx.AsyncClient) -> None:
    result = await login(client, phone="13700000000")
    assert (result["__typename"], result["code"]) == ("AuthenticationError", "INVALID_CREDENTIALS")


async def test_duplicate_registration(client: httpx.AsyncClient) -> None:
    await register(client)
    again = await register(client, phone="+86 139-0000-0001", password="another-pass")
    assert (again["__typename"], again["code"]) == ("ConflictError", "PHONE_ALREADY_REGISTERED")
    assert await Member.all().count() == 1


@pytest.mark.parametrize("phone", ["12345", "1390000000a", "23900000001", "", "139000000011"])
async def test_malformed_phone(client: httpx.AsyncClient, phone: str) -> None:
    result = await register(client, phone=phone)
    assert (result["__typename"], result["code"]) == ("ValidationError", "INVALID_PHONE")
    signin = await login(client, phone=phone)
    assert signin["code"] == "INVALID_PHONE"
    assert await Member.all().count() == 0


async def test_short_password_is_refused(client: httpx.AsyncClient) -> None:
    result = await register(client, password="short")
    assert (result["__typename"], result["code"]) == ("ValidationError", "PASSWORD_TOO_SHORT")


async def test_phone_is_stored_protected_and_shown_masked(client: httpx.AsyncClient) -> None:
    tokens = await register(client, phone="13912345678")
    me = (await gql(client, ME, token=tokens["accessToken"]))["data"]["me"]
    assert me["phoneMasked"] == "139****5678"
    row = await Member.get(id=me["id"])
    stored = " ".join(str(v) for v in (row.phone_encrypted, row.phone_index, row.password_hash))
    assert "13912345678" not in stored
    assert row.password_hash is not None
    assert row.password_hash.startswith("$argon2id$")


async def test_referral_code_links_referee_to_referrer(client: httpx.AsyncClient) -> None:
    referrer_tokens = await register(client, phone="13900000001")
    referrer = (await gql(client, ME, token=referrer_tokens["accessToken"]))["data"]["me"]
    referee_tokens = await register(
        client, phone="13900000002", referralCode=referrer["referralCode"].lower()
    )
    referee = (await gql(client, ME, token=referee_tokens["accessToken"]))["data"]["me"]
    row = await Member.get(id=referee["id"])
    assert str(row.referred_by_id) == referrer["id"]


async def test_unknown_referral_code_is_refused(client: httpx.AsyncClient) -> None:
    result = await register(client, referralCode="ZZZZZZZZ")
    assert (result["__typename"], result["code"]) == ("ValidationError", "REFERRAL_CODE_UNKNOWN")
    assert await Member.all().count() == 0


async def refresh(client: httpx.AsyncClient, token: str) -> dict[str, str]:
    body = await gql(client, op("RefreshTokens"), {"input": {"refreshToken": token}})
    result: dict[str, str] = body["data"]["refreshTokens"]
    return result


async def test_refresh_token_reuse_revokes_the_whole_family(client: httpx.AsyncClient) -> None:
    first = await register(client)
    second = await refresh(client, first["refreshToken"])
    third = await refresh(client, second["refreshToken"])
    assert third["__typename"] == "AuthTokens"

    replay = await refresh(client, first["refreshToken"])  # stolen, already rotated
    assert (replay["__typename"], replay["code"]) == ("AuthenticationError", "REFRESH_TOKEN_REUSED")
    # The newest token of the family dies with it.
    after = await refresh(client, third["refreshToken"])
    assert after["code"] == "REFRESH_TOKEN_REVOKED"
    assert await RefreshToken.filter(revoked_at__isnull=True).count() == 0


async def test_a_spent_token_is_reuse_even_after_the_family_was_revoked(
    client: httpx.AsyncClient,
) -> None:
    # Concurrent uses of one token race a loser's revocation: every loser must
    # still be told the token was reused, whichever order they are read in.
    first = await register(client)
    second = await refresh(client, first["refreshToken"])
    await gql(client, op("Logout"), {"input": {"refreshToken": second["refreshToken"]}})
    assert (await refresh(client, first["refreshToken"]))["code"] == "REFRESH_TOKEN_REUSED"
    assert (await refresh(client, second["refreshToken"]))["code"] == "REFRESH_TOKEN_REVOKED"


async def test_other_sessions_survive_a_revoked_family(client: httpx.AsyncClient) -> None:
    phone_session = await register(client)
    tablet_session = await login(client)
    rotated = await refresh(client, phone_session["refreshToken"])
    await refresh(client, phone_session["refreshToken"])  # reuse: phone family revoked
    assert (await refresh(client, rotated["refreshToken"]))["code"] == "REFRESH_TOKEN_REVOKED"
    assert (await refresh(client, tablet_session["refreshToken"]))["__typename"] == "AuthTokens"


async def test_logout_revokes(client: httpx.AsyncClient) -> None:
    tokens = await register(client)
    body = await gql(client, op("Logout"), {"input": {"refreshToken": tokens["refreshToken"]}})
    assert body["data"]["logout"]["__typename"] == "LogoutSuccess"
    assert (await refresh(client, tokens["refreshToken"]))["code"] == "REFRESH_TOKEN_REVOKED"
    unknown = await gql(client, op("Logout"), {"input": {"refreshToken": "never-issued"}})
    assert unknown["data"]["logout"]["code"] == "INVALID_REFRESH_TOKEN"


async def test_unknown_refresh_token(client: httpx.AsyncClient) -> None:
    result = await refresh(client, "made-up")
    assert (result["__typename"], result["code"]) == (
        "AuthenticationError",
        "INVALID_REFRESH_TOKEN",
    )


async def test_expired_refresh_token(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    tokens = await register(client)
    clock.advance(timedelta(days=31))
    assert (await refresh(client, tokens["refreshToken"]))["code"] == "REFRESH_TOKEN_EXPIRED"


async def test_expired_access_token(client: httpx.AsyncClient, clock: FrozenClock) -> None:
    tokens = await register(client)
    clock.advance(timedelta(minutes=15))
    body = await gql(client, ME, token=tokens["accessToken"])
    assert body["data"] == {"me": None} or body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "TOKEN_EXPIRED"


async def test_tampered_access_token(client: httpx.AsyncClient) -> None:
    tokens = await register(client)
    head, payload, signature = tokens["accessToken"].split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    body = await gql(client, ME, token=f"{head}.{payload}.{flipped}")
    assert body["errors"][0]["extensions"]["code"] == "INVALID_TOKEN"


async def test_missing_token_gives_no_member(client: httpx.AsyncClient) -> None:
    body = await gql(client, ME)
    assert body["data"] == {"me": None}
    assert "errors" not in body


async def test_update_profile(client: httpx.AsyncClient) -> None:
    tokens = await register(client)
    variables = {"input": {"displayName": "  Lin  ", "avatarUrl": "https://cdn.example/a.png"}}
    body = await gql(client, op("UpdateProfile"), variables, token=tokens["accessToken"])
    result = body["data"]["updateProfile"]
    assert result["__typename"] == "Member"
    assert (result["displayName"], result["avatarUrl"]) == ("Lin", "https://cdn.example/a.png")


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("avatarUrl", "http://insecure.example/a.png", "INVALID_AVATAR_URL"),
        ("avatarUrl", "javascript:alert(1)", "INVALID_AVATAR_URL"),
        ("displayName", "   ", "INVALID_DISPLAY_NAME"),
        ("displayName", "x" * 41, "INVALID_DISPLAY_NAME"),
        # NUL never reaches a resolver: the request is refused whole, typed.
        ("displayName", "a\u0000b", "INVALID_CHARACTERS"),
    ],
)
async def test_update_profile_refuses_bad_input(
    client: httpx.AsyncClient, field: str, value: str, code: str
) -> None:
    tokens = await register(client, displayName="Before")
    variables = {"input": {field: value}}
    body = await gql(client, op("UpdateProfile"), variables, token=tokens["accessToken"])
    if body["data"] is None:
        assert body["errors"][0]["extensions"]["code"] == code
    else:
        assert body["data"]["updateProfile"]["code"] == code
    me = (await gql(client, ME, token=tokens["accessToken"]))["data"]["me"]
    assert me["displayName"] == "Before"


async def test_update_profile_needs_a_signed_in_member(client: httpx.AsyncClient) -> None:
    body = await gql(client, op("UpdateProfile"), {"input": {"displayName": "x"}})
    result = body["data"]["updateProfile"]
    assert (result["__typename"], result["code"]) == ("AuthenticationError", "UNAUTHENTICATED")


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(
        settings, login_max_failures_per_phone=3, login_max_failures_per_address=5
    )


async def test_repeated_failures_are_rate_limited_per_phone(client: httpx.AsyncClient) -> None:
    await register(client)
    for _ in range(3):
        assert (await login(client, password="wrong-password"))["code"] == "INVALID_CREDENTIALS"
    blocked = await login(client)  # even the right password waits now
    assert (blocked["__typename"], blocked["code"]) == ("RateLimitedError", "TOO_MANY_ATTEMPTS")
    body = await gql(
        client,
        "mutation($i: LoginInput!) { login(input: $i) {"
        " ... on RateLimitedError { retryAfterSeconds } } }",
        {"i": {"phone": "13900000001", "password": "secret-pass-1"}},
    )
    assert body["data"]["login"]["retryAfterSeconds"] > 0
    other = await register(client, phone="13900000002")
    assert other["__typename"] == "AuthTokens"


async def test_repeated_failures_are_rate_limited_per_address(client: httpx.AsyncClient) -> None:
    for n in range(5):
        assert (await login(client, phone=f"1370000000{n}"))["code"] == "INVALID_CREDENTIALS"
    await register(client, phone="13900000009")
    blocked = await login(client, phone="13900000009")
    assert blocked["code"] == "TOO_MANY_ATTEMPTS"


async def test_failure_window_expires(client: httpx.AsyncClient, app: object) -> None:
    await register(client)
    for _ in range(3):
        await login(client, password="wrong-password")
    cache = app.state.services.cache  # type: ignore[attr-defined]
    await cache.clear()  # what the window's end does
    assert (await login(client))["__typename"] == "AuthTokens"
