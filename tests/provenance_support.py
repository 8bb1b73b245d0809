"""Helpers for provenance tests: staff who register items and record their history."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx

from member_api.clock import FrozenClock
from tests.support import gql, staff_token

ADMIN = "/admin/graphql"
REGISTER = """
mutation($input: RegisterItemInput!) {
  registerItem(input: $input) {
    __typename ... on StaffItem { id publicId url digitalLink } ... on Error { code message }
  }
}
"""
RECORD = """
mutation($input: RecordCustodyEventInput!) {
  recordCustodyEvent(input: $input) {
    __typename ... on CustodyEventRecorded { leafIndex treeSize } ... on Error { code message }
  }
}
"""
DIGEST = "sha256:" + "ab" * 32


async def staff_pair(client: httpx.AsyncClient, app: Any) -> tuple[str, str]:
    """(operator token, authenticator token)."""
    services = app.state.services
    operator = await staff_token(client, services, "prov-operator", ["operator"])
    authenticator = await staff_token(client, services, "prov-authenticator", ["authenticator"])
    return operator, authenticator


async def register_item(client: httpx.AsyncClient, operator: str, **fields: Any) -> dict[str, Any]:
    values = {"brand": "Hermès", "model": "Birkin 30", "category": "BAG", **fields}
    body = await gql(client, REGISTER, {"input": values}, token=operator, path=ADMIN)
    result = dict(body["data"]["registerItem"])
    assert result["__typename"] == "StaffItem", result
    return result


async def record(
    client: httpx.AsyncClient,
    token: str,
    public_id: str,
    kind: str,
    clock: FrozenClock,
    **fields: Any,
) -> dict[str, Any]:
    values = {
        "itemPublicId": public_id,
        "kind": kind,
        "occurredAt": (clock.now() - timedelta(minutes=1)).isoformat(),
        **fields,
    }
    body = await gql(client, RECORD, {"input": values}, token=token, path=ADMIN)
    return dict(body["data"]["recordCustodyEvent"])


async def full_history(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock, owner_id: str | None = None
) -> str:
    """An item sourced, authenticated genuine, consigned, sold (to `owner_id`) and
    maintained; returns its public id."""
    operator, authenticator = await staff_pair(client, app)
    item = await register_item(client, operator, gtin="4006381333931", serial="SN-778899")
    public_id = str(item["publicId"])
    await record(client, operator, public_id, "SOURCING", clock, place="Shanghai")
    verdict = {"verdict": "GENUINE", "reportDigest": DIGEST}
    await record(
        client,
        authenticator,
        public_id,
        "AUTHENTICATION",
        clock,
        place="Shanghai",
        details=verdict,
    )
    await record(client, operator, public_id, "CONSIGNMENT", clock)
    extra = {"newOwnerId": owner_id} if owner_id else {}
    await record(client, operator, public_id, "SALE", clock, **extra)
    await record(
        client, authenticator, public_id, "MAINTENANCE", clock, details={"note": "Leather care"}
    )
    return public_id
