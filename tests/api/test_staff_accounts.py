"""Admins run staff accounts over /admin/graphql: create, roles, deactivate, passwords."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from member_api.staff.models import StaffUser
from tests.support import gql, staff_token

ADMIN = "/admin/graphql"
STAFF = "... on Staff { id username roles active } ... on Error { __typename code }"
CREATE = f"mutation($in: CreateStaffInput!) {{ createStaff(input: $in) {{ {STAFF} }} }}"
SET_ROLES = f"mutation($in: SetStaffRolesInput!) {{ setStaffRoles(input: $in) {{ {STAFF} }} }}"
DEACTIVATE = f"mutation($in: StaffAccountInput!) {{ deactivateStaff(input: $in) {{ {STAFF} }} }}"
REACTIVATE = f"mutation($in: StaffAccountInput!) {{ reactivateStaff(input: $in) {{ {STAFF} }} }}"
RESET = (
    f"mutation($in: ResetStaffPasswordInput!) {{ resetStaffPassword(input: $in) {{ {STAFF} }} }}"
)
CHANGE_MINE = (
    f"mutation($in: ChangeMyPasswordInput!) {{ changeMyPassword(input: $in) {{ {STAFF} }} }}"
)
LIST = """
query($first: Int!, $after: String, $all: Boolean!) {
  staffAccounts(first: $first, after: $after, includeInactive: $all) {
    edges { node { username active } } pageInfo { hasNextPage endCursor }
  }
}
"""
VIEWER = "{ viewer { username roles } }"
REWARD = """
mutation { createReward(input: {name: "Tote", kind: COUPON, pointsPrice: 10, stock: 1}) {
  __typename ... on Error { code } } }
"""
LOGIN_FULL = """
mutation($u: String!, $p: String!) { staffLogin(input: {username: $u, password: $p}) {
  __typename ... on AuthTokens { accessToken refreshToken } ... on Error { code } } }
"""
REFRESH = """
mutation($t: String!) { staffRefreshTokens(input: {refreshToken: $t}) {
  __typename ... on AuthTokens { accessToken refreshToken } ... on Error { code } } }
"""


async def admin(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any], token: str
) -> Any:
    body = await gql(client, query, variables, token=token, path=ADMIN)
    assert "errors" not in body, body
    return next(iter(body["data"].values()))


async def create(client: httpx.AsyncClient, token: str, username: str, roles: list[str]) -> Any:
    variables = {"in": {"username": username, "password": "staff-pass-1", "roles": roles}}
    return await admin(client, CREATE, variables, token)


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> dict[str, Any]:
    body = await gql(client, LOGIN_FULL, {"u": username, "p": password}, path=ADMIN)
    result: dict[str, Any] = body["data"]["staffLogin"]
    return result


async def staff_rows() -> list[tuple[str, str, bool]]:
    rows = await StaffUser.all().order_by("username")
    return [(r.username, r.roles, r.is_active) for r in rows]


async def test_an_admin_creates_lists_and_changes_staff(
    client: httpx.AsyncClient, app: Any
) -> None:
    boss = await staff_token(client, app.state.services, "boss", ["admin"])
    made = await create(client, boss, "Carol", ["operator", "ADVISOR"])
    assert made == {
        "id": made["id"],
        "username": "carol",
        "roles": ["operator", "advisor"],
        "active": True,
    }
    tokens = await sign_in(client, "carol", "staff-pass-1")
    assert tokens["__typename"] == "AuthTokens"
    changed = await admin(
        client, SET_ROLES, {"in": {"staffId": made["id"], "roles": ["marketer"]}}, boss
    )
    assert changed["roles"] == ["marketer"]
    # The new roles hold from the next request, without signing in again.
    viewer = await admin(client, VIEWER, {}, tokens["accessToken"])
    assert viewer["roles"] == ["marketer"]
    refused = await admin(client, REWARD, {}, tokens["accessToken"])
    assert refused == {"__typename": "ForbiddenError", "code": "FORBIDDEN"}

    dave = await create(client, boss, "dave", ["auditor"])
    await create(client, boss, "abel", ["moderator"])
    await admin(client, DEACTIVATE, {"in": {"staffId": dave["id"]}}, boss)
    page = await admin(client, LIST, {"first": 2, "after": None, "all": True}, boss)
    assert [e["node"]["username"] for e in page["edges"]] == ["abel", "boss"]
    assert page["pageInfo"]["hasNextPage"] is True
    after = page["pageInfo"]["endCursor"]
    rest = await admin(client, LIST, {"first": 2, "after": after, "all": True}, boss)
    assert [e["node"] for e in rest["edges"]] == [
        {"username": "carol", "active": True},
        {"username": "dave", "active": False},
    ]
    active = await admin(client, LIST, {"first": 10, "after": None, "all": False}, boss)
    assert [e["node"]["username"] for e in active["edges"]] == ["abel", "boss", "carol"]


async def test_a_deactivated_token_stops_working_on_the_next_request(
    client: httpx.AsyncClient, app: Any
) -> None:
    boss = await staff_token(client, app.state.services, "boss", ["admin"])
    eve = await staff_token(client, app.state.services, "eve", ["operator"])
    assert (await admin(client, VIEWER, {}, eve))["username"] == "eve"
    login = await sign_in(client, "eve", "staff-pass-1")
    eve_id = str((await StaffUser.get(username="eve")).id)

    done = await admin(client, DEACTIVATE, {"in": {"staffId": eve_id}}, boss)
    assert done["active"] is False

    body = await gql(client, VIEWER, token=eve, path=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "ACCOUNT_DEACTIVATED"
    refused = await admin(client, REWARD, {}, eve)
    assert refused == {"__typename": "AuthenticationError", "code": "ACCOUNT_DEACTIVATED"}
    again = await gql(client, REFRESH, {"t": login["refreshToken"]}, path=ADMIN)
    assert again["data"]["staffRefreshTokens"]["__typename"] == "AuthenticationError"
    assert (await sign_in(client, "eve", "staff-pass-1"))["code"] == "INVALID_CREDENTIALS"

    back = await admin(client, REACTIVATE, {"in": {"staffId": eve_id}}, boss)
    assert back["active"] is True
    assert (await sign_in(client, "eve", "staff-pass-1"))["__typename"] == "AuthTokens"


async def test_only_admins_manage_staff_and_nobody_raises_their_own_role(
    client: httpx.AsyncClient, app: Any
) -> None:
    services = app.state.services
    boss = await staff_token(client, services, "boss", ["admin"])
    ops = await staff_token(client, services, "ops", ["operator", "moderator", "advisor"])
    ops_id = str((await StaffUser.get(username="ops")).id)
    boss_id = str((await StaffUser.get(username="boss")).id)
    before = await staff_rows()
    forbidden = {"__typename": "ForbiddenError", "code": "FORBIDDEN"}
    attempts = [
        (CREATE, {"in": {"username": "mallory", "password": "staff-pass-1", "roles": ["admin"]}}),
        (SET_ROLES, {"in": {"staffId": ops_id, "roles": ["admin"]}}),
        (SET_ROLES, {"in": {"staffId": boss_id, "roles": ["operator"]}}),
        (DEACTIVATE, {"in": {"staffId": boss_id}}),
        (RESET, {"in": {"staffId": boss_id, "newPassword": "taken-over-1"}}),
    ]
    for query, variables in attempts:
        assert await admin(client, query, variables, ops) == forbidden
    body = await gql(client, LIST, {"first": 5, "all": True}, token=ops, path=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"

    # An admin cannot change their own roles or deactivate themselves either.
    own = {"__typename": "ForbiddenError", "code": "OWN_ACCOUNT"}
    assert (
        await admin(
            client, SET_ROLES, {"in": {"staffId": boss_id, "roles": ["admin", "auditor"]}}, boss
        )
        == own
    )
    assert await admin(client, DEACTIVATE, {"in": {"staffId": boss_id}}, boss) == own
    assert (
        await admin(client, RESET, {"in": {"staffId": boss_id, "newPassword": "new-pass-12"}}, boss)
        == own
    )
    assert await staff_rows() == before


async def test_bad_input_is_a_typed_error_that_changes_nothing(
    client: httpx.AsyncClient, app: Any
) -> None:
    boss = await staff_token(client, app.state.services, "boss", ["admin"])
    made = await create(client, boss, "frank", ["operator"])
    before = await staff_rows()
    unknown = str(uuid.uuid4())
    cases = [
        (
            CREATE,
            {"in": {"username": "gina", "password": "staff-pass-1", "roles": ["janitor"]}},
            "INVALID_ROLE",
        ),
        (
            CREATE,
            {"in": {"username": "gina", "password": "staff-pass-1", "roles": []}},
            "INVALID_ROLE",
        ),
        (
            CREATE,
            {"in": {"username": "gina", "password": "short", "roles": ["operator"]}},
            "PASSWORD_TOO_SHORT",
        ),
        (
            CREATE,
            {"in": {"username": "g", "password": "staff-pass-1", "roles": ["operator"]}},
            "INVALID_USERNAME",
        ),
        (
            CREATE,
            {"in": {"username": "FRANK", "password": "staff-pass-1", "roles": ["operator"]}},
            "USERNAME_TAKEN",
        ),
        (
            SET_ROLES,
            {"in": {"staffId": made["id"], "roles": ["operator", "wizard"]}},
            "INVALID_ROLE",
        ),
        (SET_ROLES, {"in": {"staffId": unknown, "roles": ["operator"]}}, "UNKNOWN_STAFF"),
        (SET_ROLES, {"in": {"staffId": "not-an-id", "roles": ["operator"]}}, "UNKNOWN_STAFF"),
        (DEACTIVATE, {"in": {"staffId": unknown}}, "UNKNOWN_STAFF"),
        (RESET, {"in": {"staffId": made["id"], "newPassword": "short"}}, "PASSWORD_TOO_SHORT"),
        (RESET, {"in": {"staffId": unknown, "newPassword": "long-enough-1"}}, "UNKNOWN_STAFF"),
    ]
    for query, variables, code in cases:
        result = await admin(client, query, variables, boss)
        assert result["code"] == code, (variables, result)
    assert await staff_rows() == before


async def test_staff_change_their_own_password_with_the_old_one(
    client: httpx.AsyncClient, app: Any
) -> None:
    token = await staff_token(client, app.state.services, "gail", ["auditor"])
    other_device = await sign_in(client, "gail", "staff-pass-1")
    wrong = {"in": {"oldPassword": "not-my-password", "newPassword": "brand-new-pass"}}
    assert (await admin(client, CHANGE_MINE, wrong, token))["code"] == "WRONG_PASSWORD"
    weak = {"in": {"oldPassword": "staff-pass-1", "newPassword": "short"}}
    assert (await admin(client, CHANGE_MINE, weak, token))["code"] == "PASSWORD_TOO_SHORT"
    assert (await sign_in(client, "gail", "staff-pass-1"))["__typename"] == "AuthTokens"

    # Wrong guesses count as failed sign-ins: past the limit even the right one waits.
    for _ in range(app.state.services.settings.login_max_failures_per_phone):
        assert (await admin(client, CHANGE_MINE, wrong, token))["code"] == "WRONG_PASSWORD"
    right = {"in": {"oldPassword": "staff-pass-1", "newPassword": "brand-new-pass"}}
    assert (await admin(client, CHANGE_MINE, right, token))["code"] == "TOO_MANY_ATTEMPTS"
    await app.state.services.login_throttle.reset("staff:gail")
    assert (await admin(client, CHANGE_MINE, right, token))["username"] == "gail"
    assert (await sign_in(client, "gail", "staff-pass-1"))["code"] == "INVALID_CREDENTIALS"
    assert (await sign_in(client, "gail", "brand-new-pass"))["__typename"] == "AuthTokens"
    # Other devices sign in again: their refresh tokens were revoked.
    refreshed = await gql(client, REFRESH, {"t": other_device["refreshToken"]}, path=ADMIN)
    assert refreshed["data"]["staffRefreshTokens"]["code"] == "REFRESH_TOKEN_REVOKED"


async def test_a_reset_password_signs_the_account_in_with_the_new_one(
    client: httpx.AsyncClient, app: Any
) -> None:
    boss = await staff_token(client, app.state.services, "boss", ["admin"])
    made = await create(client, boss, "hank", ["operator"])
    session = await sign_in(client, "hank", "staff-pass-1")
    reset = {"in": {"staffId": made["id"], "newPassword": "handed-over-1"}}
    assert (await admin(client, RESET, reset, boss))["username"] == "hank"
    assert (await sign_in(client, "hank", "staff-pass-1"))["code"] == "INVALID_CREDENTIALS"
    assert (await sign_in(client, "hank", "handed-over-1"))["__typename"] == "AuthTokens"
    refreshed = await gql(client, REFRESH, {"t": session["refreshToken"]}, path=ADMIN)
    assert refreshed["data"]["staffRefreshTokens"]["code"] == "REFRESH_TOKEN_REVOKED"
