"""Helpers for reward tests: an operator session, a reward, points for a member."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import httpx

from member_api.points import ledger
from member_api.points.domain import Reason
from member_api.services import Services
from tests.support import gql, op, staff_token

ADMIN = "/admin/graphql"
CREATE_REWARD = """
mutation($input: CreateRewardInput!) {
  createReward(input: $input) {
    __typename
    ... on Reward { id name stock pointsPrice }
    ... on Error { code message }
  }
}
"""


async def operator_token(client: httpx.AsyncClient, services: Services) -> str:
    return await staff_token(client, services, "rewards-op", ["operator"])


async def create_reward(client: httpx.AsyncClient, token: str, **fields: Any) -> dict[str, Any]:
    values = {
        "name": "Authentication voucher",
        "kind": "AUTHENTICATION_VOUCHER",
        "pointsPrice": 10,
        "stock": 100,
        **fields,
    }
    body = await gql(client, CREATE_REWARD, {"input": values}, token=token, path=ADMIN)
    result: dict[str, Any] = body["data"]["createReward"]
    return result


async def give_points(member_id: str, amount: int, *, at: datetime | None = None) -> None:
    await ledger.credit(
        uuid.UUID(member_id),
        amount,
        Reason.ADJUSTMENT,
        reference=f"test-{uuid.uuid4().hex}",
        at=at or datetime.now(UTC),
        expires_on=None,
        note="test set-up",
    )


async def redeem(
    client: httpx.AsyncClient, token: str, reward_id: str, quantity: Any = 1, key: str | None = None
) -> dict[str, Any]:
    variables = {
        "input": {
            "rewardId": reward_id,
            "quantity": quantity,
            "idempotencyKey": key or uuid.uuid4().hex,
        }
    }
    body = await gql(client, op("RedeemReward"), variables, token=token)
    return dict(body)
