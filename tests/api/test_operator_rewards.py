"""Staff look-ups of the catalogue and of redemptions: withdrawn rewards, vouchers by code."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from member_api.audit.models import AuditEntry
from tests.commerce_support import new_member
from tests.rewards_support import ADMIN, create_reward, give_points, operator_token, redeem
from tests.support import gql, sql_statements, staff_token

REWARDS = """
query($name: String, $active: Boolean, $first: Int!, $after: String) {
  rewards(name: $name, active: $active, first: $first, after: $after) {
    edges { cursor node { id name } }
    pageInfo { hasNextPage endCursor }
  }
}
"""
REDEMPTIONS = """
query($code: String, $member: ID, $reward: ID, $status: RedemptionStatus, $first: Int! = 20) {
  redemptions(voucherCode: $code, memberId: $member, rewardId: $reward, status: $status,
              first: $first) {
    edges { node {
      id status voucherCode quantity spent usedAt
      member { id displayName phoneMasked }
      reward { id name }
    } }
    pageInfo { hasNextPage }
  }
}
"""
WITHDRAW = """
mutation($id: ID!) { updateReward(input: {rewardId: $id, active: false}) { __typename } }
"""
MARK_USED = """
mutation($code: String!) {
  markVoucherUsed(input: {voucherCode: $code}) { __typename ... on Error { code } }
}
"""


@pytest.fixture
async def staff(client: httpx.AsyncClient, app: Any) -> str:
    return await operator_token(client, app.state.services)


async def names(client: httpx.AsyncClient, staff: str, **variables: Any) -> list[str]:
    body = await gql(client, REWARDS, {"first": 20, **variables}, token=staff, path=ADMIN)
    return sorted(e["node"]["name"] for e in body["data"]["rewards"]["edges"])


async def test_rewards_are_listed_withdrawn_included_and_searched_by_name(
    client: httpx.AsyncClient, staff: str
) -> None:
    silk = await create_reward(client, staff, name="Silk care kit")
    await create_reward(client, staff, name="Leather care kit")
    await create_reward(client, staff, name="Authentication voucher")
    await gql(client, WITHDRAW, {"id": silk["id"]}, token=staff, path=ADMIN)
    everything = ["Authentication voucher", "Leather care kit", "Silk care kit"]
    assert await names(client, staff) == everything
    assert await names(client, staff, name="CARE kit") == ["Leather care kit", "Silk care kit"]
    assert await names(client, staff, name="care", active=True) == ["Leather care kit"]
    assert await names(client, staff, active=False) == ["Silk care kit"]
    assert await names(client, staff, name="%") == []
    seen: list[str] = []
    after = None
    for _ in range(3):
        variables = {"first": 1, "after": after}
        page = (await gql(client, REWARDS, variables, token=staff, path=ADMIN))["data"]["rewards"]
        seen += [e["node"]["name"] for e in page["edges"]]
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == everything
    assert not page["pageInfo"]["hasNextPage"]


async def test_a_voucher_is_looked_up_by_code_before_it_is_marked_used(
    client: httpx.AsyncClient, staff: str
) -> None:
    first_id, first = await new_member(client, "13900000001")
    second_id, second = await new_member(client, "13900000002")
    for member_id in (first_id, second_id):
        await give_points(member_id, 100)
    kit = await create_reward(client, staff, name="Silk care kit")
    voucher = await create_reward(client, staff, name="Authentication voucher")
    mine = (await redeem(client, first, kit["id"], 2))["data"]["redeemReward"]
    await redeem(client, first, voucher["id"])
    await redeem(client, second, kit["id"])

    async def lookup(**variables: Any) -> list[dict[str, Any]]:
        body = await gql(client, REDEMPTIONS, variables, token=staff, path=ADMIN)
        return [e["node"] for e in body["data"]["redemptions"]["edges"]]

    typed = f"  {mine['voucherCode'].lower()} "
    (found,) = await lookup(code=typed)
    assert (found["id"], found["status"], found["quantity"], found["spent"]) == (
        mine["id"],
        "ACTIVE",
        2,
        20,
    )
    assert found["member"] == {
        "id": first_id,
        "displayName": found["member"]["displayName"],
        "phoneMasked": "139****0001",
    }
    assert found["reward"]["name"] == "Silk care kit"
    assert await lookup(code=mine["voucherCode"][:-1]) == []
    assert len(await lookup(member=first_id)) == 2
    assert len(await lookup(reward=kit["id"])) == 2
    assert len(await lookup(member=first_id, reward=kit["id"])) == 1
    used = await gql(client, MARK_USED, {"code": typed}, token=staff, path=ADMIN)
    assert used["data"]["markVoucherUsed"]["__typename"] == "Redemption"
    (now_used,) = await lookup(status="USED")
    assert (now_used["id"], now_used["usedAt"] is not None) == (mine["id"], True)
    assert len(await lookup(status="ACTIVE")) == 2
    assert len(await lookup(first=1)) == 1
    assert len(await lookup()) == 3


async def test_a_page_of_redemptions_loads_members_and_rewards_once(
    client: httpx.AsyncClient, staff: str
) -> None:
    reward = await create_reward(client, staff)
    for n in range(1, 4):
        member_id, token = await new_member(client, f"1390000000{n}")
        await give_points(member_id, 100)
        await redeem(client, token, reward["id"])
    with sql_statements() as statements:
        body = await gql(client, REDEMPTIONS, {}, token=staff, path=ADMIN)
    assert len(body["data"]["redemptions"]["edges"]) == 3
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len([s for s in selects if 'FROM "member"' in s]) == 1, selects
    assert len([s for s in selects if 'FROM "reward"' in s]) == 1, selects
    # Each member the page showed is a read of their personal data, logged in one insert.
    inserts = [s for s in statements if 'INTO "audit_entry"' in s]
    assert len(inserts) == 1, inserts
    members = {e["node"]["member"]["id"] for e in body["data"]["redemptions"]["edges"]}
    rows = await AuditEntry.filter(kind="READ", action="redemptions.member")
    assert sorted(str(r.member_id) for r in rows) == sorted(members)
    assert {r.staff_username for r in rows} == {"rewards-op"}


async def test_bad_filters_are_typed_errors(client: httpx.AsyncClient, staff: str) -> None:
    body = await gql(client, REDEMPTIONS, {"member": "nope"}, token=staff, path=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "UNKNOWN_MEMBER"
    body = await gql(client, REDEMPTIONS, {"reward": "nope"}, token=staff, path=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "UNKNOWN_REWARD"
    body = await gql(client, REWARDS, {"first": 101}, token=staff, path=ADMIN)
    assert body["errors"][0]["extensions"]["code"] == "INVALID_ARGUMENT"


async def test_only_operators_look_rewards_and_redemptions_up(
    client: httpx.AsyncClient, app: Any
) -> None:
    moderator = await staff_token(client, app.state.services, "mod", ["moderator"])
    for query, variables in ((REWARDS, {"first": 5}), (REDEMPTIONS, {})):
        body = await gql(client, query, variables, token=moderator, path=ADMIN)
        assert body["data"] is None
        assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        anonymous = await gql(client, query, variables, path=ADMIN)
        assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
