"""Outbox test set-up: every channel pointed at one local gateway stub."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from member_api.outbox.domain import Channel
from member_api.outbox.models import OutboxMessage
from member_api.outbox.service import enqueue
from member_api.settings import Settings
from tests.stubs import GatewayStub

PUSH_TOKEN = "push-token"
SMS_TOKEN = "sms-token"
WEBHOOK_SECRET = "outbox-webhook-secret"


def with_gateway(settings: Settings, gateway: GatewayStub, **changes: Any) -> Settings:
    values: dict[str, Any] = {
        "outbox_push_url": f"{gateway.base_url}/push",
        "outbox_push_token": PUSH_TOKEN,
        "outbox_sms_url": f"{gateway.base_url}/sms",
        "outbox_sms_token": SMS_TOKEN,
        "outbox_wechat_base_url": gateway.base_url,
        "outbox_webhook_url": f"{gateway.base_url}/hooks/member-api",
        "outbox_webhook_secret": WEBHOOK_SECRET,
        "outbox_timeout_seconds": 0.5,
        "outbox_lease_seconds": 30.0,
    }
    return dataclasses.replace(settings, **{**values, **changes})


async def queue(
    at: datetime,
    *,
    channel: Channel = Channel.APP_PUSH,
    recipient: str = "member-1",
    payload: dict[str, Any] | None = None,
    key: str = "test:1",
) -> OutboxMessage:
    """Queue one message in a transaction of its own; returns its row."""
    async with in_transaction():
        await enqueue(
            channel=channel,
            recipient=recipient,
            payload=payload if payload is not None else {"title": "Hello"},
            dedupe_key=key,
            at=at,
        )
    return await OutboxMessage.get(dedupe_key=key)
