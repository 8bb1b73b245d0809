"""Register -> Login -> me -> RefreshTokens -> Logout, over HTTP, with the clients' documents."""

from __future__ import annotations

import httpx

from tests.support import ME, gql, login, op, register


async def test_register_login_me_refresh_logout(client: httpx.AsyncClient) -> None:
    registered = await register(client, displayName="Ada")
    assert registered["__typename"] == "AuthTokens"
    assert registered["expiresIn"] == 900

    signed_in = await login(client)
    assert signed_in["__typename"] == "AuthTokens"

    me = (await gql(client, ME, token=signed_in["accessToken"]))["data"]["me"]
    assert me["displayName"] == "Ada"
    assert me["phoneMasked"] == "139****0001"
    assert len(me["referralCode"]) == 8

    refreshed = (
        await gql(
            client, op("RefreshTokens"), {"input": {"refreshToken": signed_in["refreshToken"]}}
        )
    )["data"]["refreshTokens"]
    assert refreshed["__typename"] == "AuthTokens"
    assert refreshed["refreshToken"] != signed_in["refreshToken"]
    me_again = (await gql(client, ME, token=refreshed["accessToken"]))["data"]["me"]
    assert me_again["id"] == me["id"]

    out = (await gql(client, op("Logout"), {"input": {"refreshToken": refreshed["refreshToken"]}}))[
        "data"
    ]["logout"]
    assert out == {"__typename": "LogoutSuccess"}
    after = (
        await gql(
            client, op("RefreshTokens"), {"input": {"refreshToken": refreshed["refreshToken"]}}
        )
    )["data"]["refreshTokens"]
    assert after["__typename"] == "AuthenticationError"
    assert after["code"] == "REFRESH_TOKEN_REVOKED"
