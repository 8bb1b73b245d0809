"""AML flags go OPEN -> REVIEWING -> CLEARED or REPORTED, each change with a note."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.compliance import service as compliance
from member_api.compliance.domain import AmlState
from member_api.compliance.models import AmlFlag, AmlFlagNote
from member_api.errors import DomainError
from tests.commerce_support import new_member, paid, send_event
from tests.support import gql, staff_token

ADMIN = "/admin/graphql"
FLAGS = """
query($state: AmlFlagState) {
  amlFlags(state: $state, first: 10) {
    edges { node { id state reference member { id phoneMasked } } }
  }
}
"""
FLAG = """
query($id: ID!) {
  amlFlag(id: $id) { state notes { staffId staffUsername fromState toState note at } }
}
"""
CHANGE = """
mutation($id: ID!, $state: AmlFlagState!, $note: String!) {
  changeAmlFlagState(input: {flagId: $id, state: $state, note: $note}) {
    __typename ... on AmlFlag { state } ... on Error { code }
  }
}
"""


@pytest.fixture
async def staff(client: httpx.AsyncClient, app: Any) -> str:
    return await staff_token(client, app.state.services, "compliance-op", ["operator"])


async def flagged(client: httpx.AsyncClient, clock: FrozenClock, *orders: str) -> str:
    member_id, _ = await new_member(client, "13900000001")
    for order_id in orders:
        await send_event(client, clock, paid(member_id, 60_000, at=clock.now(), order_id=order_id))
    return member_id


async def change(
    client: httpx.AsyncClient, staff: str, flag_id: str, state: str, note: str = "Checked"
) -> dict[str, Any]:
    variables = {"id": flag_id, "state": state, "note": note}
    body = await gql(client, CHANGE, variables, token=staff, path=ADMIN)
    return dict(body["data"]["changeAmlFlagState"])


async def listed(client: httpx.AsyncClient, staff: str, state: str | None = None) -> list[Any]:
    body = await gql(client, FLAGS, {"state": state}, token=staff, path=ADMIN)
    return [e["node"] for e in body["data"]["amlFlags"]["edges"]]


async def test_a_flag_is_reviewed_and_cleared_with_notes(
    client: httpx.AsyncClient, clock: FrozenClock, staff: str
) -> None:
    member_id = await flagged(client, clock, "o-big")
    (flag,) = await listed(client, staff, "OPEN")
    assert (flag["state"], flag["member"]["id"]) == ("OPEN", member_id)
    assert flag["member"]["phoneMasked"] == "139****0001"
    assert await listed(client, staff, "REVIEWING") == []

    assert (await change(client, staff, flag["id"], "REVIEWING", "Asked for the invoice."))[
        "state"
    ] == "REVIEWING"
    assert (await change(client, staff, flag["id"], "CLEARED", "Invoice matches."))[
        "state"
    ] == "CLEARED"
    assert [f["id"] for f in await listed(client, staff, "CLEARED")] == [flag["id"]]
    body = await gql(client, FLAG, {"id": flag["id"]}, token=staff, path=ADMIN)
    notes = body["data"]["amlFlag"]["notes"]
    assert [(n["fromState"], n["toState"], n["note"]) for n in notes] == [
        ("OPEN", "REVIEWING", "Asked for the invoice."),
        ("REVIEWING", "CLEARED", "Invoice matches."),
    ]
    assert {n["staffUsername"] for n in notes} == {"compliance-op"}
    assert all(n["at"] for n in notes)
    assert (await gql(client, FLAG, {"id": "nope"}, token=staff, path=ADMIN))["data"] == {
        "amlFlag": None
    }


async def test_illegal_moves_and_bad_notes_change_nothing(
    client: httpx.AsyncClient, clock: FrozenClock, staff: str
) -> None:
    await flagged(client, clock, "o-1", "o-2")
    first, second = (f["id"] for f in await listed(client, staff))
    for state in ("OPEN", "CLEARED", "REPORTED"):
        assert (await change(client, staff, first, state))["code"] == "ILLEGAL_TRANSITION"
    assert (await change(client, staff, first, "REVIEWING", "  "))["code"] == "NOTE_REQUIRED"
    long_note = "x" * 2001
    assert (await change(client, staff, first, "REVIEWING", long_note))["code"] == "NOTE_REQUIRED"
    assert (await change(client, staff, "999999", "REVIEWING"))["code"] == "UNKNOWN_FLAG"
    assert (await change(client, staff, "nope", "REVIEWING"))["code"] == "UNKNOWN_FLAG"
    for bad in ("-1", "0", "²", "٣", "9" * 40):
        assert (await change(client, staff, bad, "REVIEWING"))["code"] == "UNKNOWN_FLAG"
    assert set(await AmlFlag.all().values_list("state", flat=True)) == {"OPEN"}
    assert await AmlFlagNote.all().count() == 0

    await change(client, staff, second, "REVIEWING")
    assert (await change(client, staff, second, "REPORTED", "Sent to the bureau."))[
        "state"
    ] == "REPORTED"
    for state in ("OPEN", "REVIEWING", "CLEARED", "REPORTED"):
        assert (await change(client, staff, second, state))["code"] == "ILLEGAL_TRANSITION"
    assert await AmlFlagNote.filter(flag_id=int(second)).count() == 2


async def test_only_operators_dispose_of_flags(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any, staff: str
) -> None:
    await flagged(client, clock, "o-big")
    (flag,) = await listed(client, staff)
    for role in ("moderator", "authenticator", "auditor"):
        other = await staff_token(client, app.state.services, f"{role}-1", [role])
        assert (await change(client, other, flag["id"], "REVIEWING"))["code"] == "FORBIDDEN"
        refused = await gql(client, FLAGS, {}, token=other, path=ADMIN)
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await AmlFlagNote.all().count() == 0


@pytest.mark.parametrize("backend", ["postgres"])
async def test_two_staff_racing_move_a_flag_once(
    client: httpx.AsyncClient, clock: FrozenClock, app: Any, staff: str
) -> None:
    services = app.state.services
    await flagged(client, clock, "o-big")
    flag = await AmlFlag.get()

    async def move(state: AmlState) -> str:
        try:
            await compliance.change_flag_state(
                services, flag_id=flag.id, state=state, note="Mine", staff_id=uuid.uuid4()
            )
        except DomainError as exc:
            return exc.code
        return "ok"

    first = await asyncio.gather(*(move(AmlState.REVIEWING) for _ in range(8)))
    assert sorted(first) == ["ILLEGAL_TRANSITION"] * 7 + ["ok"]
    closing = [AmlState.CLEARED, AmlState.REPORTED] * 4
    second = await asyncio.gather(*(move(state) for state in closing))
    assert second.count("ok") == 1
    assert await AmlFlagNote.filter(flag_id=flag.id).count() == 2
