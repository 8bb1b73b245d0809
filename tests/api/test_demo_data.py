"""The demo data (`member-api seed-demo`) lets every demo member walk the member journeys,
and it is what the table in docs/demo.md says, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from member_api import seed
from tests.conftest import ROOT
from tests.support import gql, login, op

PASSWORD = "demo-pass-1"
PROGRESS = "{ me { tier { code } tierProgress { missingSummary nextTier { code } } } }"


@dataclass(frozen=True)
class Documented:
    phone: str
    name: str
    tier: str
    points: int
    carbon_credits: int
    owns: str
    missing: str


def documented_members() -> list[Documented]:
    """The rows of the demo data table in docs/demo.md."""
    rows = []
    for line in (ROOT / "docs" / "demo.md").read_text(encoding="utf-8").splitlines():
        if not line.startswith("| `1380000000"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        phone, name, tier, points, carbon, owns, missing = cells
        rows.append(
            Documented(
                phone=phone.strip("`"),
                name=name,
                tier=tier,
                points=int(points.replace(",", "")),
                carbon_credits=int(carbon.replace(",", "")),
                owns=owns,
                missing=missing,
            )
        )
    return rows


DOCUMENTED = documented_members()


@pytest.fixture
async def seeded(app: Any) -> None:
    await seed.seed_demo(app.state.services)


async def sign_in(client: httpx.AsyncClient, phone: str) -> str:
    tokens = await login(client, phone, PASSWORD)
    assert tokens["__typename"] == "AuthTokens", tokens
    return str(tokens["accessToken"])


async def catalogue(client: httpx.AsyncClient, token: str) -> list[dict[str, Any]]:
    body = await gql(client, op("RewardCatalogue"), {"first": 20}, token=token)
    return [edge["node"] for edge in body["data"]["rewards"]["edges"]]


async def points_and_carbon(client: httpx.AsyncClient, token: str) -> tuple[int, int]:
    me = (await gql(client, op("MemberCentre"), token=token))["data"]["me"]
    return me["points"]["balance"], me["carbonCredits"]


CARBON_REWARD = """
{ rewards(first: 20) { edges { node { id name currency pointsPrice carbonPrice } } } }
"""


def test_the_readme_documents_every_demo_member() -> None:
    assert [row.phone for row in DOCUMENTED] == [f"1380000000{n}" for n in range(1, 6)]
    assert sorted(row.phone for row in DOCUMENTED) == sorted(p for p, *_ in seed.DEMO_MEMBERS)


@pytest.mark.usefixtures("seeded")
async def test_demo_members_are_as_the_readme_says(client: httpx.AsyncClient) -> None:
    assert len(DOCUMENTED) == len(seed.DEMO_MEMBERS)
    for row in DOCUMENTED:
        token = await sign_in(client, row.phone)
        centre = (await gql(client, op("MemberCentre"), token=token))["data"]["me"]
        progress = (await gql(client, PROGRESS, token=token))["data"]["me"]
        items = (await gql(client, op("MyItems"), token=token))["data"]["me"]["items"]
        seen = Documented(
            phone=row.phone,
            name=centre["displayName"],
            tier=centre["tier"]["code"],
            points=centre["points"]["balance"],
            carbon_credits=centre["carbonCredits"],
            owns=", ".join(f"{item['brand']} {item['model']}" for item in items),
            missing=progress["tierProgress"]["missingSummary"],
        )
        assert seen == row
        # The points have causes: earned through the ledger, never written as a balance.
        body = await gql(client, op("PointsHistory"), {"first": 100}, token=token)
        history = body["data"]["me"]["points"]["history"]
        assert history["pageInfo"]["hasNextPage"] is False
        entries = [edge["node"] for edge in history["edges"]]
        assert sum(entry["delta"] for entry in entries) == row.points
        assert "SPEND" in {entry["reason"] for entry in entries}  # paid orders earn points


@pytest.mark.usefixtures("seeded")
async def test_the_tiers_show_their_rules(client: httpx.AsyncClient) -> None:
    tiers = {}
    for row in DOCUMENTED:
        token = await sign_in(client, row.phone)
        body = (await gql(client, PROGRESS, token=token))["data"]["me"]
        next_tier = body["tierProgress"]["nextTier"]
        tiers[row.phone] = (body["tier"]["code"], next_tier["code"] if next_tier else None)
    assert tiers == {
        "13800000001": ("NEW", "SILVER"),
        "13800000002": ("SILVER", "GOLD"),
        "13800000003": ("GOLD", "DIAMOND"),
        "13800000004": ("DIAMOND", "BLACK_DIAMOND"),
        "13800000005": ("BLACK_DIAMOND", None),
    }
    # Wang reached Gold when Lin, whom Wang referred, paid a first order.
    wang = await sign_in(client, "13800000003")
    history = (await gql(client, op("TierHistory"), token=wang))["data"]["me"]["tierHistory"]
    assert ("GOLD", "EVENT") in {(change["to"]["code"], change["reason"]) for change in history}
    # Chen, Silver, sees Gold's conditions one by one, the referral among them unmet.
    chen = await sign_in(client, "13800000002")
    body = await gql(client, "{ me { tierProgress { conditions { key met } } } }", token=chen)
    met = {c["key"]: c["met"] for c in body["data"]["me"]["tierProgress"]["conditions"]}
    assert met["referrals"] is False
    # Lin lacks one order and nothing else: Silver's alternative (spend or orders) says so.
    lin = (await gql(client, PROGRESS, token=await sign_in(client, "13800000001")))["data"]
    assert lin["me"]["tierProgress"]["missingSummary"].endswith("or 1 more completed order(s)")


@pytest.mark.usefixtures("seeded")
async def test_member_1_signs_in_and_redeems_a_points_reward(client: httpx.AsyncClient) -> None:
    token = await sign_in(client, "13800000001")
    before, carbon = await points_and_carbon(client, token)
    affordable = [
        node
        for node in await catalogue(client, token)
        if node["redeemableByMe"] and node["pointsPrice"] is not None
    ]
    assert {node["name"] for node in affordable} == {
        "鉴定券 Authentication voucher",
        "满减券 200 off 2,000",
    }
    voucher = next(node for node in affordable if node["pointsPrice"] == 500)
    variables = {"input": {"rewardId": voucher["id"], "idempotencyKey": uuid.uuid4().hex}}
    result = (await gql(client, op("RedeemReward"), variables, token=token))["data"]
    redemption = result["redeemReward"]
    assert (redemption["__typename"], redemption["status"], redemption["pointsSpent"]) == (
        "Redemption",
        "ACTIVE",
        500,
    )
    assert redemption["voucherCode"]
    assert await points_and_carbon(client, token) == (before - 500, carbon)
    mine = await gql(client, op("MyRedemptions"), {"first": 5}, token=token)
    listed = mine["data"]["me"]["redemptions"]["edges"]
    assert [edge["node"]["reward"]["name"] for edge in listed] == [voucher["name"]]


@pytest.mark.usefixtures("seeded")
async def test_the_carbon_reward_is_priced_and_paid_in_carbon_credits(
    client: httpx.AsyncClient,
) -> None:
    token = await sign_in(client, "13800000001")
    body = await gql(client, CARBON_REWARD, token=token)
    nodes = [edge["node"] for edge in body["data"]["rewards"]["edges"]]
    carbon = [node for node in nodes if node["currency"] == "CARBON"]
    assert [(n["name"], n["pointsPrice"], n["carbonPrice"]) for n in carbon] == [
        ("环保购物袋 Eco tote", None, 10)
    ]
    assert all(
        node["pointsPrice"] and node["carbonPrice"] is None
        for node in nodes
        if node["currency"] == "POINTS"
    )
    # The clients' catalogue never shows the tote's price as points.
    listed = {node["id"]: node for node in await catalogue(client, token)}
    tote = listed[carbon[0]["id"]]
    assert (tote["pointsPrice"], tote["redeemableByMe"]) == (None, True)

    for row in DOCUMENTED:  # every demo member holds enough carbon credits for the tote
        member = await sign_in(client, row.phone)
        before = await points_and_carbon(client, member)
        assert before[1] == row.carbon_credits >= 10
        variables = {"input": {"rewardId": tote["id"], "idempotencyKey": uuid.uuid4().hex}}
        result = (await gql(client, op("RedeemReward"), variables, token=member))["data"]
        assert result["redeemReward"]["__typename"] == "Redemption", result
        assert result["redeemReward"]["pointsSpent"] == 0
        assert await points_and_carbon(client, member) == (before[0], before[1] - 10)
    after = {node["id"]: node for node in await catalogue(client, token)}
    assert after[tote["id"]]["redeemableByMe"] is False  # Lin spent the 10 credits


@pytest.mark.usefixtures("seeded")
async def test_each_owner_sees_their_item_and_its_public_page(
    client: httpx.AsyncClient, app: Any
) -> None:
    printed = {item.public_id: item for item in await seed.demo_items(app.state.services)}
    assert sorted(item.owner_phone for item in printed.values()) == [r.phone for r in DOCUMENTED]
    for row in DOCUMENTED:
        token = await sign_in(client, row.phone)
        items = (await gql(client, op("MyItems"), token=token))["data"]["me"]["items"]
        assert [f"{item['brand']} {item['model']}" for item in items] == [row.owns]
        public_id = items[0]["publicId"]
        assert printed[public_id].owner_phone == row.phone
        assert printed[public_id].url.endswith(f"/p/{public_id}")
        page = await client.get(f"/p/{public_id}", headers={"accept": "application/json"})
        assert page.status_code == 200, page.text
        record = page.json()
        assert (record["publicId"], record["brand"], record["model"]) == (
            public_id,
            items[0]["brand"],
            items[0]["model"],
        )
        assert "13800" not in page.text  # never the owner's identity
        html = await client.get(f"/p/{public_id}")
        assert html.status_code == 200
        assert items[0]["brand"] in html.text
        scanned = await gql(client, op("ScanItem"), {"code": public_id})
        assert scanned["data"]["provenance"]["authentic"] is True
