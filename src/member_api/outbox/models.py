"""Outbox storage: one row per message that leaves the service."""

from __future__ import annotations

import uuid
from typing import Any

from tortoise import fields
from tortoise.models import Model

from member_api.outbox.domain import OutboxStatus


class OutboxMessage(Model):
    id = fields.UUIDField(primary_key=True, default=uuid.uuid4)
    channel = fields.CharField(max_length=20)  # a Channel
    # A device/member id (push, SMS), an openid (WeChat), an event type (webhook).
    recipient = fields.CharField(max_length=200)
    payload: fields.Field[dict[str, Any]] = fields.JSONField()
    # One message per business fact: a retried transaction never queues twice.
    dedupe_key = fields.CharField(max_length=200, unique=True)
    status = fields.CharField(max_length=10, default=OutboxStatus.PENDING.value)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField()
    # The deliverer sending it now, and until when its claim holds.
    claimed_by = fields.UUIDField(null=True)
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.CharField(max_length=500, null=True)
    created_at = fields.DatetimeField()
    sent_at = fields.DatetimeField(null=True)

    class Meta:
        table = "outbox_message"
        indexes = (("status", "next_attempt_at"),)
