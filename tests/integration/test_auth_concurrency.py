"""Races that must have one winner, on PostgreSQL (SQLite does not race the same way)."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter

import httpx
import pytest

from member_api.auth.models import RefreshToken
from member_api.members.models import Member
from member_api.settings import Settings
from tests.stubs import PlatformStub
from tests.support import gql, op, register


@pytest.fixture
def backend() -> str:
    return "postgres"


@pytest.fixture
def settings(settings: Settings, platform: PlatformStub) -> Settings:
    return dataclasses.replace(settings, miniprogram_base_url=platform.base_url)


async def test_concurrent_use_of_one_refresh_token_has_one_winner(
    client: httpx.AsyncClient,
) -> None:
    tokens = await register(client)
    variables = {"input": {"refreshToken": tokens["refreshToken"]}}
    bodies = await asyncio.gather(*(gql(client, op("RefreshTokens"), variables) for _ in range(10)))
    results = [body["data"]["refreshTokens"] for body in bodies]
    outcome = Counter(
        r["__typename"] if r["__typename"] == "AuthTokens" else r["code"] for r in results
    )
    assert outcome["AuthTokens"] == 1
    assert outcome["REFRESH_TOKEN_REUSED"] == 9
    winner = next(r for r in results if r["__typename"] == "AuthTokens")
    again = await gql(
        client, op("RefreshTokens"), {"input": {"refreshToken": winner["refreshToken"]}}
    )
    assert again["data"]["refreshTokens"]["code"] == "REFRESH_TOKEN_REVOKED"
    assert await RefreshToken.filter(revoked_at__isnull=True).count() <= 1


async def test_concurrent_registration_of_one_phone_creates_one_member(
    client: httpx.AsyncClient,
) -> None:
    results = await asyncio.gather(*(register(client, phone="13911112222") for _ in range(8)))
    kinds = Counter(r["__typename"] for r in results)
    assert kinds == {"AuthTokens": 1, "ConflictError": 7}
    assert await Member.all().count() == 1


async def test_concurrent_first_miniprogram_login_creates_one_member(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    for n in range(8):
        platform.sessions[f"code-{n}"] = {"openid": "o-same", "session_key": "k"}
    bodies = await asyncio.gather(
        *(
            gql(client, op("LoginWithMiniProgram"), {"input": {"code": f"code-{n}"}})
            for n in range(8)
        )
    )
    assert all(b["data"]["loginWithMiniProgram"]["__typename"] == "AuthTokens" for b in bodies)
    assert await Member.filter(miniprogram_openid="o-same").count() == 1
