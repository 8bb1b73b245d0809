"""The outbox on SQLite and PostgreSQL: queued with the transaction, delivered through
the real channel clients to a local gateway stub, retried, given up on."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from tortoise.transactions import in_transaction

from member_api.clock import FrozenClock
from member_api.commerce.domain import verify_signature
from member_api.outbox.domain import Channel, DeliveryOutcome, OutboxStatus
from member_api.outbox.models import OutboxMessage
from member_api.outbox.service import deliver_due, deliver_one, enqueue
from member_api.services import Services, build_services
from member_api.settings import Settings
from tests.commerce_support import new_member
from tests.outbox_support import PUSH_TOKEN, SMS_TOKEN, WEBHOOK_SECRET, queue, with_gateway
from tests.stubs import GatewayStub, gateway_stub

BASE = timedelta(seconds=30)


@pytest.fixture
def gateway() -> Iterator[GatewayStub]:
    with gateway_stub() as stub:
        yield stub


@pytest.fixture
def settings(settings: Settings, gateway: GatewayStub) -> Settings:
    return with_gateway(settings, gateway)


def metric(services: Services, name: str, channel: str) -> float:
    value = services.metrics.registry.get_sample_value(name, {"channel": channel})
    return float(value or 0.0)


async def test_a_rolled_back_transaction_leaves_no_message(
    services: Services, clock: FrozenClock
) -> None:
    class Abandon(Exception):
        pass

    async def change_that_fails() -> None:
        async with in_transaction():
            queued = await enqueue(
                channel=Channel.APP_PUSH,
                recipient="member-1",
                payload={"title": "never"},
                dedupe_key="rolled-back",
                at=clock.now(),
            )
            assert queued
            assert await OutboxMessage.all().count() == 1
            raise Abandon

    with pytest.raises(Abandon):
        await change_that_fails()
    assert await OutboxMessage.all().count() == 0
    assert await deliver_due(services, now=clock.now(), limit=10) == 0


async def test_a_retried_transaction_queues_once(services: Services, clock: FrozenClock) -> None:
    for _ in range(2):
        async with in_transaction():
            await enqueue(
                channel=Channel.APP_PUSH,
                recipient="member-1",
                payload={"title": "once"},
                dedupe_key="order:42:paid",
                at=clock.now(),
            )
    async with in_transaction():
        again = await enqueue(
            channel=Channel.APP_PUSH,
            recipient="member-1",
            payload={"title": "once"},
            dedupe_key="order:42:paid",
            at=clock.now(),
        )
        # The caller's transaction is still usable after the duplicate.
        assert await OutboxMessage.all().count() == 1
    assert again is False
    assert await OutboxMessage.all().count() == 1


async def test_a_push_is_sent_once_and_marked_sent(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    message = await queue(clock.now(), recipient="member-7", payload={"title": "Hi", "n": 1})
    assert await deliver_due(services, now=clock.now(), limit=10) == 1
    assert await deliver_due(services, now=clock.now(), limit=10) == 0
    [request] = gateway.posts()
    assert request.path == "/push"
    assert request.json() == {
        "id": str(message.id),
        "to": "member-7",
        "message": {"title": "Hi", "n": 1},
    }
    assert request.headers["authorization"] == f"Bearer {PUSH_TOKEN}"
    assert request.headers["idempotency-key"] == str(message.id)
    row = await OutboxMessage.get(id=message.id)
    assert row.status == OutboxStatus.SENT
    assert row.sent_at == clock.now()
    assert row.attempts == 0
    assert row.claimed_by is None
    assert metric(services, "member_api_outbox_sent_total", "APP_PUSH") == 1
    assert metric(services, "member_api_outbox_pending", "APP_PUSH") == 0


async def test_a_webhook_is_signed_like_the_commerce_webhook(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    message = await queue(
        clock.now(),
        channel=Channel.WEBHOOK,
        recipient="member.downgraded",
        payload={"memberId": "m-1", "to": "SILVER"},
    )
    assert await deliver_one(services, message.id) is DeliveryOutcome.SENT
    [request] = gateway.posts()
    assert request.path == "/hooks/member-api"
    assert request.json() == {
        "id": str(message.id),
        "type": "member.downgraded",
        "data": {"memberId": "m-1", "to": "SILVER"},
    }
    assert request.headers["x-member-api-event"] == "member.downgraded"
    assert request.headers["x-member-api-delivery"] == str(message.id)
    timestamp = request.headers["x-member-api-timestamp"]
    assert timestamp == str(int(clock.now().timestamp()))
    # The receiver checks it exactly as we check the commerce systems' requests.
    verify_signature(
        secret=WEBHOOK_SECRET,
        timestamp=timestamp,
        signature=request.headers["x-member-api-signature"],
        body=request.body,
        now=clock.now(),
    )


async def test_a_wechat_subscribe_message_uses_a_fresh_token_when_refused(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    payload = {"template_id": "tmpl-1", "page": "pages/tier", "data": {"thing1": {"value": "x"}}}
    gateway.answers = [(200, {"errcode": 40001, "errmsg": "invalid credential"})]
    first = await queue(clock.now(), channel=Channel.WECHAT_SUBSCRIBE, recipient="o-1",
                        payload=payload, key="wx:1")  # fmt: skip
    assert await deliver_one(services, first.id) is DeliveryOutcome.SENT
    second = await queue(clock.now(), channel=Channel.WECHAT_SUBSCRIBE, recipient="o-2",
                         payload=payload, key="wx:2")  # fmt: skip
    assert await deliver_one(services, second.id) is DeliveryOutcome.SENT
    sends = gateway.posts("/cgi-bin/message/subscribe/send")
    assert [r.query["access_token"] for r in sends] == [["token-1"], ["token-2"], ["token-2"]]
    assert sends[-1].json() == {**payload, "touser": "o-2"}
    token_request = next(r for r in gateway.requests if r.path == "/cgi-bin/token")
    assert token_request.query["appid"] == [services.settings.miniprogram_app_id]
    assert gateway.tokens_issued == 2


async def test_an_sms_goes_to_the_members_stored_phone(
    services: Services, clock: FrozenClock, gateway: GatewayStub, client: httpx.AsyncClient
) -> None:
    member_id, _ = await new_member(client, "13900000077")
    message = await queue(clock.now(), channel=Channel.SMS, recipient=member_id,
                          payload={"template": "WARN", "params": ["Gold"]})  # fmt: skip
    stranger = await queue(clock.now(), channel=Channel.SMS, recipient=str(uuid.uuid4()),
                           key="sms:stranger")  # fmt: skip
    assert await deliver_one(services, message.id) is DeliveryOutcome.SENT
    assert await deliver_one(services, stranger.id) is DeliveryOutcome.RETRY
    [request] = gateway.posts("/sms")
    assert request.json()["to"] == "13900000077"
    assert request.headers["authorization"] == f"Bearer {SMS_TOKEN}"
    assert "13900000077" not in str((await OutboxMessage.get(id=message.id)).payload)
    failed = await OutboxMessage.get(id=stranger.id)
    assert failed.last_error == "the recipient is not a member with a phone number"


async def test_transient_failures_retry_with_growing_delays_then_sent(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    gateway.answers = [(503, {"error": "busy"})] * 3
    message = await queue(clock.now())
    delays = []
    for attempt in (1, 2, 3):
        assert await deliver_due(services, now=clock.now(), limit=10) == 1
        row = await OutboxMessage.get(id=message.id)
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, attempt)
        assert row.last_error is not None
        assert row.last_error.startswith("HTTP 503")
        delay = row.next_attempt_at - clock.now()
        ceiling = BASE * 2 ** (attempt - 1)
        assert ceiling / 2 <= delay <= ceiling
        delays.append(delay)
        # Not due a moment before its time; due at it.
        clock.advance(delay - timedelta(seconds=1))
        assert await deliver_due(services, now=clock.now(), limit=10) == 0
        clock.advance(timedelta(seconds=1))
    assert delays == sorted(delays)
    assert await deliver_due(services, now=clock.now(), limit=10) == 1
    row = await OutboxMessage.get(id=message.id)
    assert (row.status, row.attempts) == (OutboxStatus.SENT, 3)
    assert len(gateway.posts()) == 4
    assert metric(services, "member_api_outbox_failed_attempts_total", "APP_PUSH") == 3


async def test_a_permanent_failure_is_dead_after_the_last_attempt(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    gateway.default = (400, {"error": "unknown device"})
    message = await queue(clock.now())
    attempts = services.settings.outbox_max_attempts
    assert attempts == 8
    for _ in range(attempts):
        assert await deliver_due(services, now=clock.now(), limit=10) == 1
        row = await OutboxMessage.get(id=message.id)
        clock.set(max(clock.now(), row.next_attempt_at))
    row = await OutboxMessage.get(id=message.id)
    assert (row.status, row.attempts) == (OutboxStatus.DEAD, attempts)
    assert row.last_error == 'HTTP 400: {"error": "unknown device"}'
    clock.advance(timedelta(days=30))
    assert await deliver_due(services, now=clock.now(), limit=10) == 0
    assert len(gateway.posts()) == attempts
    assert metric(services, "member_api_outbox_dead_total", "APP_PUSH") == 1


async def test_a_hanging_gateway_times_out_as_a_failed_attempt(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    gateway.hang_seconds = 2.0
    message = await queue(clock.now())
    assert await deliver_one(services, message.id) is DeliveryOutcome.RETRY
    row = await OutboxMessage.get(id=message.id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert row.last_error == "no answer within 0.5 s"
    assert row.claimed_by is None


async def test_deliver_one_leaves_what_is_not_due_or_not_pending(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    later = await queue(clock.now() + timedelta(minutes=5))
    assert await deliver_one(services, later.id) is DeliveryOutcome.SKIPPED
    assert await deliver_one(services, uuid.uuid4()) is DeliveryOutcome.SKIPPED
    now = await queue(clock.now(), key="test:2")
    assert await deliver_one(services, now.id) is DeliveryOutcome.SENT
    assert await deliver_one(services, now.id) is DeliveryOutcome.SKIPPED
    assert len(gateway.posts()) == 1


async def test_a_channel_that_is_off_keeps_its_messages_waiting(
    app: Any, settings: Settings, clock: FrozenClock, gateway: GatewayStub
) -> None:
    off = build_services(
        with_gateway(settings, gateway, outbox_sms_url=""), clock=clock,
        persisted_queries=app.state.services.persisted,
    )  # fmt: skip
    try:
        sms = await queue(clock.now(), channel=Channel.SMS, recipient=str(uuid.uuid4()))
        push = await queue(clock.now(), key="test:push")
        assert await deliver_due(off, now=clock.now(), limit=10) == 1
        assert await deliver_one(off, sms.id) is DeliveryOutcome.SKIPPED
        row = await OutboxMessage.get(id=sms.id)
        assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
        assert (await OutboxMessage.get(id=push.id)).status == OutboxStatus.SENT
        assert metric(off, "member_api_outbox_pending", "SMS") == 1
    finally:
        await off.aclose()


async def test_the_lease_frees_a_message_whose_deliverer_died(
    services: Services, clock: FrozenClock, gateway: GatewayStub
) -> None:
    message = await queue(clock.now())
    # A deliverer claimed it and died before recording anything.
    await OutboxMessage.filter(id=message.id).update(
        claimed_by=uuid.uuid4(), claimed_until=clock.now() + timedelta(seconds=30)
    )
    assert await deliver_due(services, now=clock.now(), limit=10) == 0
    clock.advance(timedelta(seconds=30))
    assert await deliver_due(services, now=clock.now(), limit=10) == 1
    assert len(gateway.posts()) == 1


def test_the_deliver_command_runs_one_pass(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from datetime import UTC, datetime

    from tortoise import Tortoise

    from member_api import db
    from member_api.cli import main
    from tests.conftest import run_in_own_loop

    url = f"sqlite://{tmp_path / 'outbox.sqlite3'}"
    with gateway_stub() as gateway:
        for name, value in {
            "DATABASE_URL": url,
            "CACHE_URL": "memory://",
            "OUTBOX_PUSH_URL": f"{gateway.base_url}/push",
        }.items():
            monkeypatch.setenv(name, value)
        assert main(["migrate"]) == 0

        async def queue_three() -> None:
            await db.init_orm(url)
            try:
                for n in range(3):
                    await queue(datetime.now(UTC) - timedelta(seconds=1), key=f"cli:{n}")
            finally:
                await Tortoise.close_connections()

        run_in_own_loop(queue_three())
        capsys.readouterr()
        assert main(["outbox", "deliver", "--limit", "2"]) == 0
        assert capsys.readouterr().out.strip() == "2 messages attempted: sent 2"
        gateway.default = (500, {"error": "down"})
        assert main(["outbox", "deliver"]) == 0
        assert capsys.readouterr().out.strip() == "1 messages attempted: retry 1"
        assert main(["outbox", "deliver"]) == 0
        assert capsys.readouterr().out.strip() == "0 messages attempted"
        assert len(gateway.posts()) == 3
