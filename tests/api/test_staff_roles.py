"""Staff roles are a declaration on each staff field, checked before its resolver runs."""

from __future__ import annotations

import uuid
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from member_api.graphql.context import Context
from member_api.graphql.errors import ClientError, ForbiddenError
from member_api.graphql.roles import Roles, declared_roles
from member_api.graphql.schema import admin_schema
from member_api.staff.domain import StaffRole
from tests.support import gql, staff_token

# Signing in and out, asking who one is and changing one's own password are open to
# every staff member.
OPEN = {"viewer", "staff_login", "staff_refresh_tokens", "staff_logout", "change_my_password"}


def _root_fields() -> list[tuple[str, Any]]:
    fields = []
    for root in ("Query", "Mutation"):
        definition = admin_schema.get_type_by_name(root)
        assert definition is not None
        fields += [(f.python_name, f) for f in definition.fields]  # type: ignore[union-attr]
    return fields


def test_every_staff_field_declares_its_roles_or_is_open() -> None:
    undeclared = {name for name, field in _root_fields() if not declared_roles(field)}
    assert undeclared == OPEN
    for name, field in _root_fields():
        if name not in OPEN:
            assert "Staff roles: " in (field.description or ""), name


def _info(services: Any, roles: tuple[str, ...] | None) -> Any:
    headers = {}
    if roles is not None:
        token = services.tokens.issue(uuid.uuid4(), "staff", roles)
        headers["authorization"] = f"Bearer {token}"
    request = SimpleNamespace(headers=headers, client=None)
    context = Context(request=request, services=services, audience="staff")  # type: ignore[arg-type]
    return SimpleNamespace(context=context)


async def _refusal_code(resolving: Any) -> str:
    """The code of a refusal, whether answered as an error value or raised."""
    try:
        refused = await resolving
    except ClientError as exc:
        return str((exc.extensions or {})["code"])
    assert isinstance(refused, ForbiddenError) or refused.code == "UNAUTHENTICATED"
    return str(refused.code)


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_each_declaration_refuses_other_roles_and_admits_its_own(app: Any) -> None:
    services = app.state.services
    for name, field in _root_fields():
        roles = declared_roles(field)
        if not roles:
            continue
        (extension,) = [e for e in field.extensions if isinstance(e, Roles)]
        others = tuple(r.value for r in StaffRole if r not in roles)
        reached: list[str] = []

        async def resolver(source: Any, info: Any, **kwargs: Any) -> str:
            reached.append(name)  # noqa: B023
            return "resolved"

        for caller in (None, others):
            info = _info(services, caller)
            code = await _refusal_code(extension.resolve_async(resolver, None, info))
            assert code == ("UNAUTHENTICATED" if caller is None else "FORBIDDEN"), name
        assert reached == [], name
        for role in roles:
            answer = await extension.resolve_async(resolver, None, _info(services, (role.value,)))
            assert answer == "resolved", name
        assert reached == [name] * len(roles)


REWARD = """
mutation($input: CreateRewardInput!) {
  createReward(input: $input) { __typename ... on Error { code } }
}
"""


@pytest.mark.parametrize("backend", ["sqlite"])
async def test_over_http_a_result_field_answers_a_value_and_a_query_field_an_error(
    client: httpx.AsyncClient, app: Any
) -> None:
    token = await staff_token(client, app.state.services, "mod", ["moderator"])
    variables = {"input": {"name": "Tote", "kind": "COUPON", "pointsPrice": 10, "stock": 1}}
    body = await gql(client, REWARD, variables, path="/admin/graphql", token=token)
    assert body["data"]["createReward"] == {"__typename": "ForbiddenError", "code": "FORBIDDEN"}
    query = "{ amlFlags { edges { cursor } } }"
    body = await gql(client, query, {}, path="/admin/graphql", token=token)
    assert body["data"] is None
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
