"""Helpers for community tests: groups made by an operator, members who join and post."""

from __future__ import annotations

from typing import Any

import httpx

from tests.commerce_support import new_member
from tests.support import gql, op, staff_token

ADMIN = "/admin/graphql"
CREATE_GROUP = """
mutation($input: CreateGroupInput!) {
  createGroup(input: $input) {
    __typename ... on CommunityGroup { id slug memberCount } ... on Error { code }
  }
}
"""
CREATE_QUIZ = """
mutation($input: CreateQuizInput!) {
  createQuiz(input: $input) { __typename ... on Post { id } ... on Error { code } }
}
"""


async def operator(client: httpx.AsyncClient, app: Any) -> str:
    return await staff_token(client, app.state.services, "community-op", ["operator"])


async def moderator(client: httpx.AsyncClient, app: Any) -> str:
    return await staff_token(client, app.state.services, "community-mod", ["moderator"])


async def create_group(
    client: httpx.AsyncClient, staff: str, owner_id: str, slug: str = "bag-study-club"
) -> str:
    values = {"slug": slug, "name": "Bag Study Club", "ownerId": owner_id}
    body = await gql(client, CREATE_GROUP, {"input": values}, token=staff, path=ADMIN)
    result = body["data"]["createGroup"]
    assert result["__typename"] == "CommunityGroup", result
    return str(result["id"])


async def join(client: httpx.AsyncClient, token: str, group_id: str) -> dict[str, Any]:
    body = await gql(client, op("JoinGroup"), {"input": {"groupId": group_id}}, token=token)
    return dict(body["data"]["joinGroup"])


async def post(
    client: httpx.AsyncClient, token: str, group_id: str, body: str = "Hello", **extra: Any
) -> dict[str, Any]:
    variables = {"input": {"groupId": group_id, "body": body, **extra}}
    result = await gql(client, op("CreatePost"), variables, token=token)
    return dict(result["data"]["createPost"])


async def group_with_members(
    client: httpx.AsyncClient, app: Any, count: int
) -> tuple[str, list[tuple[str, str]]]:
    """A group owned by the first of `count` new members, all of whom joined it."""
    staff = await operator(client, app)
    members = [await new_member(client, f"1390000{n:04d}") for n in range(count)]
    group_id = await create_group(client, staff, members[0][0])
    for _, token in members[1:]:
        await join(client, token, group_id)
    return group_id, members
