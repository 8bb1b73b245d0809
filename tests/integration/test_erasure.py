"""Erasure after the cooling-off period, on PostgreSQL: every row of every table is read
back, and nothing personal of the erased member is left in any column."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from member_api.audit.models import AuditEntry
from member_api.background import runs
from member_api.business_calendar import business_today
from member_api.care.models import CareNote
from member_api.clock import FrozenClock
from member_api.commerce.models import ItemInteraction, MemberOrder
from member_api.intelligence.models import MemberAffinity, MemberFact
from member_api.members.models import Member
from member_api.outbox.domain import Channel
from member_api.outbox.service import enqueue
from member_api.points.models import LedgerEntry
from member_api.privacy import registry
from member_api.privacy.domain import ERASED_NAME
from member_api.privacy.models import AccountDeletion, ConsentRecord
from tests.commerce_support import paid, send_event
from tests.community_support import create_group, join, operator, post
from tests.support import gql, login, op, register, staff_token

pytestmark = pytest.mark.parametrize("backend", ["postgres"])

PHONE = "13912345678"
NAME = "LinXiaomei"
AVATAR = "https://img.example.com/lin-xiaomei.jpg"
OPENID = "o-openid-lin-xiaomei"
UNIONID = "u-unionid-lin-xiaomei"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 4, 0, tzinfo=UTC))


async def run_erasure_job(services: Any) -> runs.ChunkResult:
    run = await runs.start_run(services, "erase-accounts", business_today(services.clock))
    total = runs.ChunkResult(0, 0)
    for chunk_id in await runs.pending_chunks(run.id):
        result = await runs.run_chunk(services, chunk_id)
        assert result is not None
        total = runs.ChunkResult(total.processed + result.processed, 0)
    return total


async def a_member_with_a_life(client: httpx.AsyncClient, app: Any, clock: FrozenClock) -> str:
    """A member with a profile, birthday, consents, an order, a post, a comment, a
    referee and messages, who then asks for the account's deletion; returns its id."""
    tokens = await register(client, phone=PHONE, displayName=NAME)
    token = tokens["accessToken"]
    me = (await gql(client, "{ me { id referralCode } }", token=token))["data"]["me"]
    member_id = me["id"]
    await gql(
        client,
        "mutation($a: String!) { updateProfile(input: {avatarUrl: $a}) { __typename } }",
        {"a": AVATAR},
        token=token,
    )
    await Member.filter(id=member_id).update(  # set-up: a mini-program binding
        miniprogram_openid=OPENID, miniprogram_unionid=UNIONID
    )
    await gql(client, op("SetBirthday"), {"input": {"month": 7, "day": 14}}, token=token)
    for purpose in ("MARKETING", "PUBLIC_PROFILE"):
        await gql(
            client,
            op("SetConsent"),
            {"input": {"purpose": purpose, "granted": True}},
            token=token,
        )
    await send_event(client, clock, paid(member_id, 800, at=clock.now() - timedelta(hours=1)))
    staff = await operator(client, app)
    referee = await register(client, phone="13900000002", referralCode=me["referralCode"])
    referee_id = (await gql(client, "{ me { id } }", token=referee["accessToken"]))["data"]["me"]
    group_id = await create_group(client, staff, referee_id["id"])
    await join(client, token, group_id)
    created = await post(client, token, group_id, "My first Kelly")
    await gql(
        client,
        op("CommentOnPost"),
        {"input": {"postId": created["id"], "body": "Lovely"}},
        token=token,
    )
    await enqueue(
        channel=Channel.WECHAT_SUBSCRIBE,
        recipient=OPENID,
        payload={"text": f"Dear {NAME}"},
        dedupe_key="test:wechat",
        at=clock.now(),
    )
    await enqueue(
        channel=Channel.APP_PUSH,
        recipient=member_id,
        payload={"text": f"Hello {NAME}"},
        dedupe_key="test:push",
        at=clock.now(),
    )
    # Staff find them by phone and note a call; the shop reports a favourite.
    advisor = await staff_token(client, app.state.services, "care-1", ["advisor"])
    found = await gql(
        client,
        "query($v: String!) { searchMembers(by: PHONE, value: $v) { edges { node { id } } } }",
        {"v": PHONE},
        token=advisor,
        path="/admin/graphql",
    )
    assert found["data"]["searchMembers"]["edges"] == [{"node": {"id": member_id}}]
    noted = await gql(
        client,
        "mutation($m: ID!, $t: String!) { addCareNote(input: {memberId: $m, text: $t}) "
        "{ __typename } }",
        {"m": member_id, "t": f"Called {NAME} on {PHONE}"},
        token=advisor,
        path="/admin/graphql",
    )
    assert noted["data"]["addCareNote"]["__typename"] == "CareNote"
    favourite = {
        "eventId": "evt-fav-lin",
        "type": "item.favourited",
        "occurredAt": clock.now().isoformat(),
        "memberId": member_id,
        "itemId": "kelly-28",
        "brand": "Hermès",
        "category": "bags",
    }
    assert (await send_event(client, clock, favourite)).status_code == 200
    await gql(
        client,
        op("RequestAccountDeletion"),
        {"input": {"reason": f"I am {NAME} and I leave"}},
        token=token,
    )
    return str(member_id)


def _text(value: object) -> str:
    return json.dumps(value, default=str, ensure_ascii=False)


async def test_erasure_leaves_nothing_personal_in_any_table(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock, services: Any
) -> None:
    member_id = await a_member_with_a_life(client, app, clock)
    before = await Member.get(id=member_id)
    secrets = [
        PHONE,
        before.phone_masked,
        before.phone_encrypted,
        before.phone_index,
        NAME,
        AVATAR,
        OPENID,
        UNIONID,
        before.referral_code,
    ]
    assert all(secrets)

    clock.advance(timedelta(days=14))
    assert (await run_erasure_job(services)).processed == 0  # the cooling-off period runs
    assert (await Member.get(id=member_id)).display_name == NAME

    clock.advance(timedelta(days=1, minutes=1))
    assert (await run_erasure_job(services)).processed == 1

    leaks = []
    for model in registry.models():
        for row in await model.all().values():
            for column, value in row.items():
                text = _text(value)
                leaks += [(model.__name__, column) for s in secrets if s and s in text]
    assert leaks == []

    erased = await Member.get(id=member_id)
    # Their referrals are gone: views cached under the old facts version are not read.
    assert erased.facts_version > before.facts_version
    assert (erased.birthday_month, erased.birthday_day) == (None, None)
    assert erased.display_name == ERASED_NAME
    assert erased.erased_at == clock.now()
    assert await ConsentRecord.filter(member_id=member_id).count() == 0
    assert await CareNote.filter(member_id=member_id).count() == 0
    assert await ItemInteraction.filter(member_id=member_id).count() == 0
    assert await MemberFact.filter(member_id=member_id).count() == 0
    assert await MemberAffinity.filter(member_id=member_id).count() == 0
    # The audit log keeps that staff read and wrote about them, not what they wrote.
    actions = await AuditEntry.filter(member_id=member_id).values_list("action", flat=True)
    assert {"searchMembers", "addCareNote"} <= set(actions)
    assert (await AccountDeletion.get(member_id=member_id)).status == "ERASED"
    # The ledger and the orders stay, for accounting, with nobody behind them.
    assert await MemberOrder.filter(member_id=member_id).count() == 1
    assert await LedgerEntry.filter(account__member_id=member_id).count() >= 1
    # Those they referred no longer point at them.
    assert await Member.filter(referred_by_id=member_id).count() == 0
    # Their post shows a deleted member.
    referee = await login(client, "13900000002")
    groups = await gql(client, op("CommunityGroups"), token=referee["accessToken"])
    group_id = groups["data"]["communityGroups"][0]["id"]
    feed = await gql(
        client,
        op("GroupFeed"),
        {"groupId": group_id, "first": 10},
        token=referee["accessToken"],
    )
    authors = [e["node"]["author"] for e in feed["data"]["communityGroup"]["posts"]["edges"]]
    assert authors == [{"displayName": ERASED_NAME, "avatarUrl": None, "tier": {"code": "NEW"}}]
    # Nobody can sign in as them any more.
    gone = await login(client, PHONE)
    assert gone["code"] == "INVALID_CREDENTIALS"


async def test_a_cancelled_deletion_erases_nothing(
    client: httpx.AsyncClient, app: Any, clock: FrozenClock, services: Any
) -> None:
    member_id = await a_member_with_a_life(client, app, clock)
    from member_api.privacy import service

    await service.cancel_account_deletion(services, member_id=uuid.UUID(member_id))
    clock.advance(timedelta(days=16))
    assert (await run_erasure_job(services)).processed == 0
    member = await Member.get(id=member_id)
    assert member.display_name == NAME
    assert member.phone_index is not None
