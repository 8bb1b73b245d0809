"""Staff sign in on /admin/graphql; member and staff tokens stay on their own endpoint."""

from __future__ import annotations

import httpx
import pytest

from member_api.services import Services
from member_api.staff import service as staff_service
from tests.support import ME, gql, register

ADMIN = "/admin/graphql"
STAFF_LOGIN = """
mutation StaffLogin($input: StaffLoginInput!) {
  staffLogin(input: $input) {
    __typename
    ... on AuthTokens { accessToken refreshToken expiresIn }
    ... on Error { code message }
  }
}
"""
VIEWER = "query { viewer { id username roles } }"


@pytest.fixture
async def operator(app: object) -> None:
    services: Services = app.state.services  # type: ignore[attr-defined]
    await staff_service.create_staff(
        services, username="operator", password="staff-pass-1", roles=["operator"]
    )


async def staff_login(client: httpx.AsyncClient, password: str = "staff-pass-1") -> dict[str, str]:
    body = await gql(
        client,
        STAFF_LOGIN,
        {"input": {"username": "operator", "password": password}},
        path=ADMIN,
    )
    result: dict[str, str] = body["data"]["staffLogin"]
    return result


@pytest.mark.usefixtures("operator")
async def test_staff_login_and_viewer(client: httpx.AsyncClient) -> None:
    tokens = await staff_login(client)
    assert tokens["__typename"] == "AuthTokens"
    viewer = (await gql(client, VIEWER, token=tokens["accessToken"], path=ADMIN))["data"]
    assert viewer["viewer"]["username"] == "operator"
    assert viewer["viewer"]["roles"] == ["operator"]


@pytest.mark.usefixtures("operator")
async def test_staff_wrong_password(client: httpx.AsyncClient) -> None:
    result = await staff_login(client, password="wrong-password")
    assert (result["__typename"], result["code"]) == ("AuthenticationError", "INVALID_CREDENTIALS")


@pytest.mark.usefixtures("operator")
async def test_staff_token_is_refused_on_the_member_endpoint(client: httpx.AsyncClient) -> None:
    tokens = await staff_login(client)
    body = await gql(client, ME, token=tokens["accessToken"])
    assert body["errors"][0]["extensions"]["code"] == "WRONG_AUDIENCE"


async def test_member_token_is_refused_on_the_admin_endpoint(client: httpx.AsyncClient) -> None:
    tokens = await register(client)
    body = await gql(client, VIEWER, token=tokens["accessToken"], path=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "WRONG_AUDIENCE"


@pytest.mark.usefixtures("operator")
async def test_refresh_tokens_do_not_cross_endpoints(client: httpx.AsyncClient) -> None:
    staff = await staff_login(client)
    member = await register(client)
    on_member = await gql(
        client,
        "mutation($t: String!) { refreshTokens(input: {refreshToken: $t}) {"
        " ... on Error { code } } }",
        {"t": staff["refreshToken"]},
    )
    assert on_member["data"]["refreshTokens"]["code"] == "INVALID_REFRESH_TOKEN"
    on_admin = await gql(
        client,
        "mutation($t: String!) { staffRefreshTokens(input: {refreshToken: $t}) {"
        " __typename ... on Error { code } } }",
        {"t": member["refreshToken"]},
        path=ADMIN,
    )
    assert on_admin["data"]["staffRefreshTokens"]["code"] == "INVALID_REFRESH_TOKEN"
    rotated = await gql(
        client,
        "mutation($t: String!) { staffRefreshTokens(input: {refreshToken: $t}) { __typename } }",
        {"t": staff["refreshToken"]},
        path=ADMIN,
    )
    assert rotated["data"]["staffRefreshTokens"]["__typename"] == "AuthTokens"


async def test_member_operations_do_not_exist_on_admin(client: httpx.AsyncClient) -> None:
    response = await client.post(ADMIN, json={"query": ME})
    assert response.status_code < 500
    assert response.json()["errors"]


async def test_create_staff_validates(app: object) -> None:
    services: Services = app.state.services  # type: ignore[attr-defined]
    from member_api.errors import Conflict, InvalidInput

    with pytest.raises(InvalidInput):
        await staff_service.create_staff(
            services, username="x", password="staff-pass-1", roles=["operator"]
        )
    with pytest.raises(InvalidInput):
        await staff_service.create_staff(
            services, username="bob", password="staff-pass-1", roles=["janitor"]
        )
    await staff_service.create_staff(
        services, username="bob", password="staff-pass-1", roles=["moderator", "operator"]
    )
    with pytest.raises(Conflict):
        await staff_service.create_staff(
            services, username="bob", password="staff-pass-1", roles=["operator"]
        )
