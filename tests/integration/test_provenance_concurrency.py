"""On PostgreSQL: events recorded at once get consecutive leaves, one signed checkpoint
each, and the audit holds; a transfer code claimed twice at once transfers once."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.provenance import log
from member_api.provenance import service as provenance
from member_api.provenance.models import Checkpoint, CustodyEvent
from tests.commerce_support import new_member
from tests.provenance_support import full_history, record, register_item, staff_pair
from tests.support import gql


@pytest.fixture
def backend() -> str:
    return "postgres"


async def test_twenty_events_at_once_take_consecutive_leaves(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    operator, _ = await staff_pair(client, app)
    items = [(await register_item(client, operator))["publicId"] for _ in range(4)]
    results = await asyncio.gather(
        *(record(client, operator, items[n % 4], "CONSIGNMENT", clock) for n in range(20))
    )
    assert sorted(r["leafIndex"] for r in results) == list(range(20))
    assert await Checkpoint.all().count() == 20
    assert await log.audit(provenance.log_key(app.state.services)) == []


async def test_a_code_claimed_twice_at_once_transfers_once(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    seller_id, seller = await new_member(client, "13900000001")
    buyers = [await new_member(client, f"1390000100{n}") for n in range(5)]
    public_id = await full_history(client, app, clock, seller_id)
    created = await gql(
        client,
        "mutation($i: String!) { createTransferCode(input: {itemPublicId: $i}) {"
        " ... on TransferCode { code } } }",
        {"i": public_id},
        token=seller,
    )
    code = created["data"]["createTransferCode"]["code"]
    claim = (
        "mutation($c: String!) { claimTransfer(input: {code: $c}) {"
        " __typename ... on Error { code } } }"
    )
    results = await asyncio.gather(
        *(gql(client, claim, {"c": code}, token=token) for _, token in buyers)
    )
    outcomes = sorted(r["data"]["claimTransfer"]["__typename"] for r in results)
    assert outcomes.count("OwnedItem") == 1
    assert await CustodyEvent.filter(kind="TRANSFER").count() == 1
