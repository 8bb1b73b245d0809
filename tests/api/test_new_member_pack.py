"""The New tier's coupon pack: issued with the member row, on phone registration and on
the first mini-program sign-in alike, as the rules data says; a failure issues nothing."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.members.models import Member
from member_api.settings import Settings, read_rules
from member_api.tasks import service as tasks_service
from member_api.tasks.models import Coupon
from member_api.tiers.models import TierChange
from tests.stubs import PlatformStub
from tests.support import gql, op, register

COUPONS = "{ me { id coupons { kind name code issuedAt expiresAt usedAt } } }"
PACK = {"FREE_SHIPPING": 1, "NEW_MEMBER_DISCOUNT": 1}


@pytest.fixture
def rules() -> dict[str, Any]:
    return {}


@pytest.fixture
def settings(
    settings: Settings, rules: dict[str, Any], tmp_path: Path, platform: PlatformStub
) -> Settings:
    """The business rules from a RULES_FILE, and the mini-program platform's stub."""
    path = tmp_path / "rules.json"
    path.write_text(json.dumps(rules), encoding="utf-8")
    return dataclasses.replace(
        settings,
        miniprogram_base_url=platform.base_url,
        miniprogram_timeout_seconds=2.0,
        **read_rules({"RULES_FILE": str(path)}),
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


async def coupons(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    body = await gql(client, COUPONS, token=token)
    assert "errors" not in body, body
    found: list[dict[str, Any]] = body["data"]["me"]["coupons"]
    return found


def kinds(found: list[dict[str, Any]]) -> Counter[str]:
    return Counter(coupon["kind"] for coupon in found)


async def mini_login(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    body = await gql(client, op("LoginWithMiniProgram"), {"input": {"code": code}})
    result: dict[str, Any] = body["data"]["loginWithMiniProgram"]
    return result


async def test_a_member_registered_by_phone_has_the_pack(
    client: httpx.AsyncClient, clock: FrozenClock
) -> None:
    tokens = await register(client, phone="13900000001")
    found = await coupons(client, tokens["accessToken"])
    assert kinds(found) == PACK
    names = {coupon["kind"]: coupon["name"] for coupon in found}
    assert names == {
        "FREE_SHIPPING": "包邮券 Free-shipping coupon",
        "NEW_MEMBER_DISCOUNT": "新人专享券 New-member discount coupon",
    }
    valid_until = (clock.now() + timedelta(days=90)).isoformat()
    assert {(c["issuedAt"], c["expiresAt"], c["usedAt"]) for c in found} == {
        (clock.now().isoformat(), valid_until, None)
    }
    assert len({coupon["code"] for coupon in found}) == 2


async def test_a_member_created_by_the_first_mini_program_login_has_the_pack_once(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    platform.sessions["code-1"] = {"openid": "o-abc", "session_key": "k"}
    platform.sessions["code-2"] = {"openid": "o-abc", "session_key": "k2"}
    first = await mini_login(client, "code-1")
    assert kinds(await coupons(client, first["accessToken"])) == PACK
    second = await mini_login(client, "code-2")  # signing in again issues nothing more
    assert kinds(await coupons(client, second["accessToken"])) == PACK
    assert await Coupon.all().count() == 2


async def test_a_failure_while_creating_the_member_leaves_no_coupon_and_no_member(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_issue = tasks_service.issue_coupon
    issued: list[Any] = []

    async def fail_on_the_second(*args: Any, **kwargs: Any) -> bool:
        if issued:
            raise RuntimeError("the coupon store failed")
        issued.append(await real_issue(*args, **kwargs))
        return True

    with monkeypatch.context() as patch:
        patch.setattr(tasks_service, "issue_coupon", fail_on_the_second)
        body = await gql(
            client,
            op("Register"),
            {"input": {"phone": "13900000001", "password": "secret-pass-1"}},
        )
    assert issued == [True]  # the first coupon was written before the failure
    assert body["data"] is None or body["data"]["register"] is None, body
    assert await Member.all().count() == 0
    assert await Coupon.all().count() == 0
    assert await TierChange.all().count() == 0

    tokens = await register(client, phone="13900000001")  # the retry creates it all
    assert kinds(await coupons(client, tokens["accessToken"])) == PACK


@pytest.mark.parametrize("rules", [{"tasks": {"new_member_coupons": {}}}])
async def test_an_empty_pack_issues_no_coupon(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    tokens = await register(client, phone="13900000001")
    assert await coupons(client, tokens["accessToken"]) == []
    platform.sessions["code-1"] = {"openid": "o-abc", "session_key": "k"}
    assert await coupons(client, (await mini_login(client, "code-1"))["accessToken"]) == []
    assert await Coupon.all().count() == 0


@pytest.mark.parametrize("rules", [{"tasks": {"new_member_coupons": {"NEW_MEMBER_DISCOUNT": 3}}}])
async def test_the_pack_is_what_the_rules_data_says(client: httpx.AsyncClient) -> None:
    tokens = await register(client, phone="13900000001")
    assert kinds(await coupons(client, tokens["accessToken"])) == {"NEW_MEMBER_DISCOUNT": 3}


@pytest.mark.parametrize("backend", ["postgres"])
async def test_one_first_login_sent_twice_at_once_issues_one_pack(
    client: httpx.AsyncClient, platform: PlatformStub
) -> None:
    platform.sessions["code-1"] = {"openid": "o-abc", "session_key": "k"}
    platform.sessions["code-2"] = {"openid": "o-abc", "session_key": "k2"}
    results = await asyncio.gather(mini_login(client, "code-1"), mini_login(client, "code-2"))
    assert [r["__typename"] for r in results] == ["AuthTokens", "AuthTokens"]
    assert await Member.all().count() == 1
    assert await Coupon.all().count() == 2
