"""Provenance over HTTP: the scan, what the public never sees, proofs that verify,
roles, not-found answers, cloned tags and ownership transfers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.clock import FrozenClock
from member_api.provenance import merkle, note
from member_api.provenance.domain import canonical
from member_api.provenance.models import CustodyEvent, Scan
from tests.commerce_support import new_member
from tests.provenance_support import (
    ADMIN,
    DIGEST,
    full_history,
    record,
    register_item,
    staff_pair,
)
from tests.support import gql, login, op

TRANSFER = """
mutation($item: String!) {
  createTransferCode(input: {itemPublicId: $item}) {
    __typename ... on TransferCode { code expiresAt } ... on Error { code }
  }
}
"""
CLAIM = """
mutation($code: String!) {
  claimTransfer(input: {code: $code}) {
    __typename ... on OwnedItem { publicId status } ... on Error { code }
  }
}
"""
ALERTS = "{ cloneAlerts { item { publicId } reasons scansIn7Days } }"
PHONE = "13900000001"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


async def scan(client: httpx.AsyncClient, code: str, city: str | None = None) -> Any:
    document = op("ScanItem")
    if city:
        document = document.replace(
            "provenance(code: $code)", f'provenance(code: $code, city: "{city}")'
        )
    body = await gql(client, document, {"code": code})
    assert "errors" not in body, body
    return body["data"]["provenance"]


async def test_a_scan_shows_the_history_and_proves_it(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    owner_id, _ = await new_member(client, PHONE, displayName="Owner Lin")
    public_id = await full_history(client, app, clock, owner_id)
    found = await scan(client, public_id)
    assert (found["publicId"], found["brand"], found["status"]) == (public_id, "Hermès", "SOLD")
    assert found["authentic"] is True
    assert found["cloneWarning"] is False
    assert found["authentication"]["verdict"] == "GENUINE"
    assert found["authentication"]["reportDigest"] == DIGEST
    kinds = [e["kind"] for e in found["events"]]
    assert kinds == ["SOURCING", "AUTHENTICATION", "CONSIGNMENT", "SALE", "MAINTENANCE"]
    assert [e["leafIndex"] for e in found["events"]] == [0, 1, 2, 3, 4]
    # The checkpoint is signed by the log's key, and every event is in its tree.
    key = (await client.get("/provenance/key")).text.strip()
    signed = note.Checkpoint.parse(note.open_note(found["checkpoint"], note.Verifier.parse(key)))
    assert signed.size == 5
    events = await CustodyEvent.all().order_by("leaf_index").prefetch_related("item")
    json_view = await client.get(f"/p/{public_id}", headers={"accept": "application/json"})
    for event, shown in zip(events, json_view.json()["events"], strict=True):
        proof = [base64.b64decode(p) for p in shown["inclusionProof"]]
        assert merkle.verify_inclusion(
            event.leaf_index, signed.size, bytes.fromhex(event.leaf_hash), proof, signed.root
        )
    # By URL, as printed in the QR code, too.
    assert (await scan(client, json_view.json()["url"]))["publicId"] == public_id


async def test_public_answers_hold_no_owner_data(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    owner_id, _ = await new_member(client, PHONE, displayName="Owner Lin")
    public_id = await full_history(client, app, clock, owner_id)
    answers = [json.dumps(await scan(client, public_id), ensure_ascii=False)]
    for accept in ("text/html", "application/json", "application/ld+json"):
        response = await client.get(f"/p/{public_id}", headers={"accept": accept})
        assert response.status_code == 200
        answers.append(response.text)
    for answer in answers:
        for secret in (
            PHONE,
            "0001",
            "Owner Lin",
            owner_id,
            owner_id.replace("-", ""),
            "SN-778899",
            "4006381333931",
        ):
            assert secret not in answer


async def test_unknown_codes_are_a_clear_not_found(client: httpx.AsyncClient) -> None:
    assert await scan(client, "no-such-code") is None
    page = await client.get("/p/no-such-code")
    assert page.status_code == 404
    assert "We do not know this code" in page.text
    as_json = await client.get("/p/no-such-code", headers={"accept": "application/json"})
    assert as_json.status_code == 404
    assert as_json.json()["error"]["code"] == "UNKNOWN_ITEM"


async def test_the_page_in_html_json_and_epcis(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    public_id = await full_history(client, app, clock)
    page = await client.get(f"/p/{public_id}")
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    assert '<meta name="viewport" content="width=device-width,initial-scale=1">' in html
    assert 'id="verdict">✓ 正品 Authentic' in html
    assert "Authenticated on 2026-11-18" in html
    assert "Leather care" in html
    assert "0 change(s) of owner" in html
    assert "clone-warning" not in html
    data = (await client.get(f"/p/{public_id}?format=json")).json()
    assert data["authentication"]["verdict"] == "GENUINE"
    assert data["ownershipChanges"] == {"count": 0, "dates": []}
    epcis = await client.get(f"/p/{public_id}", headers={"accept": "application/ld+json"})
    assert epcis.headers["content-type"].startswith("application/ld+json")
    document = epcis.json()
    assert (document["type"], document["schemaVersion"]) == ("EPCISDocument", "2.0")
    events = document["epcisBody"]["eventList"]
    assert [(e["bizStep"], e["disposition"]) for e in events] == [
        ("commissioning", "active"),
        ("inspecting", "conformant"),
        ("consigning", "sellable_accessible"),
        ("retail_selling", "retail_sold"),
        ("repairing", "active"),
    ]
    assert all(e["epcList"] == [data["url"]] for e in events)


async def test_a_counterfeit_verdict_shows_as_such(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    operator, authenticator = await staff_pair(client, app)
    public_id = (await register_item(client, operator))["publicId"]
    await record(
        client,
        authenticator,
        public_id,
        "AUTHENTICATION",
        clock,
        details={"verdict": "COUNTERFEIT", "reportDigest": DIGEST},
    )
    found = await scan(client, public_id)
    assert (found["authentic"], found["status"]) == (False, "REJECTED")
    assert "非正品 Not authentic" in (await client.get(f"/p/{public_id}")).text


async def test_who_records_what_and_bad_input(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    operator, authenticator = await staff_pair(client, app)
    public_id = (await register_item(client, operator))["publicId"]
    verdict = {"verdict": "GENUINE", "reportDigest": DIGEST}
    cases = [
        (operator, "AUTHENTICATION", {"details": verdict}, "FORBIDDEN"),
        (authenticator, "SALE", {}, "FORBIDDEN"),
        (authenticator, "AUTHENTICATION", {"details": {"verdict": "MAYBE"}}, "INVALID_VERDICT"),
        (
            authenticator,
            "AUTHENTICATION",
            {"details": {"verdict": "GENUINE"}},
            "INVALID_REPORT_DIGEST",
        ),
        (operator, "TRANSFER", {}, "USE_TRANSFER_CODE"),
        (
            operator,
            "SALE",
            {"occurredAt": (clock.now() + timedelta(days=1)).isoformat()},
            "INVALID_TIME",
        ),
    ]
    for token, kind, fields, code in cases:
        assert (await record(client, token, public_id, kind, clock, **fields))["code"] == code
    missing = await record(client, operator, "nope", "SOURCING", clock)
    assert missing["code"] == "UNKNOWN_ITEM"
    assert await CustodyEvent.all().count() == 0


async def test_gs1_digital_link_for_staff_and_owner_only(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    operator, _ = await staff_pair(client, app)
    owner_id, token = await new_member(client, PHONE)
    item = await register_item(
        client, operator, gtin="4006381333931", serial="SN 1/2", ownerId=owner_id
    )
    assert item["digitalLink"] == "https://id.gs1.org/01/04006381333931/21/SN%201%2F2"
    mine = await gql(client, "{ me { items { publicId digitalLink qrCodeSvg } } }", token=token)
    owned = mine["data"]["me"]["items"][0]
    assert owned["digitalLink"] == item["digitalLink"]
    assert owned["qrCodeSvg"].startswith("<svg")
    bad = await gql(
        client,
        'mutation { registerItem(input: {brand: "x", model: "y", category: "BAG",'
        ' gtin: "4006381333932"}) { ... on Error { code } } }',
        token=operator,
        path=ADMIN,
    )
    assert bad["data"]["registerItem"]["code"] == "INVALID_GTIN"


async def test_tags_seen_in_too_many_places_or_too_fast_warn(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    public_id = await full_history(client, app, clock)
    # Shanghai, then Hangzhou four hours later: a train ride, nothing odd.
    assert (await scan(client, public_id, "Shanghai"))["cloneWarning"] is False
    clock.advance(timedelta(hours=4))
    assert (await scan(client, public_id, "Hangzhou"))["cloneWarning"] is False
    # Beijing one hour after Hangzhou: 1,100 km in an hour is faster than a plane.
    clock.advance(timedelta(hours=1))
    flagged = await scan(client, public_id, "北京")
    assert flagged["cloneWarning"] is True
    page = await client.get(f"/p/{public_id}")
    assert 'id="clone-warning"' in page.text
    operator, _ = await staff_pair_again(client, app)
    alerts = (await gql(client, ALERTS, token=operator, path=ADMIN))["data"]["cloneAlerts"]
    assert [a["item"]["publicId"] for a in alerts] == [public_id]
    assert "faster than 800 km/h" in alerts[0]["reasons"][0]


async def staff_pair_again(client: httpx.AsyncClient, app: Any) -> tuple[str, str]:
    from tests.support import STAFF_LOGIN

    tokens = []
    for name in ("prov-operator", "prov-authenticator"):
        body = await gql(client, STAFF_LOGIN, {"u": name, "p": "staff-pass-1"}, path=ADMIN)
        tokens.append(body["data"]["staffLogin"]["accessToken"])
    return tokens[0], tokens[1]


async def test_four_places_in_a_day_warn_and_a_week_later_they_do_not(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    public_id = await full_history(client, app, clock)
    # Each hop is slow enough by road; four cities in a day is one tag too many.
    for city in ("Shanghai", "Hangzhou", "Nanjing", "Wuhan"):
        result = await scan(client, public_id, city)
        clock.advance(timedelta(hours=5))
    assert result["cloneWarning"] is True
    clock.advance(timedelta(days=8))
    assert (await scan(client, public_id, "Wuhan"))["cloneWarning"] is False


async def test_made_up_places_and_repeated_scans_count_for_nothing(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    public_id = await full_history(client, app, clock)
    for city in ("Atlantis", "El Dorado", "Shangri-La", "Lilliput", "x\u202e"):
        assert (await scan(client, public_id, city))["cloneWarning"] is False
    for _ in range(3):
        await client.get(f"/p/{public_id}?city=Beijing")
    assert await Scan.filter(city="beijing").count() == 1


async def test_ownership_transfer_by_one_time_code(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    seller_id, seller = await new_member(client, PHONE)
    _, buyer = await new_member(client, "13900000002")
    _, third = await new_member(client, "13900000003")
    public_id = await full_history(client, app, clock, seller_id)
    refused = await gql(client, TRANSFER, {"item": public_id}, token=buyer)
    assert refused["data"]["createTransferCode"]["code"] == "NOT_THE_OWNER"
    created = (await gql(client, TRANSFER, {"item": public_id}, token=seller))["data"]
    code = created["createTransferCode"]["code"]
    own = await gql(client, CLAIM, {"code": code}, token=seller)
    assert own["data"]["claimTransfer"]["code"] == "OWN_TRANSFER_CODE"
    claimed = (await gql(client, CLAIM, {"code": code.lower()}, token=buyer))["data"]
    assert claimed["claimTransfer"] == {
        "__typename": "OwnedItem",
        "publicId": public_id,
        "status": "OWNED",
    }
    again = await gql(client, CLAIM, {"code": code}, token=third)
    assert again["data"]["claimTransfer"]["code"] == "TRANSFER_CODE_USED"
    unknown = await gql(client, CLAIM, {"code": "T-000000000000"}, token=third)
    assert unknown["data"]["claimTransfer"]["code"] == "UNKNOWN_TRANSFER_CODE"
    mine = await gql(client, op("MyItems"), token=buyer)
    assert [i["publicId"] for i in mine["data"]["me"]["items"]] == [public_id]
    assert mine["data"]["me"]["items"][0]["qrCodeSvg"].startswith("<svg")
    theirs = await gql(client, op("MyItems"), token=seller)
    assert theirs["data"]["me"]["items"] == []
    found = await scan(client, public_id)
    assert found["events"][-1]["kind"] == "TRANSFER"
    page = (await client.get(f"/p/{public_id}?format=json")).json()
    assert page["ownershipChanges"] == {"count": 1, "dates": ["2026-11-18"]}
    # The old owner's leftover codes die with the change of hands.
    stale = (await gql(client, TRANSFER, {"item": public_id}, token=buyer))["data"]
    clock.advance(timedelta(hours=24))
    buyer = (await login(client, "13900000002"))["accessToken"]
    third = (await login(client, "13900000003"))["accessToken"]
    expired = await gql(client, CLAIM, {"code": stale["createTransferCode"]["code"]}, token=third)
    assert expired["data"]["claimTransfer"]["code"] == "TRANSFER_CODE_EXPIRED"


async def test_consistency_between_checkpoints(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    public_id = await full_history(client, app, clock)
    first = (await client.get("/provenance/checkpoint")).text
    operator, _ = await staff_pair_again(client, app)
    for _ in range(3):
        await record(client, operator, public_id, "CONSIGNMENT", clock)
    second = (await client.get("/provenance/checkpoint")).text
    key = note.Verifier.parse((await client.get("/provenance/key")).text)
    old = note.Checkpoint.parse(note.open_note(first, key))
    new = note.Checkpoint.parse(note.open_note(second, key))
    proof = (await client.get(f"/provenance/consistency?from={old.size}&to={new.size}")).json()
    hashes = [base64.b64decode(p) for p in proof["proof"]]
    assert merkle.verify_consistency(old.size, new.size, old.root, new.root, hashes)
    bad = await client.get("/provenance/consistency?from=9&to=2")
    assert bad.status_code == 400


async def test_leaves_are_the_canonical_json_of_the_event(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock
) -> None:
    public_id = await full_history(client, app, clock)
    event = await CustodyEvent.get(leaf_index=1)
    document = {
        "actor": event.actor,
        "bizStep": "inspecting",
        "details": {"reportDigest": DIGEST, "verdict": "GENUINE"},
        "disposition": "conformant",
        "eventTime": "2026-11-18T03:59:00Z",
        "index": 1,
        "item": public_id,
        "kind": "AUTHENTICATION",
        "place": "Shanghai",
        "previous": 0,
        "seq": 2,
        "what": {"brand": "Hermès", "category": "BAG", "model": "Birkin 30"},
    }
    # Keys sorted, no spaces, UTF-8 as is: what RFC 8785 makes of this document.
    expected = json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()
    assert canonical(document) == expected
    assert event.leaf_hash == merkle.leaf_hash(canonical(document)).hex()
    assert event.actor.startswith("staff-")
    assert len(event.actor) == 18
