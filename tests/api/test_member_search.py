"""Finding members on the staff API: by phone (its keyed index), id, referral code,
mini-program openid and display-name prefix; masked, paginated, bad input refused."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from member_api.members.models import Member
from member_api.services import Services
from tests.commerce_support import new_member
from tests.support import gql, op, sql_statements, staff_token

ADMIN = "/admin/graphql"
SEARCH = """
query($by: MemberSearchKey!, $value: String!, $first: Int! = 20, $after: String) {
  searchMembers(by: $by, value: $value, first: $first, after: $after) {
    edges { cursor node { id displayName phoneMasked referralCode joinedAt tier { code } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


async def rename(client: httpx.AsyncClient, token: str, name: str) -> None:
    body = await gql(client, op("UpdateProfile"), {"input": {"displayName": name}}, token=token)
    assert body["data"]["updateProfile"]["__typename"] == "Member", body


@pytest.fixture
async def people(client: httpx.AsyncClient) -> dict[str, str]:
    """Three members: Alice and Alina share a prefix, Bob does not; Alice uses the
    mini-program."""
    ids = {}
    for name, phone in (("Alice", "13900000001"), ("Alina", "13900000002"), ("Bob", "13900000003")):
        member_id, token = await new_member(client, phone)
        await rename(client, token, name)
        ids[name] = member_id
    await Member.filter(id=ids["Alice"]).update(miniprogram_openid="o-alice-openid")
    return ids


async def search(
    client: httpx.AsyncClient, token: str, by: str, value: str, **extra: Any
) -> dict[str, Any]:
    variables = {"by": by, "value": value, **extra}
    return await gql(client, SEARCH, variables, token=token, path=ADMIN)


def found(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [e["node"]["displayName"] for e in body["data"]["searchMembers"]["edges"]]


def error_code(body: dict[str, Any]) -> str:
    assert body["data"] is None, body
    return str(body["errors"][0]["extensions"]["code"])


async def test_each_key_finds_its_member_and_nothing_else(
    client: httpx.AsyncClient, services: Services, people: dict[str, str]
) -> None:
    token = await staff_token(client, services, "care-advisor", ["advisor"])
    alice = await Member.get(id=people["Alice"])
    bob = await Member.get(id=people["Bob"])
    assert found(await search(client, token, "PHONE", "+86 139-0000-0002")) == ["Alina"]
    assert found(await search(client, token, "PHONE", "13900000009")) == []
    assert found(await search(client, token, "MEMBER_ID", people["Bob"])) == ["Bob"]
    assert found(await search(client, token, "MEMBER_ID", people["Bob"].upper())) == ["Bob"]
    code = bob.referral_code.lower()
    assert found(await search(client, token, "REFERRAL_CODE", code)) == ["Bob"]
    assert found(await search(client, token, "MINI_PROGRAM_OPENID", "o-alice-openid")) == ["Alice"]
    assert found(await search(client, token, "MINI_PROGRAM_OPENID", "o-alice")) == []
    assert found(await search(client, token, "DISPLAY_NAME_PREFIX", "Alic")) == ["Alice"]
    assert sorted(found(await search(client, token, "DISPLAY_NAME_PREFIX", "Ali"))) == [
        "Alice",
        "Alina",
    ]
    # Letters match in any case, on every database alike.
    assert sorted(found(await search(client, token, "DISPLAY_NAME_PREFIX", "aLI"))) == [
        "Alice",
        "Alina",
    ]
    # A prefix is a prefix: LIKE's wildcards and escape in it match only themselves.
    assert found(await search(client, token, "DISPLAY_NAME_PREFIX", "A%")) == []
    assert found(await search(client, token, "DISPLAY_NAME_PREFIX", "Al_ce")) == []
    _, token_of_odd = await new_member(client, "13900000007")
    await rename(client, token_of_odd, "50%_off\\sale")
    for prefix in ("50%", "50%_", "50%_off\\", "50%_OFF\\S"):
        assert found(await search(client, token, "DISPLAY_NAME_PREFIX", prefix)) == [
            "50%_off\\sale"
        ]
    assert found(await search(client, token, "DISPLAY_NAME_PREFIX", "5_")) == []
    assert found(await search(client, token, "DISPLAY_NAME_PREFIX", "50%_off\\x")) == []
    node = (await search(client, token, "MEMBER_ID", str(alice.id)))["data"]["searchMembers"]
    assert node["edges"][0]["node"]["referralCode"] == alice.referral_code


async def test_results_are_masked_as_members_see_themselves(
    client: httpx.AsyncClient, services: Services, people: dict[str, str]
) -> None:
    token = await staff_token(client, services, "care-operator", ["operator"])
    body = await search(client, token, "PHONE", "13900000001")
    (edge,) = body["data"]["searchMembers"]["edges"]
    assert edge["node"]["phoneMasked"] == "139****0001"
    assert edge["node"]["tier"] == {"code": "NEW"}
    assert "13900000001" not in json.dumps(body)


async def test_a_phone_is_found_by_its_keyed_index_never_by_decrypting(
    client: httpx.AsyncClient, services: Services, people: dict[str, str], monkeypatch: Any
) -> None:
    token = await staff_token(client, services, "care-advisor", ["advisor"])
    decrypted: list[str] = []
    real = services.protector.decrypt

    def spy(value: str, *, context: str) -> str:
        decrypted.append(context)
        return real(value, context=context)

    monkeypatch.setattr(services.protector, "decrypt", spy)
    with sql_statements() as sql:
        assert found(await search(client, token, "PHONE", "13900000003")) == ["Bob"]
    assert decrypted == []
    index = services.protector.blind_index("13900000003", context="member.phone")
    (lookup,) = [s for s in sql if 'FROM "member" WHERE' in s]
    assert 'WHERE "phone_index"=' in lookup
    assert index in lookup
    assert index == (await Member.get(id=people["Bob"])).phone_index


async def test_pages_walk_every_match_once(
    client: httpx.AsyncClient, services: Services, people: dict[str, str]
) -> None:
    token = await staff_token(client, services, "care-advisor", ["advisor"])
    seen: list[str] = []
    after = None
    for _ in range(3):
        body = await search(client, token, "DISPLAY_NAME_PREFIX", "Al", first=1, after=after)
        connection = body["data"]["searchMembers"]
        seen += [e["node"]["displayName"] for e in connection["edges"]]
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    assert sorted(seen) == ["Alice", "Alina"]
    assert len(seen) == 2
    body = await search(client, token, "DISPLAY_NAME_PREFIX", "Al", first=101)
    assert error_code(body) == "INVALID_ARGUMENT"
    body = await search(client, token, "DISPLAY_NAME_PREFIX", "Al", after="not-a-cursor")
    assert error_code(body) == "INVALID_CURSOR"


@pytest.mark.parametrize(
    ("by", "value", "code"),
    [
        ("PHONE", "1234", "INVALID_PHONE"),
        ("PHONE", "  ", "EMPTY_SEARCH"),
        ("DISPLAY_NAME_PREFIX", "", "EMPTY_SEARCH"),
        ("DISPLAY_NAME_PREFIX", "A" * 41, "SEARCH_TOO_LONG"),
        ("DISPLAY_NAME_PREFIX", "Al\x07", "INVALID_CHARACTERS"),
        ("MEMBER_ID", "not-an-id", "INVALID_SEARCH_VALUE"),
        ("REFERRAL_CODE", "SHORT", "INVALID_SEARCH_VALUE"),
        ("MINI_PROGRAM_OPENID", "o" * 129, "SEARCH_TOO_LONG"),
    ],
)
async def test_bad_input_gets_a_typed_error(
    client: httpx.AsyncClient, services: Services, by: str, value: str, code: str
) -> None:
    token = await staff_token(client, services, "care-advisor", ["advisor"])
    body = await search(client, token, by, value)
    assert error_code(body) == code
    assert body["errors"][0]["extensions"]["field"] == "value"


async def test_only_staff_with_a_role_that_serves_members_may_search(
    client: httpx.AsyncClient, services: Services, people: dict[str, str]
) -> None:
    for n, role in enumerate(["operator", "advisor", "moderator", "authenticator"]):
        token = await staff_token(client, services, f"searcher-{n}", [role])
        assert found(await search(client, token, "PHONE", "13900000001")) == ["Alice"]
    for n, role in enumerate(["marketer", "auditor", "admin"]):
        token = await staff_token(client, services, f"other-{n}", [role])
        assert error_code(await search(client, token, "PHONE", "13900000001")) == "FORBIDDEN"
    _, member_token = await new_member(client, "13900000008")
    body = await search(client, member_token, "PHONE", "13900000001")
    assert error_code(body) == "WRONG_AUDIENCE"
    assert error_code(await search(client, "", "PHONE", "13900000001")) == "UNAUTHENTICATED"
